//! A compliance run that analysed nothing has not passed: an empty source,
//! an input whose every record is rejected, a job with no new logs each exit
//! 4 and say why in one line; `--allow-empty` (`allow-empty = true`) accepts
//! it. The reports are written either way, and the job's state committed.

use std::path::Path;

use serde_json::Value;

use crate::common::{audit, data, kvaudit, same_event_lines};

/// 1,100 broken lines and 100 records of another diagnostic category.
fn all_rejected(dir: &Path) -> String {
    let other_category =
        same_event_lines()[0].replace("\"AuditEvent\"", "\"AzurePolicyEvaluationDetails\"");
    let mut text = String::new();
    for i in 0..1200 {
        if i % 12 == 0 {
            text.push_str(&other_category);
        } else {
            text.push_str("{\"time\": \"2026-11-20T10:00:00Z\", \"operationName\": oops}");
        }
        text.push('\n');
    }
    let path = dir.join("PT1H.json");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The one line of stderr that says why nothing was analysed.
fn why(text: &str) -> &str {
    text.lines()
        .find(|l| l.contains("nothing was analysed"))
        .unwrap_or_else(|| panic!("no line says why:\n{text}"))
}

#[test]
fn an_empty_source_directory_exits_4_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_str().unwrap();
    let (code, text, summary) = audit(&[empty]);
    assert_eq!(code, 4, "{text}");
    assert!(
        why(&text).contains("nothing was analysed: no log files in the paths given"),
        "{text}"
    );
    // The reports are still written, and say what was read.
    assert_eq!(summary["records_read"].as_u64(), Some(0));
    assert_eq!(summary["records_analyzed"].as_u64(), Some(0));

    let (code, text, _) = audit(&["--allow-empty", empty]);
    assert_eq!(code, 0, "{text}");
    // A missing path is still an error of the arguments.
    let (code, _, _) = audit(&[dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(code, 2);
}

#[test]
fn an_input_whose_every_record_is_rejected_exits_4_with_the_top_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let file = all_rejected(dir.path());
    let (code, text, summary) = audit(&[&file]);
    assert_eq!(code, 4, "{text}");
    assert!(
        why(&text).contains(
            "nothing was analysed: all 1,200 records were rejected: invalid-json 1,100, not-audit-event 100"
        ),
        "{text}"
    );
    assert_eq!(summary["records_read"].as_u64(), Some(1200));
    assert_eq!(summary["records_rejected"].as_u64(), Some(1200));

    // Nothing analysed wins over a failed check; --allow-empty exits as the
    // run otherwise would.
    let (code, text, _) = audit(&["--strict", &file]);
    assert_eq!(code, 4, "{text}");
    let (code, text, _) = audit(&["--allow-empty", &file]);
    assert_eq!(code, 0, "{text}");
    let (code, text, _) = audit(&["--allow-empty", "--strict", &file]);
    assert_eq!(code, 1, "{text}");

    // One good record among them is an audit.
    let mixed = dir.path().join("mixed.json");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&same_event_lines()[1]);
    text.push('\n');
    std::fs::write(&mixed, text).unwrap();
    let (code, text, _) = audit(&[mixed.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("nothing was analysed"), "{text}");
}

/// A job reading `logs/`, with `extra` keys.
fn job(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kvaudit.toml"),
        format!(
            "state = \"state\"\nout = \"reports/{{date}}T{{time}}Z\"\nformat = [\"json\"]\n\
             quiet = true\n{extra}\n[sources]\npaths = [\"logs/\"]\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = kvaudit()
        .arg("run")
        .arg("--config")
        .arg(dir.join("kvaudit.toml"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("state/manifest.json")).unwrap())
        .unwrap()
}

#[test]
fn a_job_with_empty_logs_exits_4_and_a_rerun_with_nothing_new_too() {
    let dir = job("");
    let (code, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        why(&stderr).contains("nothing was analysed: the sources hold no log files at all"),
        "{stderr}"
    );
    // The state is committed all the same.
    assert!(dir.path().join("state/manifest.json").exists());

    std::fs::copy(
        data("same-events/PT1H.json"),
        dir.path().join("logs/PT1H.json"),
    )
    .unwrap();
    let (code, stderr) = run(dir.path(), &[]);
    assert!(code == 0 || code == 1, "{stderr}");
    let files = manifest(dir.path())["files"].clone();
    assert_eq!(files.as_object().unwrap().len(), 1, "{files}");

    // Nothing new since: 4 again, with the other reason; the state moves on.
    let (code, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        why(&stderr).contains("nothing was analysed: no new log files since the last run"),
        "{stderr}"
    );
    assert_eq!(manifest(dir.path())["files"], files);
    let (code, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 4, "{stderr}");

    // Accepted on the command line.
    let (code, stderr) = run(dir.path(), &["--allow-empty"]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(!stderr.contains("exit 4"), "{stderr}");
}

#[test]
fn allow_empty_in_the_configuration_accepts_an_empty_run() {
    let dir = job("allow-empty = true");
    let (code, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn the_job_fails_a_run_whose_every_new_record_is_rejected() {
    let dir = job("");
    all_rejected(&dir.path().join("logs"));
    let (code, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        why(&stderr).contains("all 1,200 records were rejected: invalid-json 1,100"),
        "{stderr}"
    );
}
