//! No record lost, none counted twice: damaged, cut, piped, linked, grown,
//! implausible and oversized inputs, each built here, with the exact counts
//! (records read, analysed, rejected by reason) they must give; and a
//! property test of the reader and the format detector over random damage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{audit, kvaudit, rejection_counts, rejection_locations};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// A valid raw AuditEvent record, the `i`-th of a day (one a second).
fn record(i: usize) -> Value {
    json!({
        "time": format!("2026-11-20T{:02}:{:02}:{:02}.000Z", (i / 3600) % 24, (i / 60) % 60, i % 60),
        "resourceId": "/SUBSCRIPTIONS/6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B/RESOURCEGROUPS/RG-WEB/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-WEB",
        "operationName": "SecretGet",
        "operationVersion": "7.4",
        "category": "AuditEvent",
        "resultType": "Success",
        "resultSignature": "OK",
        "durationMs": "12",
        "callerIpAddress": "10.0.0.4",
        "correlationId": format!("00000000-0000-0000-0000-{i:012}"),
        "identity": {"claim": {"oid": "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "appid": "9a8b7c6d-5e4f-4321-9876-543210fedcba",
                               "appidacr": "1", "idtyp": "app", "xms_az_nwperimid": []}},
        "properties": {"httpStatusCode": 200, "tlsVersion": "TLS1_2",
                       "requestUri": "https://kv-web.vault.azure.net/secrets/db/?api-version=7.4",
                       "id": "https://kv-web.vault.azure.net/secrets/db/0123456789abcdef0123456789abcdef"}
    })
}

fn line(i: usize) -> String {
    record(i).to_string()
}

fn json_lines(n: usize) -> String {
    (0..n).map(|i| line(i) + "\n").collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// (read, analysed, rejections by reason) of a summary; read == analysed +
/// rejected + duplicate is checked.
fn counts(summary: &Value) -> (u64, u64, Vec<(String, u64)>) {
    let read = summary["records_read"].as_u64().unwrap();
    let analysed = summary["records_analyzed"].as_u64().unwrap();
    let rejected = summary["records_rejected"].as_u64().unwrap();
    let duplicate = summary["records_duplicate"].as_u64().unwrap();
    assert_eq!(read, analysed + rejected + duplicate, "{summary}");
    (read, analysed, rejection_counts(summary))
}

fn reasons(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(r, c)| ((*r).to_owned(), *c)).collect()
}

/// Every example text of a summary's rejections.
fn examples(summary: &Value) -> Vec<String> {
    summary["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["examples"].as_array().unwrap().iter())
        .map(|e| e.as_str().unwrap().to_owned())
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

// 1. A damaged record inside a JSON document loses only itself.

#[test]
fn a_broken_record_in_a_pretty_array_is_the_only_one_lost() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<String> = (0..1000)
        .map(|i| {
            let pretty = serde_json::to_string_pretty(&record(i)).unwrap();
            pretty
                .lines()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let mut text = format!("[\n{}\n]\n", records.join(",\n"));
    // Record 500 loses the comma after its operation name.
    let start = text.find(&records[499]).unwrap();
    let at = start + records[499].find("\"SecretGet\",").unwrap() + "\"SecretGet\"".len();
    text.remove(at);
    let file = write(dir.path(), "export.json", text.as_bytes());
    let (code, out, summary) = audit(&[&file]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        counts(&summary),
        (1000, 999, reasons(&[("invalid-json", 1)]))
    );
    assert_eq!(
        rejection_locations(&summary),
        [format!("{file}:{}", line_of(&text, start))]
    );
}

#[test]
fn a_broken_record_in_a_compact_array_is_the_only_one_lost() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..1000).map(line).collect();
    let mut text = format!("[{}]\n", lines.join(",\n"));
    // A byte flipped in record 500: a quote becomes `#`.
    let start = text.find(&lines[499]).unwrap();
    let at = start + lines[499].find("\"resultType\"").unwrap();
    text.replace_range(at..at + 1, "#");
    let file = write(dir.path(), "export.json", text.as_bytes());
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (1000, 999, reasons(&[("invalid-json", 1)]))
    );
    assert_eq!(rejection_locations(&summary), [format!("{file}:500")]);
}

