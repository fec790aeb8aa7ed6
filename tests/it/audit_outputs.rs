//! `kvaudit audit` end to end on the bundled sample logs: findings, reports,
//! reproducible bytes and the exit codes a scheduled job acts on.

use std::path::Path;

use crate::common::{kvaudit, sample_logs};

fn run(out: &Path, extra: &[&str]) -> std::process::Output {
    kvaudit()
        .env("SOURCE_DATE_EPOCH", "1764115200")
        .args(["audit", &sample_logs(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn same_inputs_give_byte_identical_reports() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(run(a.path(), &[]).status.success());
    assert!(run(b.path(), &[]).status.success());
    for file in [
        "summary.json",
        "findings.json",
        "findings.csv",
        "identities.csv",
        "report.html",
    ] {
        let (x, y) = (
            std::fs::read(a.path().join(file)).unwrap(),
            std::fs::read(b.path().join(file)).unwrap(),
        );
        assert!(!x.is_empty(), "{file} is empty");
        assert!(x == y, "{file} differs between two runs");
    }
}

#[test]
fn sample_incidents_that_are_per_event_matters_are_found() {
    let out = tempfile::tempdir().unwrap();
    assert!(run(out.path(), &["--format", "json"]).status.success());
    let findings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("findings.json")).unwrap())
            .unwrap();
    let findings = findings
        .as_array()
        .or_else(|| findings["findings"].as_array())
        .unwrap();
    let has = |rule: &str, who: &str| {
        findings.iter().any(|f| {
            f["rule"] == rule
                && (f["principal_name"].as_str() == Some(who)
                    || f["principal"].as_str() == Some(who))
        })
    };
    // sample-logs/README.md incidents 5 (bob's purge and access-policy change),
    // 8 (legacy TLS), 9 (enumeration without reads), 7 (denied burst)
    assert!(has("kv-purge", "bob.martin@contosopay.com"));
    assert!(has("kv-access-policy-change", "bob.martin@contosopay.com"));
    assert!(has("kv-legacy-tls", "id-reporting-vm"));
    assert!(has(
        "kv-secret-enumeration-without-read",
        "id-inventory-sync"
    ));
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "kv-client-secret-credential")
    );
    // Microsoft's background callers never make findings
    assert!(
        findings
            .iter()
            .all(|f| f["principal_kind"] != "microsoft-service")
    );
    assert!(
        !out.path().join("report.html").exists(),
        "--format json writes no HTML"
    );
}

#[test]
fn fail_on_sets_exit_code_1_only_at_or_above_the_bar() {
    let out = tempfile::tempdir().unwrap();
    let output = run(out.path(), &["--format", "json", "--fail-on", "high"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at or above high"));
    let output = run(out.path(), &["--format", "json", "--fail-on", "critical"]);
    assert_eq!(output.status.code(), Some(0));
    let output = run(out.path(), &["--format", "json", "--fail-on", "severe"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn json_prints_one_finding_per_line() {
    let out = tempfile::tempdir().unwrap();
    let output = kvaudit()
        .args([
            "audit",
            &sample_logs(),
            "--json",
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 10, "{}", lines.len());
    assert!(
        lines
            .iter()
            .all(|f| f["rule"].is_string() && f["severity"].is_string())
    );
}

/// A caller known only by its application (a token with `appid` and no
/// `oid`, as some service principals' tokens are) is named `app <appid>` in
/// summary.json and the terminal, as identities.csv and explain name it.
#[test]
fn a_caller_known_only_by_its_app_id_is_named_the_same_everywhere() {
    let line = std::fs::read_to_string(crate::common::data("same-events/PT1H.json"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    let mut record: serde_json::Value = serde_json::from_str(&line).unwrap();
    let claims = record["identity"]["claim"].as_object_mut().unwrap();
    claims.remove("oid");
    claims.remove("xms_mirid");
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("PT1H.json");
    std::fs::write(&logs, record.to_string()).unwrap();
    let out = dir.path().join("out");
    let output = crate::common::kvaudit()
        .arg("audit")
        .arg(&logs)
        .args(["--format", "csv", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    const NAME: &str = "app 9a8b7c6d-5e4f-4321-9876-543210fedcba";
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let principal = &summary["principals"][0];
    assert_eq!(principal["id"], serde_json::Value::Null);
    assert_eq!(principal["name"], NAME);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(NAME), "{stdout}");
    assert!(!stdout.contains("(no identity)"), "{stdout}");
    let identities = std::fs::read_to_string(out.join("identities.csv")).unwrap();
    assert!(identities.contains(NAME), "{identities}");
}
