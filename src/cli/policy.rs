//! `kvaudit policy validate|test|generate`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::shared::PolicySelection;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate policies strictly against kvaudit's schema; errors point to file:line:column.
    Validate(ValidateArgs),
    /// Run the policy test cases in DIR/tests/*.json (default: the built-in pack's cases).
    Test(TestArgs),
    /// Write Cedar baseline permits from the successful calls in logs; audit
    /// later logs with `--policies FILE` to flag anything outside them.
    Generate(BaselineArgs),
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Log files or directories (as for `kvaudit audit`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// The .cedar file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Most objects of one kind a permit names before it covers the whole vault.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_objects: usize,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub selection: PolicySelection,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy directory whose tests/*.json to run; its .cedar files are added
    /// to the default pack. Without DIR, the default pack's own cases run.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Leave the built-in default policy pack out.
    #[arg(long)]
    pub no_default_policies: bool,
}