#[test]
fn invalid_utf8_inside_an_array_loses_only_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..200).map(line).collect();
    // One line, as some exporters write arrays.
    let text = format!("[{}]", lines.join(","));
    let mut bytes = text.into_bytes();
    let at = lines[..99].iter().map(|l| l.len() + 1).sum::<usize>()
        + 1
        + lines[99].find("10.0.0.4").unwrap();
    bytes[at] = 0xff;
    let file = write(dir.path(), "export.json", &bytes);
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (200, 199, reasons(&[("invalid-utf8", 1)]))
    );
}

#[test]
fn a_broken_record_in_an_event_hub_batch_loses_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let batch = |from: usize| {
        let records: Vec<String> = (from..from + 100).map(line).collect();
        format!("{{\"records\":[{}]}}", records.join(","))
    };
    let mut second = batch(100);
    // Record 42 of the second batch: a quote lost.
    let record = line(141);
    let start = second.find(&record).unwrap();
    let at = start + record.find(":\"Success\"").unwrap() + 1;
    second.remove(at);
    let text = format!("{}\n{second}\n{}\n", batch(0), batch(200));
    let file = write(dir.path(), "eventhub.json", text.as_bytes());
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (300, 299, reasons(&[("invalid-json", 1)]))
    );
    assert_eq!(rejection_locations(&summary), [format!("{file}:2")]);
    // Invalid UTF-8 in a batch line too.
    let mut bytes = text.replace(&second, &batch(100)).into_bytes();
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 500;
    bytes[at] = 0xfe;
    let file = write(dir.path(), "eventhub-utf8.json", &bytes);
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (300, 299, reasons(&[("invalid-utf8", 1)]))
    );
}

// 2. JSON Lines whose first line was cut are still JSON Lines.

#[test]
fn json_lines_with_a_cut_first_line_lose_only_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = json_lines(100);
    for cut_after in ["\"xms_az_nwperimid\":[", "\"claim\":"] {
        let first_end = text.find('\n').unwrap();
        let cut = text.find(cut_after).unwrap() + cut_after.len();
        assert!(cut < first_end);
        let damaged = format!("{}{}", &text[..cut], &text[first_end..]);
        let file = write(dir.path(), "PT1H.json", damaged.as_bytes());
        let (_, _, summary) = audit(&[&file]);
        assert_eq!(
            counts(&summary),
            (100, 99, reasons(&[("truncated-record", 1)])),
            "cut after {cut_after}"
        );
        assert_eq!(rejection_locations(&summary), [format!("{file}:1")]);
        assert_eq!(summary["inputs"][0]["layout"], "json-lines");
    }
}

// 3. Pipes and FIFOs are read once, whole.

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

/// Audits `path` while a thread writes `bytes` into it; fails rather than hang.
fn audit_fifo(path: &Path, bytes: Vec<u8>) -> Value {
    let writer = {
        let path = path.to_owned();
        std::thread::spawn(move || {
            // A reader that opened the FIFO twice closes it early: the write fails.
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&bytes));
        })
    };
    let out = tempfile::tempdir().unwrap();
    let output = kvaudit()
        .arg("audit")
        .arg(path)
        .arg("--quiet")
        .arg("--out")
        .arg(out.path())
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    writer.join().unwrap();
    serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
        .unwrap()
}

#[test]
fn a_fifo_is_read_once_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path(), "logs");
    let summary = audit_fifo(&path, json_lines(500).into_bytes());
    assert_eq!(counts(&summary), (500, 500, vec![]));
    // The same through gzip, as `<(zcat logs.gz)` would not need.
    let path = fifo(dir.path(), "logs-gz");
    let summary = audit_fifo(&path, gzip(json_lines(500).as_bytes()));
    assert_eq!(counts(&summary), (500, 500, vec![]));
}

