//! Reading Log Analytics: the plan, credential, client and runtime of a
//! pull, and the pull itself (whole, or under `--pushdown` its aggregates
//! and the events that matter).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use azure_core::http::Url;
use chrono::Utc;
use polars::prelude::DataFrame;

use crate::ingest::Ingested;
use crate::ingest::azure_monitor::auth;
use crate::ingest::azure_monitor::client::{self, LogsQueryClient};
use crate::ingest::azure_monitor::pushdown::{self, Aggregates, FlaggedPull, FlaggedWindow};
use crate::ingest::azure_monitor::query::{self, Query, Slice};
use crate::ingest::azure_monitor::{self, PullOptions, PullPlan};
use crate::ingest::parquet;
use crate::progress;
use crate::report::exit::{Exit, report_unfinished};

/// A pull's plan, client and credential, ready to run.
struct Prepared {
    plan: PullPlan,
    client: Arc<LogsQueryClient>,
    credential: auth::Credential,
    runtime: tokio::runtime::Runtime,
}

fn prepare(options: &PullOptions) -> anyhow::Result<Prepared> {
    let now = Utc::now();
    let start = query::parse_time_arg(&options.since, now).context("--since")?;
    let end = match &options.until {
        Some(until) => query::parse_time_arg(until, now).context("--until")?,
        None => now,
    };
    let query = match &options.query {
        Some(path) => Query::from_file(path)?,
        None => Query::bundled(),
    };
    let plan = PullPlan {
        workspaces: options.workspaces.clone(),
        range: Slice { start, end }.whole_seconds(),
        slice: query::parse_duration_arg(&options.slice).context("--slice")?,
        query,
    };
    azure_monitor::validate(&plan)?;
    let endpoint = Url::parse(&options.endpoint)
        .with_context(|| format!("--endpoint {}: not a URL", options.endpoint))?;
    if endpoint.scheme() != "https" {
        anyhow::bail!("--endpoint {endpoint}: tokens are only sent over https");
    }
    let transport = client::transport(options.ca_cert.as_deref())?;
    let credential = auth::credential(options.auth, &transport, &endpoint)?;
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

/// Pulls the events `options` name.
pub fn pull(options: &PullOptions, quiet: bool) -> anyhow::Result<Ingested> {
    let prepared = prepare(options)?;
    let progress = progress::bar(progress::SLICES, 0, quiet);
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
    options: &PullOptions,
    quiet: bool,
    flag: impl FnOnce(&DataFrame, &Aggregates) -> anyhow::Result<Vec<FlaggedWindow>>,
) -> anyhow::Result<PushdownPull> {
    let prepared = prepare(options)?;
    let progress = progress::bar(progress::SLICES, 0, quiet);
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

/// `kvaudit pull`: the events, saved to a Parquet file that `kvaudit audit
/// FILE.parquet` reads back.
pub fn save(options: &PullOptions, out: &Path, quiet: bool) -> anyhow::Result<Exit> {
    let mut pulled = pull(options, quiet)?;
    parquet::write(&mut pulled.events, pulled.pull.as_ref(), out)?;
    let incomplete = report_unfinished(&pulled);
    if !quiet && let Some(account) = pulled.pull.as_ref() {
        let events = pulled.records_analyzed();
        let rejected = pulled.rejections.total();
        tracing::info!(
            events,
            rejected,
            workspaces = account.workspaces.len(),
            slices = account.slices_completed,
            bytes = account.bytes,
            out = %out.display(),
            "pulled {events} events ({rejected} rejected) from {} workspace(s), {} slices, {:.1} MB read; wrote {}",
            account.workspaces.len(),
            account.slices_completed,
            account.bytes as f64 / 1e6,
            out.display()
        );
        for (reason, count, examples) in pulled.rejections.by_reason() {
            let examples: String = examples
                .iter()
                .take(3)
                .map(|e| format!("\n  {e}"))
                .collect();
            tracing::warn!(reason = %reason, count, "{count} rejected ({reason}){examples}");
        }
    }
    Ok(if incomplete {
        Exit::Incomplete
    } else {
        Exit::Ok
    })
}
