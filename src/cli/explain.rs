//! `kvaudit explain`.

use clap::Args;

use super::shared::PolicySelection;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("event").required(true).args(["correlation_id", "at"])))]
pub struct ExplainArgs {
    /// Log files, directories, globs or - (as for `audit`); all are read so
    /// that per-identity facts (context.usage) are the same as in the audit.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// The event's correlation id.
    #[arg(long, value_name = "ID")]
    pub correlation_id: Option<String>,
    /// The event's record location, FILE:LINE (as in a finding's evidence).
    #[arg(long, value_name = "FILE:LINE")]
    pub at: Option<String>,
    #[command(flatten)]
    pub selection: PolicySelection,
}