#[test]
fn parquet_through_a_fifo_and_standard_input() {
    use indicatif::ProgressBar;
    use kvaudit::ingest::{self, Input};
    let dir = tempfile::tempdir().unwrap();
    let jsonl = write(dir.path(), "PT1H.json", json_lines(50).as_bytes());
    let mut events = ingest::ingest(&[Input::File(jsonl.into())], &ProgressBar::hidden())
        .unwrap()
        .events;
    let parquet = dir.path().join("pull.parquet");
    ingest::parquet::write(&mut events, None, &parquet).unwrap();
    let bytes = std::fs::read(&parquet).unwrap();

    let path = fifo(dir.path(), "pull");
    let summary = audit_fifo(&path, bytes.clone());
    assert_eq!(counts(&summary), (50, 50, vec![]));
    assert_eq!(summary["inputs"][0]["layout"], "parquet");

    let out = tempfile::tempdir().unwrap();
    kvaudit()
        .args(["audit", "-", "--quiet", "--out"])
        .arg(out.path())
        .write_stdin(bytes)
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(counts(&summary), (50, 50, vec![]));
}

// 4. Symbolic links in a walked folder are followed, or named when they cannot be.

#[test]
fn symlinks_in_a_folder_are_followed_and_loops_named() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    write(&logs, "a/PT1H.json", json_lines(2).as_bytes());
    // Other records than a/PT1H.json's: the same records in two files are
    // one record each (tests/it/duplicates.rs), however they are reached.
    let outside: String = (2..5).map(|i| line(i) + "\n").collect();
    let outside = write(dir.path(), "elsewhere/blob.json", outside.as_bytes());
    symlink(&outside, logs.join("linked.json")).unwrap();
    symlink(logs.join("a/PT1H.json"), logs.join("same-as-a.json")).unwrap();
    symlink(dir.path().join("elsewhere"), logs.join("more")).unwrap();
    symlink(&logs, logs.join("a/loop")).unwrap();
    symlink(dir.path().join("nothing.json"), logs.join("broken.json")).unwrap();

    let (code, text, summary) = audit(&[logs.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    // a/PT1H.json and the file outside, each once, however many links lead there.
    assert_eq!(counts(&summary), (5, 5, vec![]));
    assert_eq!(summary["inputs"].as_array().unwrap().len(), 2, "{summary}");
    assert!(text.contains("a/loop") && text.contains("loop"), "{text}");
    assert!(
        text.contains("broken.json") && text.contains("does not exist"),
        "{text}"
    );
}

// 5 and 6. The scheduled job: cut records resume whole, files are keyed canonically.

struct Job {
    dir: tempfile::TempDir,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kvaudit.toml"),
            "state = \"state\"\nout = \"reports/current\"\nformat = [\"json\"]\nquiet = true\n\
             # These tests are about what is read; an idle rerun or an all-rejected\n\
             # run (exit 4 otherwise) is part of them.\n\
             allow-empty = true\n[sources]\npaths = [\"feed/\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("feed")).unwrap();
        Job { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Runs with `--config <config>` from the job's folder; returns the summary.
    fn run_as(&self, config: &str) -> Value {
        let output = kvaudit()
            .current_dir(self.dir.path())
            .args(["run", "--config", config])
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap();
        let code = output.status.code().unwrap_or(-1);
        assert!(code == 0 || code == 1, "{output:?}");
        let reports = self.path("reports/current");
        let summary =
            serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
                .unwrap();
        std::fs::remove_dir_all(reports).unwrap();
        summary
    }

    fn run(&self) -> Value {
        self.run_as(&self.path("kvaudit.toml").display().to_string())
    }

    fn manifest(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("state/manifest.json")).unwrap())
            .unwrap()
    }

    fn append(&self, relative: &str, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path(relative))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
}

#[test]
fn a_blob_cut_mid_record_is_read_on_from_the_cut_record() {
    let job = Job::new();
    let fourth = line(3);
    let (head, tail) = fourth.split_at(fourth.len() / 2);
    write(
        &job.path("feed"),
        "PT1H.json",
        format!("{}{head}", json_lines(3)).as_bytes(),
    );
    let first = job.run();
    assert_eq!(counts(&first), (4, 3, reasons(&[("truncated-record", 1)])));

    // The writer finishes the record and adds two more.
    job.append(
        "feed/PT1H.json",
        &format!("{tail}\n{}\n{}\n", line(4), line(5)),
    );
    let second = job.run();
    assert_eq!(counts(&second), (3, 3, vec![]));

    let third = job.run();
    assert_eq!(counts(&third), (0, 0, vec![]));
}

