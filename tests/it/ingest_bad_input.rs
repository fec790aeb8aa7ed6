//! Bad input never crashes a run and never disappears: every damaged record
//! or file is counted with its file, line and reason, and the run goes on.

use std::io::Write;
use std::path::Path;

use crate::common::{
    audit, data, kvaudit, rejection_counts, rejection_locations, same_event_lines,
};
use flate2::Compression;
use flate2::write::GzEncoder;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn each_kind_of_damage_is_counted_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let good = same_event_lines();

    // Line 2 holds invalid UTF-8; lines 1 and 3 are good.
    let mut bad_utf8 = format!("{}\n", good[1]).into_bytes();
    bad_utf8.extend_from_slice(
        b"{\"time\":\"2026-11-20T10:00:00Z\",\"operationName\":\"Secret\xff\xfeGet\"}\n",
    );
    bad_utf8.extend_from_slice(format!("{}\n", good[2]).as_bytes());
    let bad_utf8 = write(dir.path(), "bad-utf8.json", &bad_utf8);

    let not_json = write(
        dir.path(),
        "notes.json",
        b"These are my notes about the vault.\n",
    );
    let not_key_vault = write(
        dir.path(),
        "package.json",
        b"{\n  \"name\": \"web-app\",\n  \"version\": \"1.0.0\"\n}\n",
    );
    let empty = write(dir.path(), "empty.json", b"\n  \n");

    // Line 2 lacks a time, line 3 an operation name, line 4 has a time that is not one.
    let without_time = good[1].replace("\"time\":\"2026-11-20T10:00:00.123Z\",", "");
    let without_operation = good[2].replace("\"operationName\":\"SecretList\",", "");
    let bad_time = good[3].replace("2026-11-20T10:05:41.789Z", "last Tuesday");
    let missing = write(
        dir.path(),
        "missing-fields.json",
        format!(
            "{}\n{without_time}\n{without_operation}\n{bad_time}\n",
            good[0]
        )
        .as_bytes(),
    );

    // A gzip blob cut off in the middle of its third line.
    let whole = gzip(format!("{}\n{}\n{}\n", good[0], good[1], good[2]).as_bytes());
    let cut = write(dir.path(), "PT1H.json.gz", &whole[..whole.len() * 3 / 4]);

    // A blob still being written: its last line ends mid-record.
    let partial_line = &good[4][..good[4].len() / 2];
    let growing = write(
        dir.path(),
        "growing.json",
        format!("{}\n{partial_line}", good[0]).as_bytes(),
    );

    let (code, text, summary) = audit(&[
        &bad_utf8,
        &not_json,
        &not_key_vault,
        &empty,
        &missing,
        &cut,
        &growing,
    ]);
    assert_eq!(code, 0, "{text}");

    let counts = rejection_counts(&summary);
    let count = |reason: &str| {
        counts
            .iter()
            .find(|(r, _)| r == reason)
            .map_or(0, |(_, c)| *c)
    };
    assert_eq!(count("invalid-utf8"), 1, "{counts:?}");
    assert_eq!(count("unrecognised-format"), 1, "{counts:?}");
    assert_eq!(count("not-key-vault-record"), 1, "{counts:?}");
    assert_eq!(count("empty-file"), 1, "{counts:?}");
    assert_eq!(count("missing-time"), 1, "{counts:?}");
    assert_eq!(count("missing-operation"), 1, "{counts:?}");
    assert_eq!(count("invalid-time"), 1, "{counts:?}");
    assert_eq!(count("truncated-gzip"), 1, "{counts:?}");
    assert!(count("truncated-record") >= 1, "{counts:?}");

    let locations = rejection_locations(&summary);
    for expected in [
        format!("{bad_utf8}:2"),
        format!("{not_json}:1"),
        format!("{not_key_vault}:1"),
        format!("{missing}:2"),
        format!("{missing}:3"),
        format!("{missing}:4"),
        format!("{growing}:2"),
    ] {
        assert!(
            locations.contains(&expected),
            "{expected} not in {locations:?}"
        );
    }

    // Nothing lost: read = analysed + rejected + duplicate, and the good
    // records were analysed, each once: good[1] and good[2] (in bad-utf8)
    // and good[0] (in missing-fields), which growing and the gzip before its
    // cut hold again (the gzip good[1] too, if it lies before the cut).
    let read = summary["records_read"].as_u64().unwrap();
    let analyzed = summary["records_analyzed"].as_u64().unwrap();
    let rejected = summary["records_rejected"].as_u64().unwrap();
    let duplicate = summary["records_duplicate"].as_u64().unwrap();
    assert_eq!(read, analyzed + rejected + duplicate);
    assert_eq!(analyzed, 3, "{summary}");
    assert!(duplicate >= 2, "{summary}");
    assert!(text.contains("rejected"), "{text}");
}

