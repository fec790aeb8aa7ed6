//! report.html in a real browser: headless Chromium opens the report and the
//! test checks what it rendered (the DOM after load), what it logged to the
//! console and which network requests it made.
//!
//! Needs Chromium (`apt-get install -y chromium`); `KVAUDIT_CHROMIUM` names
//! another binary. Without one the tests fail, unless `KVAUDIT_SKIP_BROWSER=1`
//! is set. Chromium gets a host resolver that resolves nothing, so even a
//! request it tried would not leave the machine.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use indicatif::ProgressBar;
use kvaudit::analyze::Analysis;
use kvaudit::analyze::activity::Activity;
use kvaudit::analyze::overview::Overview;
use kvaudit::analyze::policy::findings::finding_id;
use kvaudit::analyze::policy::observations::RateRow;
use kvaudit::analyze::policy::{Category, Evidence, Finding, PolicyEvaluation, Severity};
use kvaudit::analyze::suppressions::{Applied, Suppressions};
use kvaudit::analyze::trends::{
    Coverage, FindingSnapshot, Lifecycle, RunFacts, RunRecord, TrackedFinding, Trends, compare,
};
use kvaudit::ingest::{self, Input};
use kvaudit::report::ReportContext;
use kvaudit::report::html::{HTML_FILE, write_html};
use kvaudit::report::job::JobReport;

const CHROMIUM_CANDIDATES: [&str; 3] = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];
const TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary, or `None` when the browser tests are to be skipped.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KVAUDIT_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    if let Some(path) = CHROMIUM_CANDIDATES
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
    {
        return Some(path.to_owned());
    }
    if std::env::var("KVAUDIT_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("skipping the browser test: no Chromium found and KVAUDIT_SKIP_BROWSER=1");
        return None;
    }
    panic!(
        "the browser test needs headless Chromium and found none at {}: install it with \
         `apt-get install -y chromium`, name it with KVAUDIT_CHROMIUM=PATH, or set \
         KVAUDIT_SKIP_BROWSER=1 to skip this test",
        CHROMIUM_CANDIDATES.join(", ")
    );
}

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

fn hostile_finding() -> Finding {
    Finding {
        id: "0123456789abcdef".into(),
        rule: "kvaudit.sensitive.secret-delete".into(),
        category: Category::SensitiveOperation,
        severity: Severity::High,
        title: "Secret deleted".into(),
        principal: Some("66666666-7777-4888-9999-000000000000".into()),
        principal_name: Some("<script>document.title='pwned-finding'</script>".into()),
        principal_kind: "user".into(),
        vault: "kv-payments-prod".into(),
        object: Some("<img src=x onerror=\"document.title='pwned-object'\">".into()),
        operations: vec!["SecretDelete".into()],
        first_seen: "2026-11-20T11:04:00.000000Z".into(),
        last_seen: "2026-11-20T11:04:00.000000Z".into(),
        event_count: 1,
        evidence: vec![Evidence {
            correlation_id: Some("\"><script>document.title='pwned-evidence'</script>".into()),
            source: "hostile/PT1H.json:6".into(),
            time: "2026-11-20T11:04:00.000000Z".into(),
        }],
        message: "javascript:document.title='pwned-message' deleted a secret".into(),
        remediation: "Enable soft delete and purge protection.".into(),
    }
}

/// A flagged window whose caller and secret names are markup.
fn hostile_rate_row() -> RateRow {
    let mut metrics = vec![None; kvaudit::analyze::rates::COUNTS.len()];
    metrics[1] = Some(kvaudit::analyze::rates::Metric::without_history(300));
    RateRow {
        finding_id: "fedcba9876543210".into(),
        rule: "kv-secret-read-without-caching".into(),
        principal: "app:<script>document.title='pwned-rate'</script>".into(),
        principal_name: None,
        vault: "kv-payments-prod".into(),
        object: Some("<svg onload=\"document.title='pwned-rate-object'\">".into()),
        window: "1h".into(),
        metric: "secret_reads".into(),
        start: 1_763_607_600_000_000_000,
        end: 1_763_611_200_000_000_000,
        history_days: None,
        metrics,
        run_hours: Some(3),
    }
}

