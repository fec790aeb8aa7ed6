//! Pulling Key Vault audit events live from Log Analytics workspaces, with
//! KQL, into the same normalised frame as file ingest.
//!
//! A pull cuts the time range into slices ([`query::Slice`]) and runs the
//! query once per slice and workspace, at most [`MAX_CONCURRENT`] at a time
//! (the service's per-user limit). A slice the service cannot answer whole
//! (a `PartialError` at the row or size limit, or a `504` past the server
//! timeout) is split in two and retried; one that still fails at the shortest
//! slice, or after the transport's retries, is *unfinished*: listed in the
//! pull's account ([`PullAccount`]), never silently dropped. A workspace of
//! several that refuses the query (403, 404, 400) has all its slices
//! unfinished with the service's words while the others are pulled; only
//! when every workspace refuses, or the token itself is refused, does the
//! pull stop.

pub mod auth;
pub mod client;
pub mod pushdown;
pub mod query;
pub mod response;

use std::collections::VecDeque;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{Duration, SecondsFormat};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::formats::Batch;
use super::rejections::RejectionLog;
use super::{Ingested, InputSummary};
use auth::Credential;
use client::{Answer, LogsQueryClient, QueryError};
use query::{PRELUDE_LINES, Query, Slice};
use response::{ErrorInfo, QueryResults};

/// Queries in flight at once, across workspaces: Log Analytics runs 5 per
/// user and queues the rest (a queue that can end in 429).
pub const MAX_CONCURRENT: usize = 5;

/// Where a pull starts by default: a duration back from now.
pub const DEFAULT_SINCE: &str = "7d";
/// The length of a pull's first time slices by default.
pub const DEFAULT_SLICE: &str = "6h";

/// Where and how to read from Log Analytics, as the user wrote it (times
/// and durations are parsed when the pull is prepared, against its start).
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// What to query: workspace IDs (GUIDs), and key vault resource IDs for
    /// resource-centric queries (`--resource`), told apart by
    /// [`client::is_resource_id`].
    pub workspaces: Vec<String>,
    /// Start of the time range: a duration back from now, an RFC 3339 time or a date.
    pub since: String,
    /// End of the time range (exclusive); `None`: now.
    pub until: Option<String>,
    /// A KQL file instead of the bundled query.
    pub query: Option<std::path::PathBuf>,
    pub auth: auth::AuthMode,
    /// The Log Analytics endpoint's URL.
    pub endpoint: String,
    /// Extra trusted CA certificates (PEM).
    pub ca_cert: Option<std::path::PathBuf>,
    /// Length of the first time slices, as a duration.
    pub slice: String,
}

/// What to pull.
pub struct PullPlan {
    pub workspaces: Vec<String>,
    pub range: Slice,
    /// Length of the first slices; busy ones are split further.
    pub slice: Duration,
    pub query: Query,
}

/// A slice that could not be read completely, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UnfinishedSlice {
    pub workspace: String,
    pub slice: String,
    pub reason: String,
}

/// The account of a pull, for summary.json and the exit code (and kept in
/// the Parquet file a pull writes).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PullAccount {
    pub workspaces: Vec<String>,
    pub time_from: String,
    pub time_to: String,
    pub query: String,
    /// Queries that returned their slice whole.
    pub slices_completed: u64,
    /// Slices split because the service could not answer them whole.
    pub slices_split: u64,
    pub rows: u64,
    /// Response bytes (decompressed).
    pub bytes: u64,
    pub unfinished: Vec<UnfinishedSlice>,
}

impl PullAccount {
    pub fn is_complete(&self) -> bool {
        self.unfinished.is_empty()
    }

    /// Adds another pull's account (several pulls read in one audit).
    pub fn absorb(&mut self, other: PullAccount) {
        for workspace in other.workspaces {
            if !self.workspaces.contains(&workspace) {
                self.workspaces.push(workspace);
            }
        }
        if self.time_from.is_empty() || other.time_from < self.time_from {
            self.time_from = other.time_from;
        }
        self.time_to = self.time_to.clone().max(other.time_to);
        if self.query.is_empty() {
            self.query = other.query;
        }
        self.slices_completed += other.slices_completed;
        self.slices_split += other.slices_split;
        self.rows += other.rows;
        self.bytes += other.bytes;
        self.unfinished.extend(other.unfinished);
    }
}

