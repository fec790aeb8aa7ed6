//! `kvaudit-synth`: writes the synthetic Key Vault audit logs (the bundled
//! samples, benchmark data) and, on request, the sample estate's inventory.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kvaudit_synth::{GeneratorConfig, generate, write_inventory};

/// Write synthetic Key Vault audit logs (the bundled samples, benchmark data).
#[derive(Debug, Parser)]
#[command(name = "kvaudit-synth", version)]
struct Args {
    /// Directory to write the logs into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of days of logs.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// First day (UTC).
    #[arg(long, default_value = "2026-11-16")]
    start: chrono::NaiveDate,
    /// Multiplies the normal traffic (incidents keep their size).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Seed of the deterministic generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write PT1H.json.gz instead of PT1H.json.
    #[arg(long)]
    gzip: bool,
    /// Also write the sample estate's inventory (`az keyvault show`, `az role
    /// assignment list`, `az ad sp/user list` output) into this directory.
    #[arg(long, value_name = "DIR")]
    inventory_out: Option<PathBuf>,
}

/// Exit code when nothing could be written (bad arguments exit 2 too, from clap).
const ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kvaudit-synth: error: {error:#}");
            ExitCode::from(ERROR)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let summary = generate(&GeneratorConfig {
        out: args.out.clone(),
        days: args.days,
        start: args.start,
        scale: args.scale,
        seed: args.seed,
        gzip: args.gzip,
    })?;
    eprintln!(
        "wrote {} records in {} files ({} bytes) to {}",
        summary.records,
        summary.files,
        summary.bytes,
        args.out.display()
    );
    if let Some(dir) = &args.inventory_out {
        let files = write_inventory(dir)?;
        eprintln!("wrote the inventory ({files} files) to {}", dir.display());
    }
    Ok(())
}
