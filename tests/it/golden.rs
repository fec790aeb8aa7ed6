//! The reports of fixed inputs, byte for byte: `findings.json`,
//! `summary.json`, the CSV files and `report.html` (made at a fixed
//! `SOURCE_DATE_EPOCH`) of the bundled sample logs and of a generated set
//! must equal the copies in `tests/data/golden/`. A refactor changes no
//! byte of them; a change that means to change an output regenerates the
//! copies (`KVAUDIT_BLESS=1 cargo test golden`) and the diff shows what
//! changed, in review.

use std::path::{Path, PathBuf};

use crate::common::kvaudit;

/// What every golden run writes and is compared.
const OUTPUTS: [&str; 7] = [
    "summary.json",
    "findings.json",
    "findings.csv",
    "identities.csv",
    "rates.csv",
    "unused-permissions.csv",
    "report.html",
];

fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// Runs `kvaudit audit ARGS --out OUT` in `dir` (so that the reports name
/// inputs by relative paths) and compares, or with `KVAUDIT_BLESS` set
/// writes, the outputs.
fn audit_matches_golden(name: &str, dir: &Path, args: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let run = kvaudit()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1764115200")
        .arg("audit")
        .args(args)
        .arg("--quiet")
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let golden = golden_dir(name);
    let bless = std::env::var_os("KVAUDIT_BLESS").is_some();
    let mut differ = Vec::new();
    for file in OUTPUTS {
        let written = std::fs::read(out.path().join(file))
            .unwrap_or_else(|e| panic!("{name}: {file} was not written: {e}"));
        let expected = golden.join(file);
        if bless {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&expected, &written).unwrap();
            continue;
        }
        let kept = std::fs::read(&expected).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `KVAUDIT_BLESS=1 cargo test golden` to write it",
                expected.display()
            )
        });
        if kept != written {
            let copy = std::env::temp_dir().join(format!("kvaudit-golden-{name}-{file}"));
            std::fs::write(&copy, &written).unwrap();
            differ.push(format!(
                "{file}: differs from {} (this run's copy: {})",
                expected.display(),
                copy.display()
            ));
        }
    }
    assert!(differ.is_empty(), "{name}:\n{}", differ.join("\n"));
}

#[test]
fn golden_sample_logs_reports_are_unchanged() {
    audit_matches_golden(
        "sample-logs",
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "sample-logs/",
            "--inventory",
            "sample-inventory/",
            "--entities",
            "policies/examples/sample-logs-entities.json",
        ],
    );
}

#[test]
fn golden_generated_reports_are_unchanged() {
    // Four days of the generated estate at a fifth of its traffic: every
    // incident the generator plants, as plain PT1H.json blobs.
    let dir = tempfile::tempdir().unwrap();
    kvaudit_synth::generate(&kvaudit_synth::GeneratorConfig {
        out: dir.path().join("logs"),
        days: 4,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        scale: 0.2,
        seed: 7,
        gzip: false,
    })
    .unwrap();
    kvaudit_synth::write_inventory(&dir.path().join("inventory")).unwrap();
    audit_matches_golden(
        "generated",
        dir.path(),
        &["logs/", "--inventory", "inventory/"],
    );
}
