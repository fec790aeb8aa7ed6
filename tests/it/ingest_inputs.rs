//! Inputs: directories, globs, gzip and standard input.

use std::io::Write;

use crate::common::{audit, data, kvaudit};
use flate2::Compression;
use flate2::write::GzEncoder;

#[test]
fn gzip_directories_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    let blob_dir = dir
        .path()
        .join("insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV/y=2026/m=11/d=20/h=10/m=00");
    std::fs::create_dir_all(&blob_dir).unwrap();
    let plain = std::fs::read(data("same-events/PT1H.json")).unwrap();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&plain).unwrap();
    std::fs::write(blob_dir.join("PT1H.json.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a log, and not read").unwrap();

    let (code, text, summary) = audit(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["records_analyzed"], 6);
    assert_eq!(summary["records_rejected"], 0);

    let pattern = format!(
        "{}/insights-logs-auditevent/**/PT1H.json.gz",
        dir.path().display()
    );
    let (code, text, summary) = audit(&[&pattern]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["records_analyzed"], 6);
}

#[test]
fn standard_input() {
    let out = tempfile::tempdir().unwrap();
    let plain = std::fs::read(data("same-events/eventhub-records.json")).unwrap();
    kvaudit()
        .args(["audit", "-", "--quiet", "--out"])
        .arg(out.path())
        .write_stdin(plain)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["records_analyzed"], 6);
    assert_eq!(summary["inputs"][0]["name"], "-");
}

#[test]
fn the_same_run_writes_the_same_summary() {
    let input = data("same-events");
    let (_, _, first) = audit(&[input.to_str().unwrap()]);
    let (_, _, second) = audit(&[input.to_str().unwrap()]);
    assert_eq!(first, second);
}

#[test]
fn the_bundled_sample_logs_load_completely() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let (code, text, summary) = audit(&[samples.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["records_rejected"], 0, "{text}");
    // sample-logs/README.md: 37,682 records at seed 42, scale 1
    assert_eq!(summary["records_read"], 37_682);
    let layouts: std::collections::BTreeSet<&str> = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["layout"].as_str().unwrap())
        .collect();
    assert_eq!(layouts, ["json-document", "json-lines"].into());
    assert!(
        text.contains("id-payments-api"),
        "managed identities are named: {text}"
    );
}