#[test]
fn files_are_remembered_by_their_canonical_path_and_old_keys_migrate() {
    let job = Job::new();
    write(&job.path("feed"), "PT1H.json", json_lines(5).as_bytes());
    let first = job.run_as("kvaudit.toml");
    assert_eq!(counts(&first), (5, 5, vec![]));
    let second = job.run_as("./kvaudit.toml");
    assert_eq!(
        counts(&second),
        (0, 0, vec![]),
        "read again under another spelling"
    );
    let canonical = std::fs::canonicalize(job.path("feed"))
        .unwrap()
        .join("PT1H.json")
        .display()
        .to_string();
    let keys: Vec<String> = job.manifest()["files"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, std::slice::from_ref(&canonical));

    // A state written before the fix: keyed by the path as written, even
    // twice (a run with each spelling).
    let mut manifest = job.manifest();
    let mark = manifest["files"][&canonical].clone();
    manifest["files"] = json!({"feed/PT1H.json": mark, "./feed/PT1H.json": mark});
    std::fs::write(
        job.path("state/manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    job.append("feed/PT1H.json", &format!("{}\n", line(5)));
    let third = job.run_as("./kvaudit.toml");
    assert_eq!(counts(&third), (1, 1, vec![]), "only the new line");
    let keys: Vec<String> = job.manifest()["files"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, [canonical]);
}

// 7. Implausible times are rejected, with the value in the message.

#[test]
fn times_before_key_vault_or_after_the_run_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..1000).map(line).collect();
    lines[10] = lines[10].replace("2026-11-20T00:00:10.000Z", "1900-01-01T00:00:00Z");
    lines[20] = lines[20].replace("2026-11-20T00:00:20.000Z", "2262-04-11T00:00:00Z");
    let file = write(
        dir.path(),
        "PT1H.json",
        (lines.join("\n") + "\n").as_bytes(),
    );
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (1000, 998, reasons(&[("implausible-time", 2)]))
    );
    let examples = examples(&summary);
    assert!(
        examples
            .iter()
            .any(|e| e.contains(":11:") && e.contains("1900-01-01")),
        "{examples:?}"
    );
    assert!(
        examples
            .iter()
            .any(|e| e.contains(":21:") && e.contains("2262-04-11")),
        "{examples:?}"
    );
    assert_eq!(summary["time_from"], "2026-11-20T00:00:00.0000000Z");
}

#[test]
fn a_record_dated_a_year_ahead_leaves_the_jobs_history_alone() {
    let job = Job::new();
    let days: String = (18..=20)
        .flat_map(|day| {
            (0..5).map(move |i| line(i).replace("2026-11-20", &format!("2026-11-{day}")) + "\n")
        })
        .collect();
    write(&job.path("feed"), "days.json", days.as_bytes());
    let first = job.run();
    assert_eq!(counts(&first), (15, 15, vec![]));
    let history = |m: &Value| -> Vec<String> {
        m["documents"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("events"))
            .cloned()
            .collect()
    };
    let before = history(&job.manifest());
    assert_eq!(before.len(), 3, "{before:?}");

    let ahead = chrono::Utc::now() + chrono::Duration::days(365);
    let future = line(0).replace(
        "2026-11-20T00:00:00.000Z",
        &ahead.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    );
    write(
        &job.path("feed"),
        "future.json",
        format!("{future}\n").as_bytes(),
    );
    let second = job.run();
    assert_eq!(counts(&second), (1, 0, reasons(&[("implausible-time", 1)])));
    assert_eq!(history(&job.manifest()), before);
}

// 9. An inventory field kvaudit cannot read is an error naming the file and item.

