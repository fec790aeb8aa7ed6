//! `kvaudit audit`.

use std::path::PathBuf;

use clap::Args;

use super::shared::{PolicySelection, RateArgs, WorkspaceArgs};
use crate::analyze::policy::Severity;
use crate::analyze::privilege::DEFAULT_MIN_OBSERVATION_DAYS;
use crate::report::OutputFormat;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Log files or directories (walked for .json, .jsonl, .ndjson, .csv, .gz and .parquet
    /// files), glob patterns, or - for standard input. Formats and gzip are detected per file.
    #[arg(required_unless_present_any = ["workspaces", "resources"], value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub log_analytics: WorkspaceArgs,
    /// Count the rate windows and the permission use in the workspace (KQL
    /// summarize, queries/pushdown-*.kql) and pull only those aggregates, the
    /// events the event policies look at and every event of the windows Cedar
    /// flags. First-seen, caching and sequence analyses need every event and
    /// do not run; see docs/pushdown.md. Workspaces only: the aggregates
    /// would not count the events of log files.
    #[arg(long, requires = "workspaces", conflicts_with_all = ["paths", "query"])]
    pub pushdown: bool,
    /// Directory for summary.json and the reports.
    #[arg(long, short, default_value = "reports", value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub policy: PolicySelection,
    #[command(flatten)]
    pub rates: RateArgs,
    /// Exit with code 1 if any finding is at or above this severity
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Exit with code 1 if any record was rejected.
    #[arg(long)]
    pub strict: bool,
    /// Exit as usual when no record was analysed (no input files, every record
    /// rejected), not with code 4.
    #[arg(long)]
    pub allow_empty: bool,
    /// Files to write into --out (comma-separated): json, csv, html, sarif.
    /// summary.json is always written.
    #[arg(long, value_delimiter = ',', default_value = "json,csv,html")]
    pub format: Vec<OutputFormat>,
    /// Print findings as JSON lines on stdout instead of the summary table.
    #[arg(long, visible_alias = "json")]
    pub jsonl: bool,
    /// Do not print the summary or the progress bar (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the time each stage took to stderr (`timing <stage> <seconds>s peak-rss <MB>MB`).
    #[arg(long)]
    pub timings: bool,
    /// Inventory: `az keyvault show`, `az role assignment list`, `az ad sp list`
    /// JSON output (files or folders). Turns on the least-privilege analysis
    /// and unused-permissions.csv. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// Days of logs a vault needs before its least-privilege recommendations
    /// are firm (fewer: marked provisional).
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_MIN_OBSERVATION_DAYS)]
    pub min_observation_days: u32,
}
