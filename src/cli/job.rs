//! `kvaudit run` and `kvaudit init`: the scheduled job.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job's configuration (`kvaudit init` writes a commented example).
    #[arg(long, short, value_name = "FILE", default_value = "kvaudit.toml")]
    pub config: PathBuf,
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