#[test]
fn wrong_typed_inventory_fields_are_errors_naming_the_file_and_item() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write(dir.path(), "PT1H.json", json_lines(3).as_bytes());
    let vault = json!({
        "id": "/subscriptions/6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b/resourceGroups/rg-web/providers/Microsoft.KeyVault/vaults/kv-web",
        "name": "kv-web", "type": "Microsoft.KeyVault/vaults",
        "properties": {"enableRbacAuthorization": false, "accessPolicies": "notalist"}
    });
    let assignments = json!([{
        "id": "/x/roleAssignments/1", "type": "Microsoft.Authorization/roleAssignments",
        "principalId": 12345, "principalType": "User",
        "roleDefinitionId": "/r/00482a5a-887f-4fb3-b363-3b7fe8e74483", "scope": "/subscriptions/s"
    }]);
    for (name, content, expected) in [
        (
            "show.json",
            vault,
            "`properties.accessPolicies` is a string",
        ),
        (
            "roles.json",
            assignments,
            "(item 1 of the array): `principalId` is a number",
        ),
    ] {
        let inventory = write(dir.path(), name, content.to_string().as_bytes());
        let output = kvaudit()
            .args(["audit", &logs, "--inventory", &inventory, "--out"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&inventory), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

// 11. No record larger than the limit is held; memory stays bounded.

#[test]
fn a_line_over_the_limit_is_one_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let huge = format!("{{\"time\":\"{}\"}}", "a".repeat(17 << 20));
    let text = format!("{}\n{huge}\n{}\n", line(0), line(1));
    let file = write(dir.path(), "PT1H.json.gz", &gzip(text.as_bytes()));
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (3, 2, reasons(&[("record-too-large", 1)]))
    );
    assert_eq!(rejection_locations(&summary), [format!("{file}:2")]);

    // The same inside a document.
    let text = format!("[{},\n{huge},\n{}]\n", line(0), line(1));
    let file = write(dir.path(), "export.json.gz", &gzip(text.as_bytes()));
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (3, 2, reasons(&[("record-too-large", 1)]))
    );
}

/// The ingest stage's peak RSS, from `--timings`.
fn ingest_peak_mb(file: &str) -> (u64, Value) {
    let out = tempfile::tempdir().unwrap();
    let output = kvaudit()
        // A bomb's one record is rejected: nothing analysed, which is not
        // what this measures.
        .args([
            "audit",
            file,
            "--timings",
            "--allow-empty",
            "--format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let peak = stderr
        .lines()
        .find(|l| l.contains("timing ingest"))
        .and_then(|l| l.split("peak-rss ").nth(1))
        .and_then(|mb| mb.trim_end_matches("MB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no ingest timing in {stderr}"));
    let summary =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    (peak, summary)
}

#[test]
fn a_gzip_bomb_of_one_endless_line_does_not_grow_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (baseline, _) = ingest_peak_mb(&write(dir.path(), "small.json", json_lines(3).as_bytes()));
    for (name, start) in [
        ("bomb.json.gz", "{\"time\":\""),
        ("bomb-array.json.gz", "[{\"time\":\""),
    ] {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(start.as_bytes()).unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..384 {
            encoder.write_all(&chunk).unwrap();
        }
        let file = write(dir.path(), name, &encoder.finish().unwrap());
        let (peak, summary) = ingest_peak_mb(&file);
        assert_eq!(
            counts(&summary),
            (1, 0, reasons(&[("record-too-large", 1)])),
            "{name}"
        );
        // 384 MiB decompressed; the limit (16 MiB) and a block (16 MiB) may be held.
        assert!(
            peak < baseline + 100,
            "{name}: ingest peak {peak} MB, {baseline} MB for a small file"
        );
    }
}

// 12. Wrong-typed fields are rejected, naming the field; a broken line is one rejection.

#[test]
fn a_field_of_the_wrong_type_rejects_its_record_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<Value> = (0..5).map(record).collect();
    lines[1]["durationMs"] = json!({"value": 12});
    lines[2]["callerIpAddress"] = json!(["10.0.0.4"]);
    lines[3]["properties"]["httpStatusCode"] = json!("two hundred");
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    let file = write(dir.path(), "PT1H.json", text.as_bytes());
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(counts(&summary), (5, 2, reasons(&[("invalid-field", 3)])));
    let examples = examples(&summary);
    for (line, field) in [
        (2, "durationMs"),
        (3, "callerIpAddress"),
        (4, "httpStatusCode"),
    ] {
        assert!(
            examples
                .iter()
                .any(|e| e.contains(&format!(":{line}:")) && e.contains(field)),
            "{field}: {examples:?}"
        );
    }
}

#[test]
fn a_broken_line_is_one_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "cut.json", b"[1,2\n");
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(
        counts(&summary),
        (1, 0, reasons(&[("truncated-record", 1)]))
    );
    // Within JSON Lines: a line of three broken values counts once.
    let file = write(
        dir.path(),
        "PT1H.json",
        format!("{}\n[1,2 3\n{}\n", line(0), line(1)).as_bytes(),
    );
    let (_, _, summary) = audit(&[&file]);
    assert_eq!(counts(&summary), (3, 2, reasons(&[("invalid-json", 1)])));
}

