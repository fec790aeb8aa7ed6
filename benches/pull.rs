//! Pull benchmark: `kvaudit pull` of ROWS rows (default 1,000,000) from the
//! in-process Log Analytics stand-in (`tests/standin`) over HTTPS, through the
//! real client, credential (a stub `az`) and decoder. Prints rows per second,
//! response megabytes and the peak memory of the kvaudit process.
//!
//!   bench/pull.sh [ROWS]        (cargo bench --bench pull -- ROWS)
//!
//! The stand-in runs in this process and encodes every answer, so it shares
//! the machine's cores with kvaudit: the figure is a floor for the client.

#[path = "../tests/standin/mod.rs"]
mod standin;

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};

const WORKSPACE: &str = "11111111-2222-3333-4444-555555555555";

fn main() {
    let rows: i64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut templates =
        standin::export_rows(&root.join("sample-logs/log-analytics/azurediagnostics-export.json"));
    templates.extend(standin::export_rows(
        &root.join("tests/data/same-events/azkvauditlogs-export.json"),
    ));
    let start: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let days = 7;
    let standin = standin::StandIn::start();
    standin.state.lock().unwrap().generated.insert(
        WORKSPACE.into(),
        standin::Generated {
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
        .args(["-f", "%e %M", "-o"])
        .arg(&time_file)
        .arg(env!("CARGO_BIN_EXE_kvaudit"))
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
    println!("| rows | queries | wall s | rows/s | peak RSS MB | Parquet MB |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {rows} | {} | {seconds:.2} | {:.0} | {:.0} | {parquet_mb:.1} |",
        requests.len(),
        rows as f64 / seconds,
        peak_kb / 1024.0
    );
}