#[test]
fn strict_turns_a_rejection_into_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    // One good record and one broken line (all rejected is exit 4, see
    // nothing_analysed.rs).
    let text = format!("{}\n{{\"time\": oops\n", same_event_lines()[0]);
    let file = write(dir.path(), "PT1H.json", text.as_bytes());
    let (code, text, _) = audit(&[&file]);
    assert_eq!(code, 0, "{text}");
    let (code, text, summary) = audit(&["--strict", &file]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(summary["records_rejected"], 1);
    let (code, _, _) = audit(&["--strict", data("same-events/PT1H.json").to_str().unwrap()]);
    assert_eq!(code, 0);
}

#[test]
fn a_missing_path_is_an_error_with_exit_code_2() {
    let output = kvaudit()
        .args(["audit", "no/such/dir", "--out"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no/such/dir: no such file or directory"),
        "{stderr}"
    );
}

#[test]
fn truncated_export_arrays_keep_the_records_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let array = std::fs::read_to_string(data("same-events/records-array.json")).unwrap();
    let cut_at = array.find("\"operationName\": \"VaultGet\"").unwrap();
    let file = write(dir.path(), "export.json", &array.as_bytes()[..cut_at]);
    let (code, text, summary) = audit(&[&file]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["records_analyzed"], 4);
    assert_eq!(
        rejection_counts(&summary),
        [("truncated-record".to_owned(), 1)]
    );
}

/// A vault's metrics and Activity Log mixed into its audit logs: each is a
/// `not-audit-event` that says what it is, and the audit events beside them
/// are read. The shapes are those of an `insights-metrics-pt1m` blob, a
/// workspace's `AzureMetrics` rows and `az monitor activity-log list`
/// (SYNTHETIC values in the documented fields).
#[test]
fn metrics_and_activity_log_records_are_named_not_audit_events() {
    const VAULT: &str = "/SUBSCRIPTIONS/6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B/RESOURCEGROUPS/RG-WEB/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-WEB-PROD";
    let dir = tempfile::tempdir().unwrap();
    let mut lines = same_event_lines();
    lines.push(format!(
        r#"{{"count": 3, "total": 3, "minimum": 1, "maximum": 1, "average": 1, "resourceId": "{VAULT}", "time": "2026-11-20T10:00:00.0000000Z", "metricName": "ServiceApiHit", "timeGrain": "PT1M"}}"#
    ));
    let blob = write(dir.path(), "PT1H.json", lines.join("\n").as_bytes());
    let workspace = write(
        dir.path(),
        "azuremetrics.json",
        format!(r#"[{{"TimeGenerated": "2026-11-20T10:00:00Z", "ResourceId": "{VAULT}", "MetricName": "ServiceApiLatency", "Total": 12, "Count": 3, "Type": "AzureMetrics"}}]"#).as_bytes(),
    );
    let activity = write(
        dir.path(),
        "activity-log.json",
        br#"[{"caller": "bob.martin@contosopay.com", "category": {"localizedValue": "Administrative", "value": "Administrative"}, "eventTimestamp": "2026-11-20T10:00:00.1234567Z", "level": "Informational", "operationName": {"localizedValue": "Update Key Vault", "value": "Microsoft.KeyVault/vaults/write"}, "resourceId": "/subscriptions/6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b/resourceGroups/rg-web/providers/Microsoft.KeyVault/vaults/kv-web-prod", "status": {"localizedValue": "Succeeded", "value": "Succeeded"}}]"#,
    );
    let (code, text, summary) = audit(&[&blob, &workspace, &activity]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        summary["records_analyzed"].as_u64().unwrap(),
        same_event_lines().len() as u64
    );
    assert_eq!(
        rejection_counts(&summary),
        [("not-audit-event".to_owned(), 3)]
    );
    let examples = summary["rejections"][0]["examples"].to_string();
    for what in [
        "an AzureMetrics record (metric ServiceApiHit) of vault kv-web-prod",
        "an AzureMetrics record (metric ServiceApiLatency) of vault kv-web-prod",
        "an Activity Log record (operation Microsoft.KeyVault/vaults/write, category Administrative) of vault kv-web-prod",
    ] {
        assert!(examples.contains(what), "{what} not in {examples}");
    }
}