// The invariant over random damage: every record read is analysed or
// rejected, nothing panics, and no more is read than the input could hold.

mod property {
    use super::*;
    use indicatif::ProgressBar;
    use kvaudit::ingest::{self, Input};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Layout {
        Lines,
        PrettyArray,
        CompactArray,
        EnvelopeLines,
        PrettyEnvelope,
        Csv,
    }

    #[derive(Debug, Clone)]
    enum Damage {
        Cut(f64),
        Flip(f64, u8),
        Insert(f64, Vec<u8>),
        Delete(f64, usize),
    }

    #[derive(Debug, Clone)]
    struct Case {
        layout: Layout,
        records: usize,
        nest: u8,
        damage: Vec<Damage>,
        bom: bool,
        crlf: bool,
        gzip: Option<f64>,
    }

    const CSV: &str = include_str!("../data/same-events/azurediagnostics-portal.csv");

    fn base(layout: &Layout, n: usize) -> (String, usize) {
        let lines: Vec<String> = (0..n).map(line).collect();
        let text = match layout {
            Layout::Lines => lines.iter().map(|l| l.clone() + "\n").collect(),
            Layout::PrettyArray => {
                let values: Vec<Value> = (0..n).map(record).collect();
                serde_json::to_string_pretty(&values).unwrap()
            }
            Layout::CompactArray => format!("[{}]", lines.join(",\n")),
            Layout::EnvelopeLines => lines
                .chunks(3)
                .map(|c| format!("{{\"records\":[{}]}}\n", c.join(",")))
                .collect(),
            Layout::PrettyEnvelope => {
                let values: Vec<Value> = (0..n).map(record).collect();
                serde_json::to_string_pretty(&json!({ "records": values })).unwrap()
            }
            Layout::Csv => return (CSV.to_owned(), CSV.lines().count()),
        };
        (text, n)
    }

    fn at(len: usize, f: f64) -> usize {
        ((len as f64) * f).floor().min(len as f64) as usize
    }

    /// The input a case describes, and how many good records it started with.
    fn build(case: &Case) -> (Vec<u8>, usize) {
        let (mut text, records) = base(&case.layout, case.records);
        for _ in 0..case.nest {
            text = if text.len() % 2 == 0 {
                format!("[{text}]")
            } else {
                format!("{{\"records\": [{text}]}}")
            };
        }
        if case.crlf {
            text = text.replace('\n', "\r\n");
        }
        let mut bytes = text.into_bytes();
        for damage in &case.damage {
            match damage {
                Damage::Cut(f) => bytes.truncate(at(bytes.len(), *f)),
                Damage::Flip(f, b) => {
                    if !bytes.is_empty() {
                        let i = at(bytes.len() - 1, *f);
                        bytes[i] = *b;
                    }
                }
                Damage::Insert(f, inserted) => {
                    let i = at(bytes.len(), *f);
                    bytes.splice(i..i, inserted.iter().copied());
                }
                Damage::Delete(f, n) => {
                    let i = at(bytes.len(), *f);
                    let end = (i + n).min(bytes.len());
                    bytes.drain(i..end);
                }
            }
        }
        if case.bom {
            bytes.splice(0..0, *b"\xEF\xBB\xBF");
        }
        (bytes, records)
    }

