//! Duplicate deliveries: a record read twice (delivered twice in one blob,
//! in a blob and in a Log Analytics export of the same hour, delivered
//! again on a later day) is analysed once and counted in
//! `records_duplicate`; two calls that differ in any field stay two.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{audit, data, kvaudit, sample_logs};

/// A real blob of the bundled sample logs: kv-web-prod, 2026-11-21 23:00,
/// 39 records; line 30 is bob.martin's `SecretDelete` of
/// `legacy-smtp-password`, line 32 its `SecretPurge`.
const BLOB: &str = "insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/D23F0824-128B-4F33-8C5C-7FD0A6A3A450/RESOURCEGROUPS/RG-PROD-APPS/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-WEB-PROD/y=2026/m=11/d=21/h=23/m=00/PT1H.json.gz";
const DELETE_LINE: usize = 30;
const PURGE_LINE: usize = 32;

/// The blob's lines (JSON Lines, one record each).
fn blob_lines() -> Vec<String> {
    let file = std::fs::File::open(Path::new(&sample_logs()).join(BLOB)).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 39);
    assert!(lines[DELETE_LINE - 1].contains(r#""operationName":"SecretDelete""#));
    assert!(lines[PURGE_LINE - 1].contains(r#""operationName":"SecretPurge""#));
    lines
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn findings_of(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("findings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The findings of rule `rule` about the secret deleted and purged at
/// [`DELETE_LINE`] and [`PURGE_LINE`] (the blob's `KeyDelete` is another).
fn rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["rule"] == rule && f["object"] == "legacy-smtp-password")
        .collect()
}

/// Runs `kvaudit audit PATHS --out OUT`: exit code, stdout and stderr.
fn audit_into(paths: &[&Path], out: &Path) -> (i32, String) {
    let output = kvaudit()
        .arg("audit")
        .args(paths)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

fn summary_of(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_record_delivered_twice_in_a_blob_is_analysed_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = blob_lines();
    // A retried delivery: the delete and the purge again, later in the blob.
    lines.push(lines[DELETE_LINE - 1].clone());
    lines.push(lines[PURGE_LINE - 1].clone());
    let blob = dir.path().join("PT1H.json");
    write_lines(&blob, &lines);
    let out = dir.path().join("out");
    let (code, text) = audit_into(&[&blob], &out);
    assert!(matches!(code, 0 | 1), "{text}");
    let summary = summary_of(&out);
    assert_eq!(summary["records_read"], 41, "{text}");
    assert_eq!(summary["records_duplicate"], 2, "{text}");
    assert_eq!(summary["records_analyzed"], 39, "{text}");
    assert_eq!(summary["records_rejected"], 0, "{text}");
    assert!(
        text.contains("41 read, 39 analysed, 2 duplicates counted once"),
        "{text}"
    );
    let findings = findings_of(&out);
    for name in ["kv-object-delete", "kv-purge"] {
        let found = rule(&findings, name);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0]["event_count"], 1, "{name}: {:?}", found[0]);
        assert_eq!(found[0]["evidence"].as_array().unwrap().len(), 1);
    }
    // The first copy is the one kept: its evidence points at line 30.
    let delete = rule(&findings, "kv-object-delete")[0];
    let source = delete["evidence"][0]["source"].as_str().unwrap();
    assert!(source.ends_with(&format!(":{DELETE_LINE}")), "{source}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("2 of 41 records read were copies of another record read"),
        "the data-quality section says so"
    );
}

#[test]
fn without_duplicates_the_report_says_nothing_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("PT1H.json");
    write_lines(&blob, &blob_lines());
    let out = dir.path().join("out");
    let (code, text) = audit_into(&[&blob], &out);
    assert!(matches!(code, 0 | 1), "{text}");
    assert_eq!(summary_of(&out)["records_duplicate"], 0);
    assert!(!text.contains("duplicate"), "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("copies of another record"));
    assert!(html.contains("All 39 records read were analysed; none was rejected."));
}

/// The six events of `tests/data/same-events`, in seven export forms.
const FORMS: [&str; 7] = [
    "PT1H.json",
    "eventhub-records.json",
    "records-array.json",
    "azurediagnostics-az-cli.json",
    "azurediagnostics-portal.csv",
    "azkvauditlogs-export.json",
    "azkvauditlogs-portal.csv",
];

#[test]
fn the_same_events_in_a_blob_and_a_log_analytics_export_count_once() {
    let blob = data("same-events/PT1H.json");
    for export in &FORMS[1..] {
        let export = data("same-events").join(export);
        let (code, text, summary) = audit(&[blob.to_str().unwrap(), export.to_str().unwrap()]);
        assert!(matches!(code, 0 | 1), "{text}");
        assert_eq!(summary["records_read"], 12, "{export:?}: {text}");
        assert_eq!(summary["records_duplicate"], 6, "{export:?}: {text}");
        assert_eq!(summary["records_analyzed"], 6, "{export:?}: {text}");
    }
}

#[test]
fn the_same_events_in_every_export_form_count_once() {
    let (code, text, summary) = audit(&[data("same-events").to_str().unwrap()]);
    assert!(matches!(code, 0 | 1), "{text}");
    assert_eq!(summary["records_read"], 42, "{text}");
    assert_eq!(summary["records_rejected"], 0, "{text}");
    assert_eq!(summary["records_duplicate"], 36, "{text}");
    assert_eq!(summary["records_analyzed"], 6, "{text}");
    let events: u64 = summary["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["events"].as_u64().unwrap())
        .sum();
    assert_eq!(events, 6);
}

/// `tests/data/same-events/PT1H.json`'s managed-identity `SecretGet`
/// (line 2), with `edit` applied.
fn secret_get(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let text = std::fs::read_to_string(data("same-events/PT1H.json")).unwrap();
    let line = text.lines().nth(1).unwrap();
    let mut record: Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["operationName"], "SecretGet");
    edit(record.as_object_mut().unwrap());
    serde_json::to_string(&record).unwrap()
}

fn audit_lines(lines: &[String]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("PT1H.json");
    write_lines(&file, lines);
    let (code, text, summary) = audit(&[file.to_str().unwrap()]);
    assert!(matches!(code, 0 | 1), "{text}");
    assert_eq!(summary["records_rejected"], 0, "{text}");
    summary
}

#[test]
fn two_calls_that_differ_only_by_correlation_id_are_both_analysed() {
    // The same secret, caller, address and 100 ns; two calls.
    let first = secret_get(|_| {});
    let second = secret_get(|r| {
        r.insert(
            "correlationId".into(),
            "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f".into(),
        );
    });
    assert_ne!(first, second);
    let summary = audit_lines(&[first, second]);
    assert_eq!(summary["records_duplicate"], 0);
    assert_eq!(summary["records_analyzed"], 2);
}

#[test]
fn calls_without_a_correlation_id_that_agree_in_everything_are_one() {
    let bare = secret_get(|r| {
        r.remove("correlationId");
    });
    let summary = audit_lines(&[bare.clone(), bare]);
    assert_eq!(summary["records_duplicate"], 1);
    assert_eq!(summary["records_analyzed"], 1);
    // ... but a different duration is another call.
    let slower = secret_get(|r| {
        r.remove("correlationId");
        r.insert("durationMs".into(), "13".into());
    });
    let bare = secret_get(|r| {
        r.remove("correlationId");
    });
    let summary = audit_lines(&[bare, slower]);
    assert_eq!(summary["records_duplicate"], 0);
    assert_eq!(summary["records_analyzed"], 2);
}

/// A job directory reading `feed/`.
fn job_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kvaudit.toml"),
        "state = \"state\"\nout = \"reports/current\"\nformat = [\"json\"]\nquiet = true\n\
         [sources]\npaths = [\"feed/\"]\n",
    )
    .unwrap();
    dir
}

fn run_job(dir: &Path) -> (Value, Vec<Value>) {
    let output = kvaudit()
        .arg("run")
        .arg("--config")
        .arg(dir.join("kvaudit.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}: {stderr}",
        output.status
    );
    let reports: PathBuf = dir.join("reports/current");
    let summary = summary_of(&reports);
    let findings = findings_of(&reports);
    std::fs::remove_dir_all(&reports).unwrap();
    (summary, findings)
}

#[test]
fn the_job_counts_a_record_delivered_again_on_a_later_run_once() {
    let dir = job_dir();
    let lines = blob_lines();
    // Run 1 reads the blob but its last record.
    write_lines(
        &dir.path().join("feed").join(BLOB.trim_end_matches(".gz")),
        &lines[..38],
    );
    let (summary, findings) = run_job(dir.path());
    assert_eq!(summary["records_analyzed"], 38);
    assert_eq!(summary["records_duplicate"], 0);
    assert_eq!(rule(&findings, "kv-object-delete").len(), 1);
    // Run 2 reads a new file: the delete delivered again, and the last record.
    write_lines(
        &dir.path().join("feed/redelivered/PT1H.json"),
        &[lines[DELETE_LINE - 1].clone(), lines[38].clone()],
    );
    let (summary, findings) = run_job(dir.path());
    assert_eq!(summary["records_read"], 2, "{summary}");
    assert_eq!(summary["records_duplicate"], 1, "{summary}");
    assert_eq!(summary["records_analyzed"], 1, "{summary}");
    assert!(
        rule(&findings, "kv-object-delete").is_empty(),
        "the delete was judged by run 1: {findings:?}"
    );
}
