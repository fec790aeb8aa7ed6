//! Logging gaps (`kv-logging-gap`) end to end on 14 days of synthetic logs:
//! one hourly-logging vault's blobs removed for three days raise one finding
//! with the right start and end, the same set without the removal raises
//! none, a vault made to log rarely (two blobs a day) raises none, and a
//! vault whose last three days are removed is reported as an open gap.

use std::path::Path;

use crate::common::{generated_estate, kvaudit};
use serde_json::Value;

const RULE: &str = "kv-logging-gap";
/// Logs every few minutes, only in the blobs (its days are all there).
const HOURLY: &str = "KV-PAYMENTS-PROD";
/// Made rare in the tests: only two of its hourly blobs a day are kept.
const RARE: &str = "KV-WEB-PROD";

/// Where a blob is: its vault, day and hour, from
/// `.../VAULTS/<NAME>/y=2026/m=11/d=05/h=10/m=00/PT1H.json`.
struct Blob {
    vault: String,
    day: u32,
    hour: u32,
}

fn blob_of(relative: &Path) -> Option<Blob> {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let at = parts.iter().position(|p| p == "VAULTS")?;
    let number = |prefix: &str| {
        parts
            .iter()
            .find_map(|p| p.strip_prefix(prefix).and_then(|n| n.parse().ok()))
    };
    Some(Blob {
        vault: parts.get(at + 1)?.clone(),
        day: number("d=")?,
        hour: number("h=")?,
    })
}

/// A copy of the generated logs without the blobs `drop` names.
fn copy_without(drop: impl Fn(&Blob) -> bool) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    let from = generated_estate().join("logs");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(&from).unwrap();
        if blob_of(relative).is_some_and(|b| drop(&b)) {
            continue;
        }
        let target = to.path().join("logs").join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(entry.path(), target).unwrap();
    }
    to
}

/// The record times of a vault's blobs on `day`, as findings print them.
fn record_times(vault: &str, day: u32) -> Vec<String> {
    let from = generated_estate().join("logs");
    let mut times = Vec::new();
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(&from).unwrap();
        if !entry.file_type().is_file()
            || !blob_of(relative).is_some_and(|b| b.vault == vault && b.day == day)
        {
            continue;
        }
        for line in std::fs::read_to_string(entry.path()).unwrap().lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            let time: chrono::DateTime<chrono::Utc> =
                record["time"].as_str().unwrap().parse().unwrap();
            times.push(kvaudit::ingest::time::format_time(
                time.timestamp_nanos_opt().unwrap(),
            ));
        }
    }
    times.sort();
    times
}

fn audit(dir: &Path) -> Vec<Value> {
    let out = tempfile::tempdir().unwrap();
    let run = kvaudit()
        .arg("audit")
        .arg(dir.join("logs"))
        .args(["--quiet", "--format", "json", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let findings: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("findings.json")).unwrap())
            .unwrap();
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == RULE)
        .cloned()
        .collect()
}

/// Keeps two of the rare vault's 24 hourly blobs a day.
fn rare(b: &Blob) -> bool {
    b.vault == RARE && b.hour != 6 && b.hour != 18
}

#[test]
fn a_vault_silent_for_three_days_raises_one_logging_gap_and_a_rare_vault_none() {
    let set = copy_without(|b| (b.vault == HOURLY && (5..=7).contains(&b.day)) || rare(b));
    let gaps = audit(set.path());
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    let gap = &gaps[0];
    assert_eq!(gap["vault"], HOURLY.to_lowercase());
    assert_eq!(gap["severity"], "high");
    assert_eq!(gap["principal"], Value::Null);
    // From the last record before the silence (on the 4th) to the first
    // after it (on the 8th): both are the finding's evidence.
    let before = record_times(HOURLY, 4).pop().unwrap();
    let after = record_times(HOURLY, 8).remove(0);
    assert_eq!(gap["first_seen"], before.as_str(), "{gap:#}");
    assert_eq!(gap["last_seen"], after.as_str(), "{gap:#}");
    assert_eq!(gap["event_count"], 2);
    assert_eq!(gap["evidence"].as_array().unwrap().len(), 2);
    let message = gap["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "vault `kv-payments-prod` wrote no audit record for 72 h from 2026-11-04 23:"
        ),
        "{message}"
    );
    assert!(message.contains(" to 2026-11-08 00:"), "{message}");
    assert!(
        gap["remediation"]
            .as_str()
            .unwrap()
            .contains("az monitor diagnostic-settings list"),
        "{gap:#}"
    );
}

#[test]
fn the_generated_set_without_a_removal_raises_no_logging_gap() {
    let gaps = audit(generated_estate());
    assert!(gaps.is_empty(), "{gaps:#?}");
    // A vault logging twice a day is judged by its own rhythm: its nights
    // are its usual silences.
    let set = copy_without(rare);
    let gaps = audit(set.path());
    assert!(gaps.is_empty(), "{gaps:#?}");
}

#[test]
fn a_vault_that_stops_three_days_before_the_end_is_an_open_gap() {
    let set = copy_without(|b| b.vault == HOURLY && b.day >= 12);
    let gaps = audit(set.path());
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    let gap = &gaps[0];
    let before = record_times(HOURLY, 11).pop().unwrap();
    assert_eq!(gap["first_seen"], before.as_str(), "{gap:#}");
    assert_eq!(gap["last_seen"], before.as_str(), "{gap:#}");
    assert_eq!(gap["event_count"], 1);
    let message = gap["message"].as_str().unwrap();
    assert!(
        message.contains("still open at the end of the data"),
        "{message}"
    );
}
