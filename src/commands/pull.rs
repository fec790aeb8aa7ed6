//! `kvaudit pull`: read Key Vault audit events from Log Analytics workspaces
//! into a Parquet file (which `kvaudit audit FILE.parquet` reads back), and
//! the `--workspace` options `audit` shares.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use azure_core::http::Url;
use chrono::Utc;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polars::prelude::DataFrame;

use crate::cli::exit;
use crate::ingest::Ingested;
use crate::ingest::azure_monitor::auth::{self, AuthMode};
use crate::ingest::azure_monitor::client::{self, LogsQueryClient};
use crate::ingest::azure_monitor::pushdown::{self, Aggregates, FlaggedPull, FlaggedWindow};
use crate::ingest::azure_monitor::query::{self, Query, Slice};
use crate::ingest::azure_monitor::{self, PullPlan};

/// Where and how to read from Log Analytics.
#[derive(Debug, Clone, Args)]
pub struct WorkspaceArgs {
    /// Log Analytics workspace ID (GUID) to read Key Vault audit events from;
    /// repeat for several workspaces.
    #[arg(long = "workspace", value_name = "ID")]
    pub workspaces: Vec<String>,
    /// Start of the time range: a duration back from now (12h, 7d, 2w), an
    /// RFC 3339 time or a date.
    #[arg(long, default_value = "7d", value_name = "TIME")]
    pub since: String,
    /// End of the time range (exclusive); default now.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// KQL file to run instead of the bundled queries/keyvault-audit.kql
    /// (it must filter on kvaudit_start and kvaudit_end).
    #[arg(long, value_name = "FILE")]
    pub query: Option<PathBuf>,
    /// Credential: auto, managed-identity, workload-identity, azure-cli or
    /// client-secret (secret from AZURE_CLIENT_SECRET only).
    #[arg(long, value_enum, default_value = "auto")]
    pub auth: AuthMode,
    /// Log Analytics endpoint: https://api.loganalytics.us (US Government),
    /// https://api.loganalytics.azure.cn (China).
    #[arg(long, default_value = client::PUBLIC_ENDPOINT, value_name = "URL")]
    pub endpoint: String,
    /// Extra trusted CA certificates (PEM), e.g. a TLS-inspecting proxy's;
    /// SSL_CERT_FILE is honoured too.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Length of the first time slices; slices the service cannot answer
    /// whole are halved.
    #[arg(long, default_value = "6h", value_name = "DURATION", hide = true)]
    pub slice: String,
}

