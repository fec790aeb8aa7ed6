//! The scheduled job (`kvaudit run`) end to end, on 14 days of synthetic
//! logs from kvaudit-synth (the sample estate at a tenth of its
//! traffic; incidents keep their size):
//! - 14 daily runs find what one run over the 14 days finds;
//! - runs killed at random points never corrupt the state;
//! - a blob that grew is read from where the last run stopped;
//! - suppressions hide findings only while they are live, never silently;
//! - `kvaudit init` writes a configuration that runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::Instant;

use crate::common::{generated_estate, kvaudit};
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// Findings about the present state (grants, rotation), which every run
/// judges afresh; the others are about events, each judged by one run.
const POINT_IN_TIME_RULES: [&str; 7] = [
    "unused-permission",
    "dormant-grant",
    "access-policy-escalation",
    "unused-permission-no-data",
    "kv-near-expiry-not-rotated",
    "kv-expired-not-rotated",
    "kv-stale-secret",
];

/// Rules whose event count is "events with the new value in the logs read
/// so far": a daily run counts up to its day, one run over 14 days counts
/// them all. Their identity and first time must still agree.
const FIRST_SEEN_RULES: [&str; 4] = [
    "kv-first-seen-identity",
    "kv-first-seen-ip",
    "kv-first-seen-operation",
    "kv-first-seen-secret",
];

/// The days of [`generated_estate`].
const DAYS: u32 = 14;

fn storage_blobs() -> PathBuf {
    generated_estate().join("logs/insights-logs-auditevent")
}