/// One workspace's slice of one query, queued or running.
#[derive(Debug, Clone, Copy)]
struct Job {
    workspace: usize,
    /// Index into the queries of [`run_queries`].
    query: usize,
    slice: Slice,
}

/// What to do with a finished query.
enum Outcome {
    Rows { body: Vec<u8> },
    Split(String),
    Unfinished(String),
}

/// Why a whole pull stops: the same failure would meet every other slice.
fn fatal(
    error: QueryError,
    workspace: &str,
    client: &LogsQueryClient,
    credential: &Credential,
    query: &Query,
) -> anyhow::Error {
    match error {
        QueryError::Credential(e) => anyhow::anyhow!(
            "{} could not get a token: {}\n  what to do: {}",
            credential.name,
            error_chain(&e),
            credential.advice
        ),
        QueryError::Rejected { status, error } => {
            anyhow::anyhow!(
                "{}",
                explain_rejection(status, &error, workspace, client, credential, query)
            )
        }
        QueryError::Untrusted(e) => anyhow::anyhow!(
            "{}: {}\n  what to do: behind a TLS-inspecting proxy, pass its CA certificate with \
             --ca-cert FILE (or SSL_CERT_FILE)",
            client.endpoint(),
            error_chain(&e)
        ),
        other => anyhow::anyhow!("workspace {workspace}: {other:?}"),
    }
}

/// An error and its causes, each said once (the SDK wraps errors in
/// context messages that hide the cause otherwise).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        // The retry policy's note on an error it passes through says nothing to a user.
        let noise = text == "non-transport error occurred which will not be retried";
        if !noise && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// 400/401/403/404 in words.
fn explain_rejection(
    status: u16,
    error: &ErrorInfo,
    workspace: &str,
    client: &LogsQueryClient,
    credential: &Credential,
    query: &Query,
) -> String {
    let codes = error.codes().join("/");
    let message = error.best_message();
    match status {
        400 => {
            let at = match error.position() {
                Some((line, pos, token)) => {
                    let line = line.saturating_sub(PRELUDE_LINES).max(1);
                    let token = token.map(|t| format!(" at `{t}`")).unwrap_or_default();
                    format!(" (line {line}, column {pos}{token})")
                }
                None => String::new(),
            };
            format!(
                "workspace {workspace}: the service rejected the query {}{at}: {message} [{codes}]\n  \
                 what to do: fix the KQL; a table or column the workspace does not have needs \
                 `union isfuzzy=true` or `column_ifexists` (see queries/README.md)",
                query.name
            )
        }
        401 => format!(
            "workspace {workspace}: the service did not accept the token from {}: {message} [{codes}]\n  \
             what to do: {}",
            credential.name, credential.advice
        ),
        403 if codes.contains("Token") => format!(
            "workspace {workspace}: the token from {} is not valid for {}: {message} [{codes}]\n  \
             what to do: check that --endpoint matches the cloud you signed in to",
            credential.name,
            client.endpoint()
        ),
        403 if client::is_resource_id(workspace) => format!(
            "resource {workspace}: the identity signed in with {} may not read its logs: \
             {message} [{codes}]\n  what to do: grant it Reader (or Log Analytics Reader) on the \
             vault, or on its resource group (a new role assignment can take up to an hour to apply)",
            credential.name
        ),
        403 => format!(
            "workspace {workspace}: the identity signed in with {} may not read this workspace: \
             {message} [{codes}]\n  what to do: grant it the Log Analytics Reader role on the \
             workspace (a new role assignment can take up to an hour to apply)",
            credential.name
        ),
        404 if client::is_resource_id(workspace) => format!(
            "resource {workspace} was not found at {}: {message} [{codes}]\n  what to do: check \
             the vault's resource ID (`az keyvault show --name NAME --query id -o tsv`), that its \
             diagnostic setting sends its logs to a workspace, and the --endpoint of its cloud",
            client.endpoint()
        ),
        404 => format!(
            "workspace {workspace} was not found at {}: {message} [{codes}]\n  what to do: use the \
             workspace ID (the GUID on the workspace's Overview page, not its name or resource ID) \
             and the --endpoint of its cloud",
            client.endpoint()
        ),
        _ => format!("workspace {workspace}: HTTP {status}: {message} [{codes}]"),
    }
}

