//! Command-line interface: argument definitions, dispatch and exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Exit codes, the contract with scheduled jobs.
pub mod exit {
    /// The audit ran and nothing crossed the line the caller drew.
    pub const OK: u8 = 0;
    /// The audit ran and failed the caller's bar: a finding at or above
    /// `--fail-on`, or a rejected record under `--strict`.
    pub const FAILED_CHECK: u8 = 1;
    /// The audit could not run: bad arguments, unreadable paths, an internal error.
    pub const ERROR: u8 = 2;
    /// Part of a Log Analytics pull could not be read (summary.json lists the slices).
    pub const INCOMPLETE: u8 = 3;
}

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the audit ran; nothing failed the checks you asked for
  1  the audit ran and failed a check: a finding at or above --fail-on,
     or, with --strict, a rejected record
  2  the audit could not run (bad arguments, missing paths, internal error)
  3  some time slices of a --workspace pull could not be read (listed in summary.json)";

#[derive(Debug, Parser)]
#[command(name = "kvaudit", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// How kvaudit's own messages on stderr are written: text, or JSON lines
    /// (timestamp, level, message, fields) for a log collector. Reports are unaffected.
    /// [default: text, or the `log-format` of `run`'s configuration]
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<crate::logging::LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit Key Vault audit logs: files, directories, globs, or - for stdin.
    #[command(after_help = EXIT_CODES_HELP)]
    Audit(AuditArgs),
    /// Run the scheduled compliance job from a configuration file: read what
    /// is new since the last run, judge it against the kept history, report.
    #[command(after_help = EXIT_CODES_HELP)]
    Run(commands::run::RunArgs),
    /// Write a commented example configuration for `kvaudit run`.
    Init(commands::run::InitArgs),
    /// Save Key Vault audit events from Log Analytics workspaces to a Parquet file.
    #[command(after_help = EXIT_CODES_HELP)]
    Pull(commands::pull::PullArgs),
    /// Validate policies against the schema, or run their test cases.
    Policy(commands::policy::PolicyArgs),
    /// Show the Cedar request built from one event and which policies matched.
    Explain(commands::explain::ExplainArgs),
}

/// Output files `audit` can write into `--out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// summary.json and findings.json
    Json,
    /// findings.csv and identities.csv
    Csv,
    /// report.html
    Html,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Log files or directories (walked for .json, .jsonl, .ndjson, .csv, .gz and .parquet
    /// files), glob patterns, or - for standard input. Formats and gzip are detected per file.
    #[arg(required_unless_present = "workspaces", value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub log_analytics: commands::pull::WorkspaceArgs,
    #[command(flatten)]
    pub pushdown: commands::pull::PushdownArgs,
    /// Directory for summary.json and the reports.
    #[arg(long, short, default_value = "reports", value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub policy: commands::policy::PolicySelection,
    #[command(flatten)]
    pub rates: RateArgs,
    /// Exit with code 1 if any finding is at or above this severity
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<crate::analyze::policy::Severity>,
    /// Exit with code 1 if any record was rejected.
    #[arg(long)]
    pub strict: bool,
    /// Files to write into --out (comma-separated). summary.json is always written.
    #[arg(long, value_delimiter = ',', default_value = "json,csv,html")]
    pub format: Vec<OutputFormat>,
    /// Print findings as JSON lines on stdout instead of the summary table.
    #[arg(long)]
    pub json: bool,
    /// Do not print the summary (errors are still printed).
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
    #[arg(long, value_name = "DAYS", default_value_t = crate::analyze::privilege::DEFAULT_MIN_OBSERVATION_DAYS)]
    pub min_observation_days: u32,
}

/// How much history the abnormal-rate analysis uses.
#[derive(Debug, Args)]
pub struct RateArgs {
    /// At most this many earlier days form an identity's baseline.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub baseline_days: u32,
    /// Nothing in a vault's first DAYS of logs is reported as first seen
    /// (capped at a quarter of the vault's logged span, at least one day).
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub learning_days: u32,
    /// A secret read in logs spanning more than DAYS without a new version is stale.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub max_secret_age: u32,
}

impl RateArgs {
    pub fn options(&self) -> crate::analyze::rates::RateOptions {
        crate::analyze::rates::RateOptions {
            baseline_days: i64::from(self.baseline_days),
            learning_days: i64::from(self.learning_days),
            max_secret_age_days: i64::from(self.max_secret_age),
        }
    }
}

/// Parses the command line, runs the command and maps the outcome to an exit code.
pub fn run() -> ExitCode {
    // Argument errors are clap's to print, before there is a log format.
    let cli = Cli::parse();
    let log_format = cli.log_format.or_else(|| match &cli.command {
        Command::Run(args) => crate::job::config::log_format_of(&args.config),
        _ => None,
    });
    crate::logging::init(log_format.unwrap_or_default());
    let result = match cli.command {
        Command::Audit(args) => commands::audit::run(&args),
        Command::Run(args) => commands::run::run(&args),
        Command::Init(args) => commands::run::init(&args),
        Command::Pull(args) => commands::pull::run(&args),
        Command::Policy(args) => commands::policy::run(&args),
        Command::Explain(args) => commands::explain::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}