/// Copies the blobs of day `day` (1-based) into `feed`, keeping their paths.
fn feed_day(feed: &Path, day: u32) {
    let marker = format!("d={day:02}");
    for entry in walkdir::WalkDir::new(storage_blobs()) {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(storage_blobs()).unwrap();
        if entry.file_type().is_file()
            && relative
                .components()
                .any(|c| c.as_os_str() == marker.as_str())
        {
            let to = feed.join(relative);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

/// A job directory: config, feed, state, reports.
struct Job {
    dir: tempfile::TempDir,
}

impl Job {
    fn new(extra: &str) -> Job {
        Job::with(extra, "quiet = true", &generated_estate().join("inventory"))
    }

    /// A job with `quiet` (or not) and an inventory of its own choosing.
    fn with(extra: &str, quiet: &str, inventory: &Path) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "state = \"state\"\nout = \"reports/current\"\nformat = [\"json\"]\n{quiet}\n\
             inventory = [\"{}\"]\n{extra}\n[sources]\npaths = [\"feed/\"]\n\
             [rates]\n# Short baselines and learning, so the history's older days\n\
             # are folded into aggregates within the 14 days.\nbaseline-days = 3\nlearning-days = 3\n",
            inventory.display()
        );
        std::fs::write(dir.path().join("kvaudit.toml"), config).unwrap();
        std::fs::create_dir_all(dir.path().join("feed")).unwrap();
        Job { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn command(&self) -> assert_cmd::Command {
        let mut cmd = kvaudit();
        cmd.arg("run")
            .arg("--config")
            .arg(self.path("kvaudit.toml"));
        cmd
    }

    /// Runs to the end; returns the run's exit code, findings, summary and
    /// stderr, and moves its reports aside. A run that analysed nothing (an
    /// idle rerun) ends with 4, which tests about reruns check.
    fn run(&self) -> RunResult {
        let output = self.command().output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let code = output.status.code().unwrap_or(-1);
        assert!(matches!(code, 0 | 1 | 4), "exit {code}: {stderr}");
        let reports = self.path("reports/current");
        let read = |name: &str| -> Value {
            std::fs::read_to_string(reports.join(name))
                .map(|s| serde_json::from_str(&s).unwrap())
                .unwrap_or(Value::Null)
        };
        let result = RunResult {
            code,
            findings: read("findings.json")
                .as_array()
                .cloned()
                .unwrap_or_default(),
            summary: read("summary.json"),
            suppressions: read("suppressions.json"),
            trends: read("trends.json"),
            stderr,
        };
        std::fs::remove_dir_all(&reports).unwrap();
        result
    }
}

struct RunResult {
    code: i32,
    findings: Vec<Value>,
    summary: Value,
    suppressions: Value,
    trends: Value,
    stderr: String,
}

fn rule(f: &Value) -> &str {
    f["rule"].as_str().unwrap()
}

/// What is compared of each finding, by id.
fn comparable(f: &Value) -> (String, String, String, String, u64) {
    let count = if FIRST_SEEN_RULES.contains(&rule(f)) {
        0
    } else {
        f["event_count"].as_u64().unwrap()
    };
    (
        rule(f).to_owned(),
        f["vault"].to_string(),
        f["principal"].to_string(),
        f["first_seen"].as_str().unwrap().to_owned(),
        count,
    )
}

/// The findings of a series of runs as one run would report them: event
/// findings merged across runs (counts added, first and last times widened),
/// point-in-time findings as the last run reports them.
fn merged(runs: &[Vec<Value>]) -> BTreeMap<String, Value> {
    let mut all: BTreeMap<String, Value> = BTreeMap::new();
    for findings in runs {
        for f in findings {
            if POINT_IN_TIME_RULES.contains(&rule(f)) {
                continue;
            }
            let id = f["id"].as_str().unwrap().to_owned();
            match all.get_mut(&id) {
                None => {
                    all.insert(id, f.clone());
                }
                Some(m) => {
                    let count =
                        m["event_count"].as_u64().unwrap() + f["event_count"].as_u64().unwrap();
                    m["event_count"] = count.into();
                    for (key, keep_min) in [("first_seen", true), ("last_seen", false)] {
                        let (a, b) = (m[key].as_str().unwrap(), f[key].as_str().unwrap());
                        if (b < a) == keep_min && b != a {
                            m[key] = b.into();
                        }
                    }
                }
            }
        }
    }
    if let Some(last) = runs.last() {
        for f in last
            .iter()
            .filter(|f| POINT_IN_TIME_RULES.contains(&rule(f)))
        {
            all.insert(f["id"].as_str().unwrap().to_owned(), f.clone());
        }
    }
    all
}

fn by_id(findings: &[Value]) -> BTreeMap<String, Value> {
    findings
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

fn assert_same(once: &BTreeMap<String, Value>, daily: &BTreeMap<String, Value>) {
    let mut differences = Vec::new();
    for id in once.keys().chain(daily.keys()) {
        let (a, b) = (once.get(id), daily.get(id));
        match (a, b) {
            (Some(a), Some(b)) if comparable(a) == comparable(b) => {}
            _ => differences.push(format!(
                "{id}: one run {:?}, daily runs {:?}",
                a.map(comparable),
                b.map(comparable)
            )),
        }
    }
    differences.dedup();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn fourteen_daily_runs_find_what_one_run_over_the_fourteen_days_finds() {
    let once = Job::new("");
    for day in 1..=DAYS {
        feed_day(&once.path("feed"), day);
    }
    let whole = once.run();
    assert!(whole.findings.len() > 20, "{}", whole.findings.len());

    let daily = Job::new("");
    let mut runs = Vec::new();
    let mut records = 0;
    for day in 1..=DAYS {
        feed_day(&daily.path("feed"), day);
        let run = daily.run();
        let read = run.summary["records_read"].as_u64().unwrap();
        assert!(read > 0, "day {day} read nothing");
        records += read;
        runs.push(run.findings);
    }
    // Each run read only its day: together, exactly what one run read.
    assert_eq!(records, whole.summary["records_read"].as_u64().unwrap());
    let merged = merged(&runs);
    assert_same(&by_id(&whole.findings), &merged);
    // The history's aggregates were used: findings from every kind of
    // analysis, including ones about days the events files no longer hold.
    for needed in [
        "kv-first-seen-operation",
        "unused-permission",
        "kv-near-expiry-not-rotated",
    ] {
        assert!(
            merged.values().any(|f| rule(f) == needed),
            "no {needed} finding"
        );
    }
    // A run with nothing new reads nothing and finds no event again.
    let idle = daily.run();
    assert_eq!(idle.summary["records_read"].as_u64(), Some(0));
    assert_eq!(idle.code, 4, "{}", idle.stderr);
    assert!(
        idle.stderr.contains("no new log files since the last run"),
        "{}",
        idle.stderr
    );
    // A logging gap still open at the end of the data is the vault's
    // present state too (kv-web-prod's and kv-shared-dev's last day is not
    // in the blobs the job reads).
    let still_open = |f: &Value| {
        rule(f) == "kv-logging-gap"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("still open at the end of the data"))
    };
    assert!(
        idle.findings
            .iter()
            .all(|f| POINT_IN_TIME_RULES.contains(&rule(f)) || still_open(f)),
        "{:?}",
        idle.findings.iter().map(rule).collect::<Vec<_>>()
    );
}

/// Kills runs at random moments (`SIGKILL`: no cleanup), then finishes each
/// day with a whole run: the state is always readable, and a later run
/// finds exactly what it finds after runs that were never interrupted.
#[test]
fn runs_killed_at_random_points_never_corrupt_the_state() {
    let days = 5;
    let clean = Job::new("");
    let killed = Job::new("");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut kills = 0;
    let mut stale_warnings = 0;
    for day in 1..=days {
        feed_day(&clean.path("feed"), day);
        feed_day(&killed.path("feed"), day);
        let started = Instant::now();
        clean.run();
        let duration = started.elapsed();
        for _ in 0..3 {
            let mut child = Process::new(env!("CARGO_BIN_EXE_kvaudit"))
                .arg("run")
                .arg("--config")
                .arg(killed.path("kvaudit.toml"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let at = duration.mul_f64(rng.random_range(0.0..1.1));
            std::thread::sleep(at);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                kills += 1;
            }
            child.wait().unwrap();
            let _ = std::fs::remove_dir_all(killed.path("reports"));
        }
        let after = killed.run();
        stale_warnings += after.stderr.matches("did not finish").count();
    }
    assert!(
        kills >= 8,
        "only {kills} runs were killed before they ended"
    );
    assert!(stale_warnings > 0, "no run noticed a stale lock");

    // One more day, uninterrupted, on both: it is judged against the whole
    // history, so equal findings mean equal states.
    feed_day(&clean.path("feed"), days + 1);
    feed_day(&killed.path("feed"), days + 1);
    let expected = clean.run();
    let got = killed.run();
    assert_same(&by_id(&expected.findings), &by_id(&got.findings));
    assert_eq!(
        expected.summary["records_read"],
        got.summary["records_read"]
    );
    // Nothing is left behind but the committed generation.
    let stray: Vec<String> = std::fs::read_dir(killed.path("state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn a_blob_that_grew_is_read_from_where_the_last_run_stopped() {
    let job = Job::new("");
    let blob = walkdir::WalkDir::new(storage_blobs())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.is_file() && p.to_string_lossy().contains("KV-PAYMENTS-PROD"))
        .unwrap();
    let text = std::fs::read_to_string(&blob).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 10);
    let half = lines.len() / 2;
    let target = job.path("feed/PT1H.json");
    std::fs::write(&target, lines[..half].join("\n") + "\n").unwrap();
    let first = job.run();
    assert_eq!(first.summary["records_read"].as_u64(), Some(half as u64));

    // The blob grows by its other half and one damaged record.
    let mut rest = lines[half..].join("\n") + "\n";
    rest.push_str("{\"time\": \"2026-11-01T10:00:00Z\", \"operationName\": \n");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&target)
        .unwrap();
    std::io::Write::write_all(&mut file, rest.as_bytes()).unwrap();
    drop(file);
    let second = job.run();
    assert_eq!(
        second.summary["records_read"].as_u64(),
        Some((lines.len() - half + 1) as u64)
    );
    assert_eq!(second.summary["records_rejected"].as_u64(), Some(1));
    // The rejection names the file's own line, not the line in the new part.
    let example = second.summary["rejections"][0]["examples"][0]
        .as_str()
        .unwrap();
    assert!(
        example.contains(&format!("PT1H.json:{}:", lines.len() + 1)),
        "{example}"
    );
    // Unchanged since: nothing to read, which fails the run.
    let idle = job.run();
    assert_eq!(idle.summary["records_read"].as_u64(), Some(0));
    assert_eq!(idle.code, 4, "{}", idle.stderr);
}

#[test]
fn an_expired_suppression_resurfaces_its_finding_and_is_reported() {
    let suppress = |expires: &str| -> Job {
        let job = Job::new("suppressions = \"suppressions.toml\"");
        std::fs::write(
            job.path("suppressions.toml"),
            format!(
                "[[suppress]]\nrule = \"unused-permission\"\nvault = \"kv-*\"\n\
                 reason = \"Grants reviewed in CHG-1042, narrowed next quarter\"\n\
                 owner = \"secops@contosopay.com\"\nexpires = {expires}\n"
            ),
        )
        .unwrap();
        for day in 1..=3 {
            feed_day(&job.path("feed"), day);
        }
        job
    };
    let live = suppress("2099-12-31").run();
    let suppressed = live.suppressions["suppressed"].as_array().unwrap();
    assert!(!suppressed.is_empty());
    assert!(live.findings.iter().all(|f| rule(f) != "unused-permission"));
    assert!(live.suppressions["expired"].as_array().unwrap().is_empty());

    let expired = suppress("2020-01-31").run();
    let resurfaced = expired
        .findings
        .iter()
        .filter(|f| rule(f) == "unused-permission")
        .count();
    assert_eq!(resurfaced, suppressed.len());
    assert_eq!(expired.suppressions["expired"].as_array().unwrap().len(), 1);
    assert!(
        expired.stderr.contains("expired on 2020-01-31"),
        "{}",
        expired.stderr
    );
}

#[test]
fn trends_mark_findings_new_then_open_or_resolved() {
    let job = Job::new("");
    feed_day(&job.path("feed"), 1);
    let first = job.run();
    let statuses = first.trends["statuses"].as_object().unwrap();
    assert!(!statuses.is_empty());
    assert!(statuses.values().all(|s| s == "new"));
    feed_day(&job.path("feed"), 2);
    let second = job.run();
    let statuses = second.trends["statuses"].as_object().unwrap();
    // Grants unused yesterday and today are still open.
    assert!(statuses.values().any(|s| s == "open"), "{statuses:?}");
    assert_eq!(second.trends["history"].as_array().unwrap().len(), 2);
}

#[test]
fn init_writes_a_configuration_that_runs_and_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kvaudit.toml");
    kvaudit().arg("init").arg(&config).assert().success();
    kvaudit()
        .arg("init")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    // The example reads logs/; give it some.
    feed_day(&dir.path().join("logs"), 1);
    let output = kvaudit()
        .args(["--log-format", "json", "run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(matches!(output.status.code(), Some(0 | 1)), "{output:?}");
    assert!(dir.path().join("state/manifest.json").exists());
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["level"].is_string());
    }

    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("fail-on =", "fail_on =")).unwrap();
    let assert = kvaudit()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("kvaudit.toml"), "{stderr}");
    assert!(stderr.contains("unknown field `fail_on`"), "{stderr}");
    assert!(stderr.contains("line "), "{stderr}");
}

/// The ids of the findings a run counts as open (raised again or carried).
fn open_ids(trends: &Value) -> Vec<String> {
    trends["statuses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn a_rerun_with_no_new_logs_fails_the_gate_as_the_run_before_it() {
    // allow-empty: the rerun reads nothing, which alone exits 4 (below).
    let job = Job::new("fail-on = \"medium\"\nallow-empty = true");
    for day in 1..=3 {
        feed_day(&job.path("feed"), day);
    }
    let first = job.run();
    assert_eq!(first.code, 1, "{}", first.stderr);
    let before = open_ids(&first.trends);
    assert!(before.len() > 5, "{before:?}");
    for _ in 0..2 {
        let rerun = job.run();
        assert_eq!(rerun.summary["records_read"].as_u64(), Some(0));
        assert_eq!(rerun.code, first.code, "{}", rerun.stderr);
        assert_eq!(open_ids(&rerun.trends), before);
        assert!(
            rerun.trends["statuses"]
                .as_object()
                .unwrap()
                .values()
                .all(|s| s == "open")
        );
        assert_eq!(rerun.trends["resolved"], serde_json::json!([]));
        assert!(
            rerun.trends["resolving_held"].is_string(),
            "{}",
            rerun.trends
        );
        // The event findings not raised again are carried, with why.
        let carried = rerun.trends["carried"].as_array().unwrap();
        assert!(!carried.is_empty());
        assert!(
            carried
                .iter()
                .all(|c| !POINT_IN_TIME_RULES.contains(&rule(c)))
        );
        assert_eq!(carried.len() + rerun.findings.len(), before.len());
    }

    // With fail-on-new-only, the same rerun passes: nothing is new.
    let text = std::fs::read_to_string(job.path("kvaudit.toml")).unwrap();
    std::fs::write(
        job.path("kvaudit.toml"),
        text.replace(
            "fail-on = \"medium\"",
            "fail-on = \"medium\"\nfail-on-new-only = true",
        ),
    )
    .unwrap();
    assert_eq!(job.run().code, 0);
    // Without allow-empty, a rerun that read nothing exits 4 whatever is open.
    std::fs::write(
        job.path("kvaudit.toml"),
        text.replace("allow-empty = true", ""),
    )
    .unwrap();
    assert_eq!(job.run().code, 4);
}

/// Removes every access-policy entry and role assignment of `principal`
/// from the inventory files in `from`, writing them to `to`.
fn inventory_without(from: &Path, to: &Path, principal: &str) {
    fn strip(value: &mut Value, principal: &str) {
        match value {
            Value::Array(items) => {
                items.retain(|item| {
                    ["objectId", "principalId"].iter().all(|key| {
                        item[key]
                            .as_str()
                            .is_none_or(|id| !id.eq_ignore_ascii_case(principal))
                    })
                });
                items.iter_mut().for_each(|i| strip(i, principal));
            }
            Value::Object(members) => members.values_mut().for_each(|v| strip(v, principal)),
            _ => {}
        }
    }
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let mut json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        strip(&mut json, principal);
        std::fs::write(to.join(path.file_name().unwrap()), json.to_string()).unwrap();
    }
}

#[test]
fn a_grant_removed_from_the_inventory_resolves_its_finding_as_fixed() {
    let inventory = tempfile::tempdir().unwrap();
    let copy = inventory.path().join("inventory");
    inventory_without(
        &generated_estate().join("inventory"),
        &copy,
        "no-such-principal",
    );
    let job = Job::with("", "quiet = true", &copy);
    feed_day(&job.path("feed"), 1);
    let first = job.run();
    let unused = first
        .findings
        .iter()
        .find(|f| rule(f) == "unused-permission" && f["principal"].is_string())
        .expect("an unused-permission finding");
    let principal = unused["principal"].as_str().unwrap();
    let id = unused["id"].as_str().unwrap();

    // The next day's run with the same inventory keeps it open.
    feed_day(&job.path("feed"), 2);
    let same = job.run();
    assert_eq!(same.trends["statuses"][id], "open");

    // The grant is removed; the next day's run resolves it, saying why.
    std::fs::remove_dir_all(&copy).unwrap();
    inventory_without(&generated_estate().join("inventory"), &copy, principal);
    feed_day(&job.path("feed"), 3);
    let fixed = job.run();
    assert!(fixed.trends["statuses"].get(id).is_none());
    let resolved = fixed.trends["resolved"].as_array().unwrap();
    let entry = resolved.iter().find(|r| r["id"] == id).expect("resolved");
    assert_eq!(entry["resolution"], "fixed");
    assert_eq!(
        entry["reason"],
        "fixed: the grant is no longer in the inventory"
    );
}

#[test]
fn an_event_finding_resolves_after_resolve_after_days_of_quiet_logs_and_not_before() {
    const AFTER: u32 = 3;
    let job = Job::new(&format!("[findings]\nresolve-after-days = {AFTER}"));
    let mut quiet_resolved = 0;
    for day in 1..=DAYS {
        feed_day(&job.path("feed"), day);
        let run = job.run();
        for r in run.trends["resolved"].as_array().unwrap() {
            if r["resolution"] != "quiet" {
                continue;
            }
            assert!(!POINT_IN_TIME_RULES.contains(&rule(r)), "{r}");
            quiet_resolved += 1;
            // Its last event was at least AFTER complete days before the
            // newest day read (day `day` of November).
            let last: chrono::NaiveDate = r["last_seen"].as_str().unwrap()[..10].parse().unwrap();
            let newest = chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
            assert!(
                (newest - last).num_days() > i64::from(AFTER),
                "resolved on day {day}, last seen {last}: {r}"
            );
        }
        // Every carried event finding is still short of AFTER quiet days.
        for c in run.trends["carried"].as_array().unwrap() {
            assert!(c["quiet_days"].as_u64().unwrap() < u64::from(AFTER), "{c}");
        }
    }
    assert!(quiet_resolved > 0, "no event finding went quiet in 14 days");
}

#[test]
fn an_acknowledged_finding_stops_failing_the_gate() {
    let job =
        Job::new("fail-on = \"high\"\nsuppressions = \"suppressions.toml\"\nallow-empty = true");
    std::fs::write(job.path("suppressions.toml"), "").unwrap();
    for day in 1..=3 {
        feed_day(&job.path("feed"), day);
    }
    let first = job.run();
    assert_eq!(first.code, 1, "{}", first.stderr);
    let high: Vec<&Value> = first
        .findings
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("high" | "critical")))
        .collect();
    assert!(!high.is_empty());
    let rules: std::collections::BTreeSet<&str> = high.iter().map(|f| rule(f)).collect();
    let entries: String = rules
        .iter()
        .map(|r| {
            format!(
                "[[suppress]]\nrule = \"{r}\"\nreason = \"reviewed in CHG-2001\"\n\
                 owner = \"secops@contosopay.com\"\nexpires = 2099-12-31\n"
            )
        })
        .collect();
    std::fs::write(job.path("suppressions.toml"), entries).unwrap();
    let rerun = job.run();
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let acknowledged = rerun.trends["newly_suppressed"].as_array().unwrap();
    for f in &high {
        assert!(
            acknowledged.iter().any(|a| a["id"] == f["id"])
                || rerun.suppressions["suppressed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["finding"]["id"] == f["id"]),
            "{f}"
        );
    }
}