fn classify(answer: Result<Answer, QueryError>) -> Result<Outcome, QueryError> {
    match answer {
        // The service answers 200 without a body to a request it did not read
        // as JSON; that says nothing about the slice's rows.
        Ok(Answer::Body(body)) if body.is_empty() => Ok(Outcome::Unfinished(
            "the service answered HTTP 200 with an empty body".into(),
        )),
        Ok(Answer::Body(body)) => Ok(Outcome::Rows { body }),
        // 204: the workspace holds no data.
        Ok(Answer::NoContent) => Ok(Outcome::Rows { body: Vec::new() }),
        Err(QueryError::Timeout(error)) => Ok(Outcome::Split(format!(
            "the query ran past the server timeout (504 {})",
            error.best_message()
        ))),
        Err(QueryError::Unavailable { status, error }) => Ok(Outcome::Unfinished(format!(
            "HTTP {status} after retries: {}",
            error.best_message()
        ))),
        // A local read timeout is a slow query like a 504: a shorter slice helps.
        Err(QueryError::Transport(e)) if timed_out(&e) => Ok(Outcome::Split(format!(
            "no answer before the read timeout: {}",
            error_chain(&e)
        ))),
        Err(QueryError::Transport(e)) => Ok(Outcome::Unfinished(format!(
            "no answer from the service after retries: {}",
            error_chain(&e)
        ))),
        Err(other) => Err(other),
    }
}

/// Whether a transport error, or one of its causes, is a timeout.
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(c) = cause {
        let timeout = c
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
            || c.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut);
        if timeout {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Whether a rejection belongs to one workspace (it may not be read, it
/// does not exist, its tables differ), so that the others are still pulled;
/// a token the service refuses (401) would fail in every workspace.
fn rejects_only_this_workspace(error: &QueryError) -> bool {
    matches!(error, QueryError::Rejected { status, .. } if *status != 401)
}

/// Progress: slices done of slices known, rows and bytes so far.
fn describe_progress(progress: &ProgressBar, account: &PullAccount) {
    progress.set_message(format!(
        "{} rows, {:.1} MB",
        account.rows,
        account.bytes as f64 / 1e6
    ));
}

/// What a query's answers become: each slice's `200` body is handed to a
/// collector, which keeps what it read or says why it could not.
pub(crate) trait Collect {
    /// Reads one slice's body (empty for `204`); an error leaves the slice
    /// unfinished.
    fn collect(
        &mut self,
        workspace: usize,
        body: &[u8],
        location: &str,
    ) -> Result<Collected, String>;
}

/// What a collector made of one answer.
pub(crate) enum Collected {
    /// The slice, whole: this many rows.
    Rows(u64),
    /// The service answered part of the slice (why): it is split and asked again.
    Partial(String),
}

/// The events of a slice, normalised exactly as file ingest would.
#[derive(Default)]
pub(crate) struct EventCollector {
    frames: Vec<polars::prelude::DataFrame>,
    rejections: RejectionLog,
    /// Per workspace: rows read, rows rejected.
    per_workspace: Vec<(u64, u64)>,
}

impl Collect for EventCollector {
    fn collect(
        &mut self,
        workspace: usize,
        body: &[u8],
        location: &str,
    ) -> Result<Collected, String> {
        match decode(body, location)? {
            Decoded::Complete(batch) => {
                if self.per_workspace.len() <= workspace {
                    self.per_workspace.resize(workspace + 1, (0, 0));
                }
                self.per_workspace[workspace].0 += batch.records;
                self.per_workspace[workspace].1 += batch.rejections.total();
                self.rejections.merge(batch.rejections);
                if batch.frame.height() > 0 {
                    self.frames.push(batch.frame);
                }
                Ok(Collected::Rows(batch.records))
            }
            Decoded::Partial(reason) => Ok(Collected::Partial(reason)),
        }
    }
}

impl EventCollector {
    /// The events read, as an ingest of `plan`'s workspaces.
    fn into_ingested(
        mut self,
        workspaces: &[String],
        account: PullAccount,
    ) -> anyhow::Result<Ingested> {
        self.per_workspace.resize(workspaces.len(), (0, 0));
        let (events, records_duplicate) =
            super::dedup::drop_duplicates(super::combine(self.frames)?)?;
        let records_read = self.per_workspace.iter().map(|(read, _)| read).sum();
        let inputs = workspaces
            .iter()
            .zip(&self.per_workspace)
            .map(|(workspace, (read, rejected))| InputSummary {
                name: format!("workspace {workspace}"),
                layout: Some("log-analytics"),
                records_read: *read,
                records_rejected: *rejected,
                lines: 0,
            })
            .collect();
        Ok(Ingested {
            events,
            rejections: self.rejections,
            records_read,
            records_duplicate,
            inputs,
            pull: Some(account),
        })
    }
}

/// A new pull's account for `plan`.
fn account_of(plan: &PullPlan) -> PullAccount {
    PullAccount {
        workspaces: plan.workspaces.clone(),
        time_from: plan.range.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        time_to: plan.range.end.to_rfc3339_opts(SecondsFormat::Secs, true),
        query: plan.query.name.clone(),
        ..PullAccount::default()
    }
}

/// Runs the pull; events are normalised exactly as file ingest would.
pub async fn pull(
    client: Arc<LogsQueryClient>,
    credential: &Credential,
    plan: &PullPlan,
    progress: &ProgressBar,
) -> anyhow::Result<Ingested> {
    let mut account = account_of(plan);
    let mut events = EventCollector::default();
    let slices = Slice::cover(plan.range, plan.slice);
    run_query(
        &client,
        credential,
        plan,
        &plan.query,
        slices,
        progress,
        &mut account,
        &mut events,
    )
    .await?;
    events.into_ingested(&plan.workspaces, account)
}

/// Runs `query` over `slices` in every workspace of `plan`, splitting
/// slices the service cannot answer whole, and hands each answer to `sink`;
/// the account records slices, rows, bytes and unfinished slices.
#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one part of the pull (client, credential, plan, slice, progress, account, collector); a struct of them would only be unpacked again"
)]
pub(crate) async fn run_query(
    client: &Arc<LogsQueryClient>,
    credential: &Credential,
    plan: &PullPlan,
    query: &Query,
    slices: Vec<Slice>,
    progress: &ProgressBar,
    account: &mut PullAccount,
    sink: &mut dyn Collect,
) -> anyhow::Result<()> {
    let work = slices.into_iter().map(|slice| (0, slice)).collect();
    run_queries(
        client,
        credential,
        plan,
        std::slice::from_ref(query),
        work,
        progress,
        account,
        sink,
    )
    .await
}

