//! `kvaudit generate-logs`: synthetic logs for the samples and the benchmark.

use crate::cli::{GenerateArgs, exit};
use crate::generator::{GeneratorConfig, generate, write_inventory};

pub fn run(args: &GenerateArgs) -> anyhow::Result<u8> {
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
    Ok(exit::OK)
}
