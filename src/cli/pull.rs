//! `kvaudit pull`.

use std::path::PathBuf;

use clap::Args;

use super::shared::WorkspaceArgs;

/// A pull names at least one workspace.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("workspace-id").required(true).multiple(true).args(["workspaces", "resources"])))]
pub struct PullArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Not for pull: a pull saves events, and --pushdown leaves most of them
    /// in the workspace (taken only to say what to run instead).
    #[arg(long, hide = true)]
    pub pushdown: bool,
    /// Parquet file to write the normalised events to.
    #[arg(long, value_name = "FILE.parquet")]
    pub out: PathBuf,
    /// Do not print the summary line.
    #[arg(long, short)]
    pub quiet: bool,
}