/// [`run_query`] for several queries at once (the flagged-window queries of
/// `--pushdown`, one per batch of windows), so that they share the
/// concurrency limit: `work` holds (index into `queries`, slice) pairs.
#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one part of the pull (client, credential, plan, slice, progress, account, collector); a struct of them would only be unpacked again"
)]
pub(crate) async fn run_queries(
    client: &Arc<LogsQueryClient>,
    credential: &Credential,
    plan: &PullPlan,
    queries: &[Query],
    work: Vec<(usize, Slice)>,
    progress: &ProgressBar,
    account: &mut PullAccount,
    sink: &mut dyn Collect,
) -> anyhow::Result<()> {
    let mut pending: VecDeque<Job> = VecDeque::new();
    for (query, slice) in work {
        for workspace in 0..plan.workspaces.len() {
            pending.push_back(Job {
                workspace,
                query,
                slice,
            });
        }
    }
    progress.inc_length(pending.len() as u64);
    // Per workspace, the longest slice not yet known to be too much for one
    // query: slices still queued are cut to it before they are sent, so a busy
    // workspace pays for one oversized query, not one per slice.
    let first = pending
        .iter()
        .map(|j| j.slice.duration())
        .max()
        .unwrap_or(plan.slice);
    let mut longest = vec![first; plan.workspaces.len()];
    // Per workspace, why the service refuses it, once it has: its other
    // slices are not asked for and are unfinished for the same reason.
    let mut refused: Vec<Option<String>> = vec![None; plan.workspaces.len()];
    let mut running = JoinSet::new();
    loop {
        while running.len() < MAX_CONCURRENT
            && let Some(mut job) = pending.pop_front()
        {
            while job.slice.duration() > longest[job.workspace]
                && let Some((first, second)) = job.slice.split()
            {
                progress.inc_length(1);
                pending.push_front(Job {
                    slice: second,
                    ..job
                });
                job.slice = first;
            }
            let client = client.clone();
            let workspace = plan.workspaces[job.workspace].clone();
            let text = queries[job.query].for_slice(&job.slice);
            running.spawn(async move {
                let answer = client.query(&workspace, &text, &job.slice.timespan()).await;
                (job, answer)
            });
        }
        let Some(finished) = running.join_next().await else {
            break;
        };
        let (job, answer) = finished.context("a query task failed")?;
        let workspace = &plan.workspaces[job.workspace];
        let outcome = match classify(answer) {
            Ok(outcome) => outcome,
            Err(error)
                if rejects_only_this_workspace(&error)
                    && (refused[job.workspace].is_some()
                        || refused
                            .iter()
                            .enumerate()
                            .any(|(i, r)| i != job.workspace && r.is_none())) =>
            {
                // One workspace of several refuses: pull the others, and
                // list this one's slices as unfinished with the service's words.
                let reason = refused[job.workspace]
                    .get_or_insert_with(|| {
                        let why = fatal(error, workspace, client, credential, &queries[job.query]);
                        tracing::warn!("{why:#}; the other workspaces are still pulled");
                        format!("{why:#}")
                    })
                    .clone();
                let mut skipped = vec![job];
                pending.retain(|p| {
                    let same = p.workspace == job.workspace;
                    if same {
                        skipped.push(*p);
                    }
                    !same
                });
                for skipped in skipped {
                    progress.inc(1);
                    account.unfinished.push(UnfinishedSlice {
                        workspace: workspace.clone(),
                        slice: skipped.slice.to_string(),
                        reason: reason.clone(),
                    });
                }
                describe_progress(progress, account);
                continue;
            }
            Err(error) => {
                running.abort_all();
                return Err(fatal(
                    error,
                    workspace,
                    client,
                    credential,
                    &queries[job.query],
                ));
            }
        };
        let location = format!("workspace {workspace} slice {}", job.slice);
        let outcome = match outcome {
            Outcome::Rows { body } => {
                account.bytes += body.len() as u64;
                match sink.collect(job.workspace, &body, &location) {
                    Ok(Collected::Rows(rows)) => {
                        account.slices_completed += 1;
                        account.rows += rows;
                        progress.inc(1);
                        None
                    }
                    Ok(Collected::Partial(reason)) => Some(Outcome::Split(reason)),
                    Err(reason) => Some(Outcome::Unfinished(reason)),
                }
            }
            other => Some(other),
        };
        match outcome {
            None => {}
            Some(Outcome::Split(reason)) => match job.slice.split() {
                Some((first, second)) => {
                    account.slices_split += 1;
                    longest[job.workspace] = longest[job.workspace].min(first.duration());
                    progress.inc_length(1);
                    pending.push_front(Job {
                        slice: second,
                        ..job
                    });
                    pending.push_front(Job {
                        slice: first,
                        ..job
                    });
                }
                None => {
                    progress.inc(1);
                    account.unfinished.push(UnfinishedSlice {
                        workspace: workspace.clone(),
                        slice: job.slice.to_string(),
                        reason: format!(
                            "{reason}, even for a slice of {}s",
                            job.slice.duration().num_seconds()
                        ),
                    });
                }
            },
            Some(Outcome::Unfinished(reason)) => {
                progress.inc(1);
                account.unfinished.push(UnfinishedSlice {
                    workspace: workspace.clone(),
                    slice: job.slice.to_string(),
                    reason,
                });
            }
            Some(Outcome::Rows { .. }) => unreachable!("rows are collected above"),
        }
        describe_progress(progress, account);
    }
    account
        .unfinished
        .sort_by(|a, b| (&a.workspace, &a.slice).cmp(&(&b.workspace, &b.slice)));
    Ok(())
}

