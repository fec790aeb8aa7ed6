//! Shared helpers for the integration tests: run the built binary, read what it wrote.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// 14 days of the generated estate at a tenth of its traffic (seed 42):
/// `logs/insights-logs-auditevent/...` (one blob per vault and hour) and
/// `inventory/`, made once per test binary for the job and gap tests.
pub fn generated_estate() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        kvaudit_synth::generate(&kvaudit_synth::GeneratorConfig {
            out: dir.path().join("logs"),
            days: 14,
            start: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            scale: 0.1,
            seed: 42,
            gzip: false,
        })
        .unwrap();
        kvaudit_synth::write_inventory(&dir.path().join("inventory")).unwrap();
        dir
    })
    .path()
}

/// The records of `tests/data/same-events/PT1H.json`, one per line.
pub fn same_event_lines() -> Vec<String> {
    std::fs::read_to_string(data("same-events/PT1H.json"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

pub fn kvaudit() -> Command {
    let mut cmd = Command::cargo_bin("kvaudit").expect("the kvaudit binary is built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `kvaudit audit <args> --out <tmp>` and returns the exit code, stdout and summary.json.
pub fn audit(args: &[&str]) -> (i32, String, Value) {
    let out = tempfile::tempdir().unwrap();
    let output = kvaudit()
        .arg("audit")
        .args(args)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let summary = std::fs::read_to_string(out.path().join("summary.json"))
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap_or(Value::Null);
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (code, text, summary)
}

/// `reason -> count` from a summary.
pub fn rejection_counts(summary: &Value) -> Vec<(String, u64)> {
    summary["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every example location of a summary's rejections, `file:line`.
pub fn rejection_locations(summary: &Value) -> Vec<String> {
    summary["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["examples"].as_array().unwrap().iter())
        .map(|e| {
            let e = e.as_str().unwrap();
            let mut parts = e.splitn(3, ':');
            format!("{}:{}", parts.next().unwrap(), parts.next().unwrap())
        })
        .collect()
}

/// The bundled `sample-logs/` directory.
pub fn sample_logs() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs")
        .to_str()
        .unwrap()
        .to_owned()
}