/// A purge whose caller name is markup, suppressed by the job.
fn hostile_purge() -> Finding {
    let principal = "66666666-7777-4888-9999-000000000000";
    Finding {
        id: finding_id("kv-purge", principal, "kv-payments-prod", Some("old-key")),
        rule: "kv-purge".into(),
        title: "Object purged (permanently deleted)".into(),
        principal_name: Some("<script>document.title='pwned-suppressed'</script>".into()),
        object: Some("old-key".into()),
        operations: vec!["KeyPurge".into()],
        ..hostile_finding()
    }
}

/// The scheduled job's part: its suppressions file, the previous run and
/// the history carry markup too (reasons, owners, patterns, names).
struct Job {
    suppressions: Suppressions,
    applied: Applied,
    trends: Trends,
    history: Vec<RunRecord>,
}

fn hostile_job(findings: Vec<Finding>) -> Job {
    let text = r#"[[suppress]]
rule = "kv-purge"
reason = "<script>document.title='pwned-reason'</script>"
owner = "<img src=x onerror=\"document.title='pwned-owner'\">"
expires = 2099-12-31

[[suppress]]
rule = "kv-backup"
vault = "<b>kv</b>*"
reason = "restore drill"
owner = "ops@contoso.com"
expires = 2020-01-01
"#;
    let suppressions = Suppressions::parse(text, Path::new("suppressions.toml")).unwrap();
    let applied = suppressions.apply(findings, "2026-11-21".parse().unwrap());
    let gone = Finding {
        id: "00000000000000aa".into(),
        principal_name: Some("<script>document.title='pwned-resolved'</script>".into()),
        ..hostile_finding()
    };
    // Still open, not seen in this run: carried.
    let carried = Finding {
        id: "00000000000000bb".into(),
        principal_name: Some("<script>document.title='pwned-carried'</script>".into()),
        last_seen: "2026-11-28T11:04:00.000000Z".into(),
        ..hostile_finding()
    };
    let tracked = |f: &Finding| TrackedFinding {
        finding: FindingSnapshot::of(f),
        raised_first: Some("2026-11-20T02:00:00Z".into()),
        raised_last: Some("2026-11-28T02:00:00Z".into()),
    };
    // Logs read every day from the 20th to the 29th: `gone` (last seen on
    // the 20th) is quiet for 8 complete days and resolved.
    let mut coverage = Coverage::default();
    for day in 20..=29 {
        let noon = Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap();
        coverage.add([noon.timestamp_nanos_opt().unwrap()]);
    }
    let facts = RunFacts {
        run_at: Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap(),
        coverage: &coverage,
        read_a_day: true,
        holds_grant: None,
        suppressions: &suppressions,
        lifecycle: Lifecycle::default(),
    };
    let trends = compare(
        Some(&[tracked(&gone), tracked(&carried)]),
        &applied.findings,
        &applied.suppressed,
        &facts,
    );
    assert_eq!((trends.resolved.len(), trends.carried.len()), (1, 1));
    let history = [20, 21]
        .map(|day| {
            RunRecord::of(
                Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap(),
                &applied,
                &trends,
            )
        })
        .to_vec();
    Job {
        suppressions,
        applied,
        trends,
        history,
    }
}