enum Decoded {
    Complete(super::formats::BatchOutcome),
    /// The service answered part of the slice.
    Partial(String),
}

/// A `200` body as result tables; an unreadable body is an error (the slice is unfinished).
pub(crate) fn parse_answer(body: &[u8]) -> Result<QueryResults<'_>, String> {
    serde_json::from_slice(body).map_err(|e| {
        format!("the service's answer is not a query result ({e}); the slice was not read")
    })
}

/// Why the answer holds only part of the slice (`Ok(Some)`: split and ask
/// again), or the error it carries instead of rows.
pub(crate) fn partial(results: &QueryResults<'_>) -> Result<Option<String>, String> {
    match &results.error {
        None => Ok(None),
        Some(error) if error.code == "PartialError" && error.is_result_too_large() => {
            Ok(Some(format!("partial result: {}", error.best_message())))
        }
        // A warning of a fuzzy union, a function's error: a shorter slice
        // would meet it again, so halving would only multiply the queries.
        Some(error) if error.code == "PartialError" => Err(format!(
            "the service answered part of the slice, for a reason a shorter slice does not avoid: \
             {} [{}]; the slice was not read",
            error.best_message(),
            error.codes().join("/")
        )),
        Some(error) => Err(format!(
            "the answer carries an error: {} [{}]",
            error.best_message(),
            error.codes().join("/")
        )),
    }
}