    fn damage() -> impl Strategy<Value = Damage> {
        prop_oneof![
            (0.0..1.0f64).prop_map(Damage::Cut),
            (
                0.0..1.0f64,
                prop::sample::select(vec![
                    b'"', b'{', b'}', b'[', b']', b',', b':', b'\n', 0xff, 0xc3, b'x', 0
                ])
            )
                .prop_map(|(f, b)| Damage::Flip(f, b)),
            (
                0.0..1.0f64,
                prop::sample::select(vec![
                    b"{".to_vec(),
                    b"},{".to_vec(),
                    b"\xff\xfe".to_vec(),
                    b"\n".to_vec(),
                    b"[1,2".to_vec(),
                    b"{\"records\":[".to_vec(),
                    "é".as_bytes().to_vec(),
                ])
            )
                .prop_map(|(f, b)| Damage::Insert(f, b)),
            (0.0..1.0f64, 1..40usize).prop_map(|(f, n)| Damage::Delete(f, n)),
        ]
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            prop_oneof![
                Just(Layout::Lines),
                Just(Layout::PrettyArray),
                Just(Layout::CompactArray),
                Just(Layout::EnvelopeLines),
                Just(Layout::PrettyEnvelope),
                Just(Layout::Csv),
            ],
            1..12usize,
            0..3u8,
            prop::collection::vec(damage(), 0..4),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(0.3..1.0f64),
        )
            .prop_map(|(layout, records, nest, damage, bom, crlf, gzip)| Case {
                layout,
                records,
                nest,
                damage,
                bom,
                crlf,
                gzip,
            })
    }

    /// Reads a case's input in process; checks the invariant.
    fn check(case: &Case) {
        let (bytes, good) = build(case);
        // Anything that can start a record: an object, a line, an element.
        let bound = bytes
            .iter()
            .filter(|&&b| matches!(b, b'{' | b'\n' | b','))
            .count() as u64
            + 2;
        let bytes = match case.gzip {
            Some(keep) => {
                let whole = gzip(&bytes);
                let n = at(whole.len(), keep).max(1);
                whole[..n].to_vec()
            }
            None => bytes,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.json");
        std::fs::write(&path, &bytes).unwrap();
        let ingested = ingest::ingest(&[Input::File(path)], &ProgressBar::hidden())
            .expect("ingest never fails on bad input");
        let analysed = ingested.records_analyzed();
        let rejected = ingested.rejections.total();
        assert_eq!(ingested.records_read, analysed + rejected, "{case:?}");
        assert!(
            analysed as usize <= good,
            "{analysed} analysed of {good}: {case:?}"
        );
        assert!(
            ingested.records_read <= bound,
            "{} read, at most {bound} possible: {case:?}",
            ingested.records_read
        );
        assert_eq!(ingested.inputs[0].records_read, ingested.records_read);
    }

    /// The regressions above, kept as the property's seed corpus.
    #[test]
    fn seed_corpus() {
        let seeds = [
            Case {
                layout: Layout::CompactArray,
                records: 9,
                nest: 0,
                damage: vec![Damage::Flip(0.5, b'#')],
                bom: false,
                crlf: false,
                gzip: None,
            },
            Case {
                layout: Layout::CompactArray,
                records: 9,
                nest: 0,
                damage: vec![Damage::Flip(0.5, 0xff)],
                bom: false,
                crlf: false,
                gzip: None,
            },
            Case {
                layout: Layout::EnvelopeLines,
                records: 9,
                nest: 0,
                damage: vec![Damage::Delete(0.5, 1)],
                bom: false,
                crlf: false,
                gzip: None,
            },
            Case {
                layout: Layout::Lines,
                records: 9,
                nest: 0,
                damage: vec![Damage::Delete(0.05, 60)],
                bom: false,
                crlf: false,
                gzip: None,
            },
            Case {
                layout: Layout::PrettyArray,
                records: 5,
                nest: 1,
                damage: vec![Damage::Insert(0.5, b"},{".to_vec())],
                bom: true,
                crlf: true,
                gzip: None,
            },
            Case {
                layout: Layout::Lines,
                records: 5,
                nest: 0,
                damage: vec![Damage::Cut(0.9)],
                bom: false,
                crlf: false,
                gzip: Some(0.7),
            },
            Case {
                layout: Layout::Csv,
                records: 1,
                nest: 0,
                damage: vec![Damage::Flip(0.3, b'"')],
                bom: true,
                crlf: false,
                gzip: None,
            },
        ];
        for seed in &seeds {
            check(seed);
        }
        // `[1,2` on its own: one record read, one rejected.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.json");
        std::fs::write(&path, b"[1,2").unwrap();
        let ingested = ingest::ingest(&[Input::File(path)], &ProgressBar::hidden()).unwrap();
        assert_eq!((ingested.records_read, ingested.rejections.total()), (1, 1));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            failure_persistence: None,
            max_shrink_iters: 256,
            ..ProptestConfig::default()
        })]

        #[test]
        fn every_record_read_is_analysed_or_rejected(case in case()) {
            check(&case);
        }
    }
}
