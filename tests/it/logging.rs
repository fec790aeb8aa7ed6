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