/// Decodes a `200` body; an unreadable body is an error (the slice is unfinished).
fn decode(body: &[u8], location: &str) -> Result<Decoded, String> {
    let mut batch = Batch::new(location, 0);
    if body.is_empty() {
        return batch
            .finish()
            .map(Decoded::Complete)
            .map_err(|e| e.to_string());
    }
    let results = parse_answer(body)?;
    if let Some(reason) = partial(&results)? {
        return Ok(Decoded::Partial(reason));
    }
    let table = results
        .tables
        .iter()
        .find(|t| t.name == "PrimaryResult")
        .or(results.tables.first());
    if let Some(table) = table {
        response::add_rows(&mut batch, table);
    }
    batch
        .finish()
        .map(Decoded::Complete)
        .map_err(|e| e.to_string())
}

/// Checks a plan before any query runs.
pub fn validate(plan: &PullPlan) -> anyhow::Result<()> {
    if plan.range.start >= plan.range.end {
        bail!(
            "the time range {} is empty: --since must be before --until",
            plan.range
        );
    }
    for workspace in &plan.workspaces {
        if client::is_resource_id(workspace) {
            let lower = workspace.to_ascii_lowercase();
            let segments: Vec<&str> = lower.trim_end_matches('/').split('/').collect();
            // "", subscriptions, SUB, resourcegroups, RG, providers, microsoft.keyvault, vaults, NAME
            let vault = segments.len() == 9
                && segments[3] == "resourcegroups"
                && segments[5] == "providers"
                && segments[6] == "microsoft.keyvault"
                && segments[7] == "vaults"
                && segments.iter().skip(1).all(|s| !s.is_empty())
                && !workspace.contains(['?', '#', ' ']);
            if !vault {
                bail!(
                    "--resource {workspace:?}: give a key vault's resource ID \
                     (/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/NAME, \
                     from `az keyvault show --name NAME --query id -o tsv`)"
                );
            }
            continue;
        }
        if workspace.is_empty() || workspace.contains(['/', '?', '#', ' ']) {
            bail!(
                "--workspace {workspace:?}: give the workspace ID (a GUID from the workspace's \
                 Overview page)"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport_error(cause: std::io::Error) -> QueryError {
        QueryError::Transport(azure_core::Error::with_error(
            azure_core::error::ErrorKind::Io,
            cause,
            "sending the request",
        ))
    }

    #[test]
    fn a_read_timeout_splits_its_slice_and_a_refused_connection_does_not() {
        let timeout = transport_error(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "operation timed out",
        ));
        assert!(matches!(classify(Err(timeout)), Ok(Outcome::Split(_))));
        let refused = transport_error(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert!(matches!(classify(Err(refused)), Ok(Outcome::Unfinished(_))));
    }

    #[test]
    fn only_a_workspace_level_rejection_spares_the_other_workspaces() {
        let rejected = |status| QueryError::Rejected {
            status,
            error: ErrorInfo::default(),
        };
        assert!(rejects_only_this_workspace(&rejected(403)));
        assert!(rejects_only_this_workspace(&rejected(404)));
        assert!(!rejects_only_this_workspace(&rejected(401)));
    }
}