/// Renders a report of the shared test events plus the hostile ones into `dir`.
fn write_report(dir: &Path) -> PathBuf {
    let inputs = [
        Input::File(data("same-events/PT1H.json")),
        Input::File(data("hostile/PT1H.json")),
    ];
    let ingested = ingest::ingest(&inputs, &ProgressBar::hidden()).unwrap();
    let analysis = Analysis {
        overview: Overview::of(&ingested.events).unwrap(),
        activity: Activity::of(&ingested.events).unwrap(),
        evaluation: PolicyEvaluation {
            rate_rows: vec![hostile_rate_row()],
            ..PolicyEvaluation::default()
        },
        privilege: None,
    };
    let job = hostile_job(vec![hostile_finding(), hostile_purge()]);
    let policies = ["default pack (embedded)".to_owned()];
    let described = [
        "tests/data/same-events/PT1H.json".to_owned(),
        "tests/data/hostile/PT1H.json".to_owned(),
    ];
    write_html(
        dir,
        &ReportContext {
            ingested: &ingested,
            analysis: &analysis,
            findings: &job.applied.findings,
            policies: &policies,
            inputs_described: &described,
            generated_at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
            job: Some(&JobReport {
                suppressions: &job.suppressions,
                applied: &job.applied,
                trends: &job.trends,
                history: &job.history,
            }),
        },
    )
    .unwrap();
    dir.join(HTML_FILE)
}

/// What Chromium did with a page.
struct Visit {
    /// The DOM after load (`--dump-dom`).
    dom: String,
    /// Console messages of the page (Chromium's `CONSOLE` log lines).
    console: Vec<String>,
    /// URLs the page asked for (from the net log), `file:` and `data:` left out.
    requests: Vec<String>,
}

/// Runs headless Chromium with `extra` arguments on `page`, with a deadline.
fn run_chromium(chromium: &Path, work: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let stdout_path = work.join("chromium.stdout");
    let stderr_path = work.join("chromium.stderr");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.success(), "Chromium failed ({status}):\n{stderr}");
    (stdout, stderr)
}

fn visit(chromium: &Path, page: &Path) -> Visit {
    let work = tempfile::tempdir().unwrap();
    let net_log = work.path().join("net-log.json");
    let (dom, stderr) = run_chromium(
        chromium,
        work.path(),
        page,
        &[
            format!("--log-net-log={}", net_log.display()),
            "--dump-dom".to_owned(),
        ],
    );
    let console = stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    Visit {
        dom,
        console,
        requests: page_requests(&net_log),
    }
}

/// URLs of the requests the page itself started (Chromium's own background
/// requests have the initiator "not an origin").
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("Chromium wrote a net log");
    let log: serde_json::Value = serde_json::from_str(&text).expect("the net log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names its event types");
    let mut urls: Vec<String> = log["events"]
        .as_array()
        .expect("the net log has events")
        .iter()
        .filter(|event| event["type"].as_u64() == Some(start_job))
        .filter(|event| event["params"]["initiator"].as_str() != Some("not an origin"))
        .filter_map(|event| event["params"]["url"].as_str())
        .filter(|url| !url.starts_with("file:") && !url.starts_with("data:"))
        .map(str::to_owned)
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// The document title in a dumped DOM (the head's `<title>`, not an SVG's).
fn document_title(dom: &str) -> &str {
    let start = dom.find("<title>").expect("the page has a title") + "<title>".len();
    let end = start + dom[start..].find("</title>").unwrap();
    &dom[start..end]
}

