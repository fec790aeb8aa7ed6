//! `--log-format`: what a log collector receives from the built binary when a
//! scheduled run fails, and that the default stays the plain text people read.

use crate::common::kvaudit;
use serde_json::Value;

const MISSING: &str = "/nonexistent/kvaudit-logs";

#[test]
fn json_errors_are_one_object_per_line_with_level_and_message() {
    let output = kvaudit()
        .args(["--log-format", "json", "audit", MISSING])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a missing path is an error");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"))
        })
        .collect();
    assert!(!lines.is_empty(), "no error was logged");
    for line in &lines {
        assert_eq!(line["level"], "ERROR", "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
    }
    let message = lines[0]["message"].as_str().unwrap();
    assert!(
        message.contains(MISSING),
        "the error names the path: {message}"
    );
    assert!(
        !message.starts_with("kvaudit:"),
        "no text prefix in JSON: {message}"
    );
}

#[test]
fn the_option_is_global_and_text_is_the_default() {
    // After the subcommand too, as scheduled jobs' argument lists grow.
    let json = kvaudit()
        .args(["audit", MISSING, "--log-format", "json"])
        .output()
        .unwrap();
    let json = String::from_utf8(json.stderr).unwrap();
    assert!(json.starts_with('{'), "{json}");

    let text = kvaudit().args(["audit", MISSING]).output().unwrap();
    assert_eq!(text.status.code(), Some(2));
    let text = String::from_utf8(text.stderr).unwrap();
    assert!(
        text.starts_with("kvaudit: error: ") && text.contains(MISSING),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}

/// Every line a command writes to stderr under `--log-format json`.
fn json_lines(args: &[&str]) -> Vec<Value> {
    let output = kvaudit().args(args).output().unwrap();
    String::from_utf8(output.stderr)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"))
        })
        .collect()
}

#[test]
fn policy_errors_and_a_generated_baseline_are_json_lines_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.cedar"),
        "@id(\"night-reads\")\n@category(\"noise\")\n@severity(\"high\")\n@title(\"t\")\nforbid (principal, action, resource);\n",
    )
    .unwrap();
    let policies = dir.path().to_str().unwrap();
    let lines = json_lines(&[
        "--log-format",
        "json",
        "policy",
        "validate",
        "--policies",
        policies,
    ]);
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"
            && l["message"]
                .as_str()
                .unwrap()
                .contains("unknown category `noise`")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l["errors"] == 1), "{lines:?}");

    let out = dir.path().join("baseline.cedar");
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/same-events/PT1H.json"
    );
    let lines = json_lines(&[
        "--log-format",
        "json",
        "policy",
        "generate",
        sample,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(out.exists());
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "INFO" && l["permits"].as_u64().is_some_and(|p| p > 0)),
        "{lines:?}"
    );
}