/// A run whose stdout is a closed pipe or a full disk still commits its
/// state: the next run reads nothing new.
#[test]
fn what_happens_to_stdout_never_costs_the_state() {
    for stdout in ["closed pipe", "/dev/full"] {
        let job = Job::with("", "quiet = false", &generated_estate().join("inventory"));
        feed_day(&job.path("feed"), 1);
        let mut command = Process::new(env!("CARGO_BIN_EXE_kvaudit"));
        command
            .args(["run", "--config"])
            .arg(job.path("kvaudit.toml"))
            .stderr(Stdio::piped());
        let output = if stdout == "closed pipe" {
            let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
            drop(child.stdout.take());
            child.wait_with_output().unwrap()
        } else {
            command
                .stdout(std::fs::File::create("/dev/full").unwrap())
                .output()
                .unwrap()
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{stdout}: {output:?}"
        );
        assert!(!stderr.contains("panicked"), "{stdout}: {stderr}");
        if stdout == "/dev/full" {
            assert!(stderr.contains("could not write the summary"), "{stderr}");
        }
        // Its reports are written too; moved aside for the next run's.
        let summary: Value = serde_json::from_slice(
            &std::fs::read(job.path("reports/current/summary.json")).unwrap(),
        )
        .unwrap();
        assert!(summary["records_read"].as_u64().unwrap() > 0);
        std::fs::remove_dir_all(job.path("reports/current")).unwrap();
        let second = job.run();
        assert_eq!(
            second.summary["records_read"].as_u64(),
            Some(0),
            "{stdout}: the first run did not commit: {stderr}"
        );
    }
}