#[test]
fn report_renders_offline_with_every_section_and_chart_and_runs_no_hostile_content() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    let page = write_report(out.path());
    let visit = visit(&chromium, &page);
    let dom = &visit.dom;

    for section in [
        "run",
        "findings-overview",
        "since-last-run",
        "activity",
        "findings",
        "suppressed",
        "expired-suppressions",
        "identities",
        "data-quality",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{section}\"")),
            "section {section} missing"
        );
    }
    for chart in [
        "chart-activity",
        "chart-outcomes",
        "chart-identities",
        "chart-heatmap",
        "chart-findings-trend",
    ] {
        assert!(
            dom.contains(&format!("id=\"{chart}\"")),
            "chart {chart} missing"
        );
        assert!(
            dom.contains(&format!("<title id=\"{chart}-title\">")),
            "chart {chart} has no title"
        );
    }
    assert_eq!(
        dom.matches("<svg role=\"img\"").count(),
        5,
        "five inline SVG charts"
    );
    assert!(
        dom.contains("id=\"finding-0123456789abcdef\""),
        "the finding is listed"
    );

    // Hostile values are text: no element they spelled exists, no script ran.
    let title = document_title(dom);
    assert!(
        title.starts_with("kvaudit report"),
        "title changed to {title:?}"
    );
    assert!(
        !title.contains("pwned"),
        "a hostile script ran: title {title:?}"
    );
    for element in [
        "<script",
        "<img",
        "<svg onload",
        "<b>",
        "<iframe",
        "<object",
        "<embed",
    ] {
        assert!(
            !dom.contains(element),
            "the DOM has an injected {element} element"
        );
    }
    assert!(
        !dom.contains("href=\"javascript"),
        "the DOM has a javascript: link"
    );
    for shown in [
        "&lt;script&gt;document.title='pwned-upn'&lt;/script&gt;",
        "&lt;img src=x onerror=\"document.title='pwned-img'\"&gt;",
        "&lt;script&gt;document.title='pwned-finding'&lt;/script&gt;",
        "\"&gt;&lt;script&gt;document.title='pwned-evidence'&lt;/script&gt;",
        "javascript:document.title='pwned-message'",
        "app:&lt;script&gt;document.title='pwned-rate'&lt;/script&gt;",
        "&lt;svg onload=\"document.title='pwned-rate-object'\"&gt;",
        "&lt;script&gt;document.title='pwned-suppressed'&lt;/script&gt;",
        "&lt;script&gt;document.title='pwned-reason'&lt;/script&gt;",
        "&lt;img src=x onerror=\"document.title='pwned-owner'\"&gt;",
        "&lt;b&gt;kv&lt;/b&gt;*",
        "&lt;script&gt;document.title='pwned-resolved'&lt;/script&gt;",
        "&lt;script&gt;document.title='pwned-carried'&lt;/script&gt;",
    ] {
        assert!(
            dom.contains(shown),
            "the hostile value {shown:?} is not shown as text"
        );
    }

    assert!(
        visit.console.is_empty(),
        "console messages:\n{}",
        visit.console.join("\n")
    );
    assert!(
        visit.requests.is_empty(),
        "the page made network requests: {:?}",
        visit.requests
    );
}

#[test]
fn the_content_security_policy_stops_script_that_escaping_missed() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    let page = write_report(out.path());
    // Pretend an escaping bug let markup through.
    let html = std::fs::read_to_string(&page).unwrap().replace(
        "</main>",
        "<script>document.title='pwned-csp'</script><img src=\"http://example.invalid/x.png\"></main>",
    );
    let injected = out.path().join("injected.html");
    std::fs::write(&injected, html).unwrap();
    let visit = visit(&chromium, &injected);
    let title = document_title(&visit.dom);
    assert!(
        title.starts_with("kvaudit report"),
        "the injected script ran: title {title:?}"
    );
    assert!(
        visit
            .console
            .iter()
            .any(|line| line.contains("Content Security Policy")),
        "Chromium reported no CSP block:\n{}",
        visit.console.join("\n")
    );
    assert!(
        visit.requests.is_empty(),
        "the injected image was requested: {:?}",
        visit.requests
    );
}

#[test]
fn report_screenshot_is_drawn() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    let page = write_report(out.path());
    let shot = out.path().join("report.png");
    run_chromium(
        &chromium,
        out.path(),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".to_owned(),
        ],
    );
    let png = std::fs::read(&shot).expect("Chromium wrote a screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
    assert!(
        png.len() > 20_000,
        "the screenshot is nearly empty ({} bytes)",
        png.len()
    );
}

/// The request check above would pass vacuously if the net log missed page
/// requests: a page without a CSP that loads an image must show up in it.
#[test]
fn the_request_check_sees_what_a_page_loads() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("loads-an-image.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><title>t</title></head>\
         <body><img src=\"http://example.invalid/x.png\" alt=\"\"></body></html>",
    )
    .unwrap();
    let visit = visit(&chromium, &page);
    assert_eq!(visit.requests, ["http://example.invalid/x.png"]);
}
