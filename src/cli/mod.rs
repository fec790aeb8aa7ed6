//! The command line: every clap definition, one file per command, and the
//! argument groups they share. Nothing below this module imports it; each
//! command's arguments become the plain options of the stage that uses
//! them ([`crate::commands`] does the mapping).

mod audit;
mod explain;
mod job;
mod policy;
mod pull;
mod shared;

use clap::{Parser, Subcommand};

pub use audit::AuditArgs;
pub use explain::ExplainArgs;
pub use job::{InitArgs, RunArgs};
pub use policy::{BaselineArgs, PolicyArgs, PolicyCommand, TestArgs, ValidateArgs};
pub use pull::PullArgs;
pub use shared::{PolicySelection, RateArgs, WorkspaceArgs};

use crate::logging::LogFormat;
use crate::report::exit::EXIT_CODES_HELP;

#[derive(Debug, Parser)]
#[command(name = "kvaudit", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// How kvaudit's own messages on stderr are written: text, or JSON lines
    /// (timestamp, level, message, fields) for a log collector. Reports are unaffected.
    /// [default: text, or the `log-format` of `run`'s configuration]
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
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
    Run(RunArgs),
    /// Write a commented example configuration for `kvaudit run`.
    Init(InitArgs),
    /// Save Key Vault audit events from Log Analytics workspaces to a Parquet file.
    #[command(after_help = EXIT_CODES_HELP)]
    Pull(PullArgs),
    /// Validate policies against the schema, or run their test cases.
    Policy(PolicyArgs),
    /// Show the Cedar request built from one event and which policies matched.
    Explain(ExplainArgs),
    /// Write a shell completion script to stdout (e.g. `kvaudit completions
    /// bash > /etc/bash_completion.d/kvaudit`).
    Completions(CompletionsArgs),
    /// Write the man page (roff) to stdout (`kvaudit man > kvaudit.1`).
    Man,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl Cli {
    /// The log format: `--log-format`, else the `log-format` of `run`'s
    /// configuration (read before the rest of the file, so that errors in
    /// the rest are already written in that format), else text.
    pub fn log_format(&self) -> LogFormat {
        self.log_format
            .or_else(|| match &self.command {
                Command::Run(args) => crate::job::config::log_format_of(&args.config),
                _ => None,
            })
            .unwrap_or_default()
    }
}
