//! Pull benchmark, not a test: `bench/pull.sh [ROWS]` runs it. It times the
//! release binary (`KVAUDIT_BIN`) pulling ROWS rows (default 1,000,000) from
//! the in-process Log Analytics stand-in (`tests/standin`) over HTTPS, through
//! the real client, credential (a stub `az`) and decoder, and prints rows per
//! second and the peak memory of the kvaudit process. Nothing is asserted
//! about time.
//!
//! The stand-in runs in this (debug) process and encodes every answer, so it
//! shares the machine's cores with kvaudit: the figure is a floor for the
//! client. (A `cargo bench` target would build polars a second time in
//! release with the dev-dependencies' features.)

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};

const WORKSPACE: &str = "11111111-2222-3333-4444-555555555555";

#[test]
#[ignore = "a benchmark: run bench/pull.sh"]
fn pull_benchmark() {
    let rows: i64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let binary = std::env::var("KVAUDIT_BIN").expect("KVAUDIT_BIN names the release binary");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut templates = crate::standin::export_rows(
        &root.join("sample-logs/log-analytics/azurediagnostics-export.json"),
    );
    templates.extend(crate::standin::export_rows(
        &root.join("tests/data/same-events/azkvauditlogs-export.json"),
    ));
    let start: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let days = 7;
    let standin = crate::standin::StandIn::start();
    standin.state.lock().unwrap().generated.insert(
        WORKSPACE.into(),
        crate::standin::Generated {
            templates,
            start,
            step: Duration::days(days) / rows as i32,
            count: rows,
        },
    );
    let out = tempfile::tempdir().unwrap();
    let parquet = out.path().join("pull.parquet");
    let time_file = out.path().join("time");
    let path = format!(
        "{}:{}",
        standin.stub_az().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%e %M %U %S", "-o"])
        .arg(&time_file)
        .arg(&binary)
        .args(["pull", "--auth", "azure-cli", "--endpoint", &standin.url()])
        .arg("--ca-cert")
        .arg(&standin.ca_pem)
        .args([
            "--workspace",
            WORKSPACE,
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-08",
        ])
        .args(["--slice", "6h", "--out"])
        .arg(&parquet)
        .env("PATH", path)
        .env_remove("SSL_CERT_FILE")
        .status()
        .expect("/usr/bin/time runs (apt-get install time)");
    assert!(status.success(), "kvaudit pull failed");
    let timing = std::fs::read_to_string(&time_file).unwrap();
    let mut fields = timing.split_whitespace();
    let seconds: f64 = fields.next().unwrap().parse().unwrap();
    let peak_kb: f64 = fields.next().unwrap().parse().unwrap();
    let cpu_seconds: f64 = fields.map(|f| f.parse::<f64>().unwrap()).sum();
    let requests = standin.query_requests();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let parquet_mb = std::fs::metadata(&parquet).unwrap().len() as f64 / 1e6;
    println!(
        "machine: {cpu}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let response_mb = standin
        .query_requests()
        .iter()
        .map(|r| r.response_bytes)
        .sum::<usize>() as f64
        / 1e6;
    println!(
        "| rows | queries | gzip MB received | wall s | rows/s | kvaudit CPU s | peak RSS MB | Parquet MB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {rows} | {} | {response_mb:.1} | {seconds:.2} | {:.0} | {cpu_seconds:.1} | {:.0} | {parquet_mb:.1} |",
        requests.len(),
        rows as f64 / seconds,
        peak_kb / 1024.0
    );
}
