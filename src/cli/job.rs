//! `kvaudit run` and `kvaudit init`: the scheduled job.

use std::path::PathBuf;

use clap::Args;

use crate::analyze::policy::Severity;
use crate::job::config::Overrides;
use crate::report::OutputFormat;

/// `kvaudit run`: the configuration file, and the audit's output options,
/// which override the file's keys of the same name for this run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job's configuration (`kvaudit init` writes a commented example).
    #[arg(long, short, value_name = "FILE", default_value = "kvaudit.toml")]
    pub config: PathBuf,
    /// Directory for this run's reports (the file's `out` pattern otherwise).
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<String>,
    /// Exit with code 1 if any finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Exit with code 1 if any record was rejected.
    #[arg(long)]
    pub strict: bool,
    /// Exit as usual when no record was analysed (no new log files, every
    /// record rejected), not with code 4.
    #[arg(long)]
    pub allow_empty: bool,
    /// Files to write besides summary.json (comma-separated): json, csv,
    /// html, sarif.
    #[arg(long, value_delimiter = ',')]
    pub format: Option<Vec<OutputFormat>>,
    /// Print findings as JSON lines on stdout instead of the summary table.
    #[arg(long, visible_alias = "json")]
    pub jsonl: bool,
    /// Do not print the summary or the progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the time each stage took to stderr.
    #[arg(long)]
    pub timings: bool,
}

impl RunArgs {
    /// What the command line sets for this run; a flag that is off leaves
    /// the file's value.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            out: self.out.clone(),
            fail_on: self.fail_on,
            strict: self.strict.then_some(true),
            allow_empty: self.allow_empty.then_some(true),
            formats: self.format.clone(),
            jsonl: self.jsonl.then_some(true),
            quiet: self.quiet.then_some(true),
            timings: self.timings.then_some(true),
        }
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the example configuration.
    #[arg(value_name = "FILE", default_value = "kvaudit.toml")]
    pub path: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}