/// `--pushdown`, beside [`WorkspaceArgs`] rather than in it: the scheduled
/// job builds its `WorkspaceArgs` from its configuration, which has no
/// pushdown setting (yet).
#[derive(Debug, Clone, Args)]
pub struct PushdownArgs {
    /// Count the rate windows and the permission use in the workspace (KQL
    /// summarize, queries/pushdown-*.kql) and pull only those aggregates, the
    /// events the event policies look at and every event of the windows Cedar
    /// flags. First-seen, caching and sequence analyses need every event and
    /// do not run; see docs/pushdown.md.
    #[arg(long, requires = "workspaces")]
    pub pushdown: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    #[command(flatten)]
    pub pushdown: PushdownArgs,
    /// Parquet file to write the normalised events to.
    #[arg(long, value_name = "FILE.parquet")]
    pub out: PathBuf,
    /// Do not print the summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} slices {pos}/{len} [{wide_bar}] {msg}, {elapsed} elapsed",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A pull's plan, client and credential, ready to run.
struct Prepared {
    plan: PullPlan,
    client: Arc<LogsQueryClient>,
    credential: auth::Credential,
    runtime: tokio::runtime::Runtime,
}

fn prepare(args: &WorkspaceArgs) -> anyhow::Result<Prepared> {
    let now = Utc::now();
    let start = query::parse_time_arg(&args.since, now).context("--since")?;
    let end = match &args.until {
        Some(until) => query::parse_time_arg(until, now).context("--until")?,
        None => now,
    };
    let query = match &args.query {
        Some(path) => Query::from_file(path)?,
        None => Query::bundled(),
    };
    let plan = PullPlan {
        workspaces: args.workspaces.clone(),
        range: Slice { start, end }.whole_seconds(),
        slice: query::parse_duration_arg(&args.slice).context("--slice")?,
        query,
    };
    azure_monitor::validate(&plan)?;
    let endpoint = Url::parse(&args.endpoint)
        .with_context(|| format!("--endpoint {}: not a URL", args.endpoint))?;
    if endpoint.scheme() != "https" {
        anyhow::bail!("--endpoint {endpoint}: tokens are only sent over https");
    }
    let transport = client::transport(args.ca_cert.as_deref())?;
    let credential = auth::credential(args.auth, &transport)?;
    let client = Arc::new(LogsQueryClient::new(
        endpoint,
        credential.token.clone(),
        transport,
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(Prepared {
        plan,
        client,
        credential,
        runtime,
    })
}

/// Pulls the events `args` name.
pub fn pull(args: &WorkspaceArgs) -> anyhow::Result<Ingested> {
    let prepared = prepare(args)?;
    let progress = progress_bar();
    let pulled = prepared.runtime.block_on(azure_monitor::pull(
        prepared.client.clone(),
        &prepared.credential,
        &prepared.plan,
        &progress,
    ));
    progress.finish_and_clear();
    pulled
}

/// What `--pushdown` brought.
pub struct PushdownPull {
    /// The events that matter, and every event of the flagged windows.
    pub ingested: Ingested,
    pub aggregates: Aggregates,
    /// What the second phase added (`added_rows` marks its rows in
    /// `ingested.events`).
    pub flagged: FlaggedPull,
}

/// `--pushdown`: the events that matter and the workspace's aggregates,
/// then every event of the rate windows `flag` (Cedar, in the caller)
/// flags from them.
pub fn pull_pushdown(
    args: &WorkspaceArgs,
    flag: impl FnOnce(&DataFrame, &Aggregates) -> anyhow::Result<Vec<FlaggedWindow>>,
) -> anyhow::Result<PushdownPull> {
    if let Some(path) = &args.query {
        anyhow::bail!(
            "--query {} and --pushdown: --pushdown runs its own queries \
             (queries/pushdown-*.kql); drop one of the two",
            path.display()
        );
    }
    let prepared = prepare(args)?;
    let progress = progress_bar();
    let pulled = prepared.runtime.block_on(async {
        let (mut ingested, aggregates) = pushdown::pull(
            prepared.client.clone(),
            &prepared.credential,
            &prepared.plan,
            &progress,
        )
        .await?;
        let windows = flag(&ingested.events, &aggregates)?;
        let flagged = pushdown::pull_flagged(
            prepared.client.clone(),
            &prepared.credential,
            &prepared.plan,
            &windows,
            &progress,
            &mut ingested,
        )
        .await?;
        anyhow::Ok(PushdownPull {
            ingested,
            aggregates,
            flagged,
        })
    });
    progress.finish_and_clear();
    pulled
}

/// Says which slices are missing; true when some are.
pub fn report_unfinished(ingested: &Ingested) -> bool {
    let Some(account) = &ingested.pull else {
        return false;
    };
    for slice in &account.unfinished {
        tracing::warn!(
            workspace = %slice.workspace,
            "workspace {} slice {} was not read: {}",
            slice.workspace, slice.slice, slice.reason
        );
    }
    if !account.is_complete() {
        tracing::warn!(
            "{} slice(s) unfinished; the events of those time ranges are missing \
             (listed under pull.unfinished in summary.json)",
            account.unfinished.len()
        );
    }
    !account.is_complete()
}

pub fn run(args: &PullArgs) -> anyhow::Result<u8> {
    if args.workspace.workspaces.is_empty() {
        anyhow::bail!("name at least one --workspace ID");
    }
    if args.pushdown.pushdown {
        // A Parquet file of kvaudit's holds events; the aggregates of a
        // pushdown describe one time range and would have to travel with
        // them, and `audit FILE.parquet` would have to know to use them.
        anyhow::bail!(
            "kvaudit pull does not take --pushdown: a pull saves events, and --pushdown \
             leaves most of them in the workspace. Run `kvaudit audit --workspace ID \
             --pushdown` to audit from the workspace's aggregates, or pull without it"
        );
    }
    let mut pulled = pull(&args.workspace)?;
    crate::ingest::parquet::write(&mut pulled.events, pulled.pull.as_ref(), &args.out)?;
    let incomplete = report_unfinished(&pulled);
    if !args.quiet {
        let account = pulled.pull.as_ref().expect("a pull has an account");
        eprintln!(
            "kvaudit: {} events ({} rejected) from {} workspace(s), {} slices, {:.1} MB read; wrote {}",
            pulled.records_analyzed(),
            pulled.rejections.total(),
            account.workspaces.len(),
            account.slices_completed,
            account.bytes as f64 / 1e6,
            args.out.display()
        );
        for (reason, count, examples) in pulled.rejections.by_reason() {
            eprintln!("kvaudit: {count} rejected ({reason})");
            for example in examples.iter().take(3) {
                eprintln!("  {example}");
            }
        }
    }
    Ok(if incomplete {
        exit::INCOMPLETE
    } else {
        exit::OK
    })
}