#[test]
fn a_run_while_another_holds_the_lock_exits_with_its_own_code() {
    let job = Job::new("");
    feed_day(&job.path("feed"), 1);
    std::fs::create_dir_all(job.path("state")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(job.path("state/lock"))
        .unwrap();
    lock.lock().unwrap();
    let output = job.command().output().unwrap();
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("another kvaudit run holds the state lock"),
        "{stderr}"
    );
    drop(lock);
    assert!(matches!(
        job.command().output().unwrap().status.code(),
        Some(0 | 1)
    ));
}

#[test]
fn a_suppression_of_a_rule_that_does_not_exist_is_refused_with_its_line() {
    let job = Job::new("suppressions = \"suppressions.toml\"");
    feed_day(&job.path("feed"), 1);
    std::fs::write(
        job.path("suppressions.toml"),
        "# reviewed\n[[suppress]]\nrule = \"kv-purg\"\nreason = \"sandbox\"\nowner = \"secops@contosopay.com\"\nexpires = 2099-12-31\n",
    )
    .unwrap();
    let output = job.command().output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("suppressions.toml:2"), "{stderr}");
    assert!(stderr.contains("matches no rule"), "{stderr}");
    assert!(stderr.contains("did you mean `kv-purge`?"), "{stderr}");
    assert!(
        !job.path("state/manifest.json").exists(),
        "refused before reading"
    );
}
