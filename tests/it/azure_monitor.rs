//! Pulling from Log Analytics, against the in-process HTTPS stand-in
//! (`tests/standin`): the real binary, the real credential code (a stub `az`
//! on PATH, or the managed identity endpoint), TLS trusted through
//! `--ca-cert`, the documented answers and error bodies.
//!
//! Rows come from the project's own exports of the two tables:
//! `sample-logs/log-analytics/azurediagnostics-export.json` (108 AzureDiagnostics
//! rows of 2026-11-22, as `az` prints them) and
//! `tests/data/same-events/azkvauditlogs-export.json` (AZKVAuditLogs rows of
//! 2026-11-20).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::standin::{Scripted, StandIn};
use assert_cmd::Command;
use kvaudit::ingest::{self, Input};
use polars::prelude::*;
use serde_json::{Map, Value};

const WORKSPACE: &str = "11111111-2222-3333-4444-555555555555";

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn diagnostics_export() -> PathBuf {
    repo("sample-logs/log-analytics/azurediagnostics-export.json")
}

fn azkv_export() -> PathBuf {
    repo("tests/data/same-events/azkvauditlogs-export.json")
}

/// `kvaudit <subcommand>` pointed at the stand-in, with the stub `az` on PATH
/// and no credential or CA from the test's own environment.
fn kvaudit(standin: &StandIn, subcommand: &str) -> Command {
    let mut cmd = crate::common::kvaudit();
    let path = format!(
        "{}:{}",
        standin.stub_az().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path)
        .env_remove("SSL_CERT_FILE")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_AUTHORITY_HOST")
        .arg(subcommand)
        .args(["--endpoint", &standin.url()]);
    cmd
}

struct Run {
    code: i32,
    stderr: String,
    dir: tempfile::TempDir,
}

impl Run {
    fn summary(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("summary.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn parquet(&self) -> PathBuf {
        self.dir.path().join("pull.parquet")
    }

    /// Asserts that the audit analysed every row of [`mixed_workspace`]'s
    /// exports once: none lost to truncation, none twice from overlapping slices.
    fn analysed_every_exported_row(&self) {
        let exported = ingest_files(&[diagnostics_export(), azkv_export()]);
        assert_eq!(
            self.summary()["records_analyzed"].as_u64().unwrap(),
            exported.height() as u64,
            "{}",
            self.stderr
        );
    }

    fn says(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "no {text:?} in:\n{}",
            self.stderr
        );
    }
}

/// `kvaudit pull` (into `pull.parquet`) or `kvaudit audit` (into the
/// directory) of the stand-in's workspace, trusting its CA through
/// `--ca-cert`, signed in with the stub `az`.
fn run(standin: &StandIn, subcommand: &str, since: &str, until: &str, extra: &[&str]) -> Run {
    let mut cmd = kvaudit(standin, subcommand);
    cmd.arg("--ca-cert")
        .arg(&standin.ca_pem)
        .args(["--auth", "azure-cli"]);
    run_as(cmd, subcommand, since, until, extra)
}

fn run_as(mut cmd: Command, subcommand: &str, since: &str, until: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out = match subcommand {
        "pull" => dir.path().join("pull.parquet"),
        _ => dir.path().to_owned(),
    };
    let output = cmd
        .args(["--since", since, "--until", until])
        .args(["--workspace", WORKSPACE, "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        dir,
    }
}

fn pull(standin: &StandIn, since: &str, until: &str, extra: &[&str]) -> Run {
    run(standin, "pull", since, until, extra)
}

fn audit_workspace(standin: &StandIn, since: &str, until: &str, extra: &[&str]) -> Run {
    run(standin, "audit", since, until, extra)
}

fn audit_files(paths: &[&Path]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::common::kvaudit()
        .arg("audit")
        .args(paths)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// A frame without the columns that say where a record came from, in a
/// canonical row order.
fn canonical(frame: DataFrame) -> DataFrame {
    let frame = frame.drop_many(["source_format", "source_file", "source_line"]);
    let names: Vec<PlSmallStr> = frame.get_column_names_owned();
    let keys: Vec<Column> = names
        .iter()
        .map(|n| frame.column(n).unwrap().cast(&DataType::String).unwrap())
        .collect();
    let mut keyed = DataFrame::new(frame.height(), keys).unwrap();
    let idx = IdxCa::from_vec("i".into(), (0..frame.height() as IdxSize).collect());
    keyed.with_column(idx.into_column()).unwrap();
    let sorted = keyed
        .sort(
            names.clone(),
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .unwrap();
    let order = sorted.column("i").unwrap().idx().unwrap().clone();
    frame.take(&order).unwrap()
}

fn ingest_files(paths: &[PathBuf]) -> DataFrame {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::File).collect();
    let ingested = ingest::ingest(&inputs, &indicatif::ProgressBar::hidden()).unwrap();
    assert!(ingested.rejections.is_empty());
    ingested.events
}

fn read_parquet(path: &Path) -> DataFrame {
    let outcome = ingest::parquet::read(&Input::File(path.to_owned())).unwrap();
    assert!(outcome.rejections.is_empty());
    outcome.frame.unwrap()
}

/// findings.json without the evidence locations (file:line versus workspace/slice/row).
fn findings_without_sources(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("findings.json")).unwrap();
    let mut findings: Vec<Value> = serde_json::from_str(&text).unwrap();
    for finding in &mut findings {
        for evidence in finding["evidence"].as_array_mut().unwrap() {
            evidence.as_object_mut().unwrap().remove("source");
        }
    }
    findings
}

fn mixed_workspace() -> StandIn {
    let standin = StandIn::start();
    standin.add_rows(
        WORKSPACE,
        crate::standin::export_rows(&diagnostics_export()),
    );
    standin.add_rows(WORKSPACE, crate::standin::export_rows(&azkv_export()));
    standin
}

#[test]
fn a_mixed_workspace_pulls_into_the_same_frame_and_findings_as_its_exports() {
    let standin = mixed_workspace();
    let run = pull(&standin, "2026-11-19", "2026-11-24", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let pulled = read_parquet(&run.parquet());
    let exported = ingest_files(&[diagnostics_export(), azkv_export()]);
    assert!(pulled.height() > 100);
    assert_eq!(pulled.height(), exported.height());
    let (pulled, exported) = (canonical(pulled), canonical(exported));
    assert!(
        pulled.equals_missing(&exported),
        "pulled:\n{pulled}\nexported:\n{exported}"
    );

    // The same findings through the binary: from the exports, from the
    // Parquet file, and straight from the workspace.
    let from_exports = audit_files(&[&diagnostics_export(), &azkv_export()]);
    let from_parquet = audit_files(&[&run.parquet()]);
    let live = audit_workspace(&standin, "2026-11-19", "2026-11-24", &[]);
    assert_eq!(live.code, 0, "{}", live.stderr);
    let expected = findings_without_sources(from_exports.path());
    assert!(!expected.is_empty());
    assert_eq!(findings_without_sources(from_parquet.path()), expected);
    assert_eq!(findings_without_sources(live.dir.path()), expected);
    let summary = live.summary();
    assert_eq!(summary["pull"]["unfinished"], Value::Array(vec![]));
    assert_eq!(
        summary["inputs"][0]["name"],
        format!("workspace {WORKSPACE}")
    );

    // Every query: a bearer token from `az`, the longest server wait, no cache.
    let requests = standin.query_requests();
    assert!(requests.len() >= 5 * 4, "6h slices over 5 days");
    for request in &requests {
        assert_eq!(request.headers["authorization"], "Bearer standin-token");
        assert_eq!(request.headers["prefer"], "wait=600");
        assert_eq!(request.headers["cache-control"], "no-cache");
    }
    let scope = format!("--scope {}/.default", standin.url());
    assert!(
        standin.az_calls().iter().any(|c| c.contains(&scope)),
        "{:?}",
        standin.az_calls()
    );
}

#[test]
fn a_partial_result_is_split_until_every_row_is_read() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().max_rows = 15;
    let run = audit_workspace(&standin, "2026-11-19", "2026-11-24", &["--slice", "5d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.analysed_every_exported_row();
    let summary = run.summary();
    assert!(summary["pull"]["slices_split"].as_u64().unwrap() >= 3);
    // No answer that was cut short was used: every completed slice had at most 15 rows.
    assert!(standin.query_requests().len() > 8);
}

#[test]
fn a_slice_that_stays_partial_at_one_second_is_reported_unfinished() {
    let standin = mixed_workspace();
    {
        let mut state = standin.state.lock().unwrap();
        for _ in 0..7 {
            state.script.push_back(Scripted::sample(
                200,
                "200-partial-error-record-count.SYNTHETIC.json",
            ));
        }
    }
    // 4 seconds: 4s -> 2 x 2s -> 4 x 1s, each answered partially.
    let run = audit_workspace(
        &standin,
        "2026-11-22T00:21:36Z",
        "2026-11-22T00:21:40Z",
        &[],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let unfinished = run.summary()["pull"]["unfinished"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(unfinished.len(), 4);
    assert_eq!(
        unfinished[0]["slice"],
        "2026-11-22T00:21:36Z/2026-11-22T00:21:37Z"
    );
    assert!(
        unfinished[0]["reason"]
            .as_str()
            .unwrap()
            .contains("internal record count limit 500000")
    );
    run.says("4 slice(s) unfinished");
}

#[test]
fn throttling_waits_for_retry_after() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().script.push_back(
        Scripted::sample(429, "429-throttled.SYNTHETIC.json").header("Retry-After", "2"),
    );
    let run = pull(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = standin.query_requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert_eq!(
        requests[0].slice(),
        requests[1].slice(),
        "the same query again"
    );
    assert!(requests[1].at - requests[0].at >= Duration::from_secs(2));
    assert_eq!(read_parquet(&run.parquet()).height(), 108);
}

#[test]
fn a_gateway_timeout_is_answered_with_shorter_slices_not_the_same_query() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().script.push_back(
        Scripted::sample(504, "504-gateway-timeout.json")
            .header("Preference-Applied", "wait=5")
            .header("retry-after", "0"),
    );
    let run = pull(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let slices: Vec<_> = standin
        .query_requests()
        .iter()
        .map(|r| r.slice().unwrap())
        .collect();
    let day = (
        "2026-11-22T00:00:00Z".to_owned(),
        "2026-11-23T00:00:00Z".to_owned(),
    );
    assert_eq!(slices[0], day);
    assert_eq!(slices.len(), 3);
    assert!(!slices[1..].contains(&day));
    assert_eq!(read_parquet(&run.parquet()).height(), 108);
}

#[test]
fn a_semantic_error_names_the_message_and_the_line_of_the_query_file() {
    let standin = mixed_workspace();
    let dir = tempfile::tempdir().unwrap();
    let query = dir.path().join("custom.kql");
    std::fs::write(
        &query,
        "// a custom query\nunion isfuzzy=true AZKVAuditLogs,\n    NoSuchTable\n\
         | where TimeGenerated >= kvaudit_start and TimeGenerated < kvaudit_end\n",
    )
    .unwrap();
    let run = pull(
        &standin,
        "2026-11-22",
        "2026-11-23",
        &["--query", query.to_str().unwrap()],
    );
    assert_eq!(run.code, 2);
    run.says("custom.kql");
    run.says("(line 3, column 4 at `NoSuchTable`)");
    run.says("Failed to resolve table or column expression named 'NoSuchTable'");
    run.says("SEM0100");
}

#[test]
fn a_malformed_answer_leaves_its_slice_unfinished() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().malformed = true;
    let run = pull(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.says("is not a query result");
    assert_eq!(read_parquet(&run.parquet()).height(), 0);

    // The Parquet file remembers what its pull missed.
    let (code, text, summary) = crate::common::audit(&[run.parquet().to_str().unwrap()]);
    assert_eq!(code, 3, "{text}");
    let unfinished = &summary["pull"]["unfinished"][0];
    assert_eq!(
        unfinished["slice"],
        "2026-11-22T00:00:00Z/2026-11-23T00:00:00Z"
    );
    assert_eq!(unfinished["workspace"], WORKSPACE);
}

#[test]
fn an_empty_workspace_is_an_empty_pull() {
    let standin = StandIn::start();
    standin.add_rows(WORKSPACE, Vec::new());
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(standin.query_requests().iter().all(|r| r.status == 204));
    assert_eq!(read_parquet(&run.parquet()).height(), 0);
    // Audited, it analysed nothing: exit 4, with the range that was empty.
    let run = audit_workspace(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "nothing was analysed: the Log Analytics pull of {WORKSPACE} returned no records from 2026-11-22"
        )),
        "{}",
        run.stderr
    );
    let run = audit_workspace(&standin, "2026-11-22", "2026-11-23", &["--allow-empty"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// AzureDiagnostics rows as a workspace holds them when some Key Vault
/// columns never appeared (no `_d` or `identity_claim_upn_s` column).
fn diagnostics_without(columns: &[&str]) -> Vec<Map<String, Value>> {
    let mut rows = crate::standin::export_rows(&diagnostics_export());
    for row in &mut rows {
        row.retain(|name, _| !columns.contains(&name.as_str()));
    }
    rows
}

#[test]
fn a_workspace_with_only_azure_diagnostics_and_missing_columns() {
    let missing = ["httpStatusCode_d", "identity_claim_upn_s", "tlsVersion_s"];
    let rows = diagnostics_without(&missing);
    let standin = StandIn::start();
    standin.add_rows(WORKSPACE, rows.clone());
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Only the AzureDiagnostics leg answers, and without those columns.
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.json");
    std::fs::write(&export, serde_json::to_string(&rows).unwrap()).unwrap();
    let pulled = read_parquet(&run.parquet());
    let exported = ingest_files(&[export]);
    assert_eq!(pulled.height(), 108);
    assert_eq!(pulled.column("http_status").unwrap().null_count(), 108);
    assert!(canonical(pulled).equals_missing(&canonical(exported)));
}

#[test]
fn a_workspace_with_only_azkvauditlogs() {
    let standin = StandIn::start();
    standin.add_rows(WORKSPACE, crate::standin::export_rows(&azkv_export()));
    let run = pull(&standin, "2026-11-19", "2026-11-21", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pulled = canonical(read_parquet(&run.parquet()));
    let exported = canonical(ingest_files(&[azkv_export()]));
    assert!(pulled.height() > 0);
    assert!(pulled.equals_missing(&exported));
}

#[test]
fn no_access_to_the_workspace_says_which_role_to_grant() {
    let standin = mixed_workspace();
    standin
        .state
        .lock()
        .unwrap()
        .forbidden
        .insert(WORKSPACE.into());
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 2);
    run.says("Azure CLI credential");
    run.says("Log Analytics Reader");
    run.says("InsufficientAccessError");
}

#[test]
fn an_unknown_workspace_says_to_use_the_workspace_id() {
    let standin = StandIn::start();
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 2);
    run.says("was not found");
    run.says("workspace ID");
}

#[test]
fn a_failing_az_login_says_what_to_run() {
    let standin = mixed_workspace();
    let bin = standin.stub_az();
    std::fs::write(
        bin.join("az"),
        "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n",
    )
    .unwrap();
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 2);
    run.says("the Azure CLI credential");
    run.says("run `az login`");
    assert!(standin.query_requests().is_empty());
}

#[test]
fn the_managed_identity_endpoint_gives_the_token() {
    let standin = mixed_workspace();
    let mut cmd = kvaudit(&standin, "pull");
    cmd.env("IDENTITY_ENDPOINT", format!("{}/msi/token", standin.url()))
        .env("IDENTITY_HEADER", crate::standin::IDENTITY_HEADER)
        // Trusted through SSL_CERT_FILE this time, not --ca-cert.
        .env("SSL_CERT_FILE", &standin.ca_pem)
        .args(["--auth", "auto"]);
    let run = run_as(cmd, "pull", "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token_requests: Vec<_> = standin
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/msi/token"))
        .collect();
    assert!(!token_requests.is_empty());
    let resource = format!(
        "resource={}",
        standin.url().replace(':', "%3A").replace('/', "%2F")
    );
    assert!(
        token_requests[0].path.contains(&resource),
        "{}",
        token_requests[0].path
    );
    assert_eq!(read_parquet(&run.parquet()).height(), 108);
    assert!(
        standin.az_calls().is_empty(),
        "auto chose the managed identity"
    );
}

#[test]
fn an_untrusted_certificate_stops_at_once_and_names_ca_cert() {
    let standin = mixed_workspace();
    let mut cmd = kvaudit(&standin, "pull");
    cmd.args(["--auth", "azure-cli"]);
    let run = run_as(cmd, "pull", "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says("is not trusted");
    run.says("--ca-cert");
    assert!(
        standin.query_requests().is_empty(),
        "no TLS session, no request"
    );
}

#[test]
fn an_empty_200_is_not_taken_for_an_empty_slice() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().script.push_back(Scripted {
        status: 200,
        body: String::new(),
        headers: Vec::new(),
    });
    let run = pull(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.says("HTTP 200 with an empty body");
}

#[test]
fn a_busy_workspace_pays_for_one_oversized_slice_not_one_per_slice() {
    // 2,000 rows spread evenly over 4 days, at most 100 per answer: each day
    // needs 3-hour slices (about 63 rows).
    let standin = StandIn::start();
    {
        let mut state = standin.state.lock().unwrap();
        state.max_rows = 100;
        state.generated.insert(
            WORKSPACE.into(),
            crate::standin::Generated {
                templates: crate::standin::export_rows(&diagnostics_export()),
                start: "2026-11-20T00:00:00Z".parse().unwrap(),
                step: chrono::Duration::days(4) / 2000,
                count: 2000,
            },
        );
    }
    let run = pull(&standin, "2026-11-20", "2026-11-24", &["--slice", "1d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read_parquet(&run.parquet()).height(), 2000);
    // Halving each day from scratch takes 15 queries a day (7 cut short), 60
    // in all; slices still queued when a cut is learned go out shorter (the
    // first five days are all in flight at once, so they cannot benefit).
    let queries = standin.query_requests().len();
    assert!(queries < 50, "{queries} queries");
}

/// Entra ID served by the stand-in: `AZURE_AUTHORITY_HOST` points at it.
fn with_entra(standin: &StandIn, cmd: &mut Command) {
    cmd.env("AZURE_AUTHORITY_HOST", standin.url())
        .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001")
        .env("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002")
        .arg("--ca-cert")
        .arg(&standin.ca_pem);
}

fn token_requests(standin: &StandIn) -> Vec<crate::standin::Recorded> {
    standin
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .collect()
}

#[test]
fn a_client_secret_from_the_environment_signs_in() {
    let standin = mixed_workspace();
    let mut cmd = kvaudit(&standin, "pull");
    with_entra(&standin, &mut cmd);
    cmd.env("AZURE_CLIENT_SECRET", crate::standin::CLIENT_SECRET)
        .args(["--auth", "client-secret"]);
    let run = run_as(cmd, "pull", "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = token_requests(&standin);
    assert_eq!(
        requests[0].path,
        "/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token"
    );
    assert!(requests[0].body.contains("grant_type=client_credentials"));
    assert_eq!(read_parquet(&run.parquet()).height(), 108);

    // A wrong secret: the credential is named, the secret is not printed.
    let mut cmd = kvaudit(&standin, "pull");
    with_entra(&standin, &mut cmd);
    cmd.env("AZURE_CLIENT_SECRET", "a-wrong-secret")
        .args(["--auth", "client-secret"]);
    let run = run_as(cmd, "pull", "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says("the client secret credential could not get a token");
    run.says("AZURE_CLIENT_SECRET");
    assert!(!run.stderr.contains("a-wrong-secret"), "{}", run.stderr);
}

#[test]
fn auto_picks_workload_identity_from_a_federated_token_file() {
    let standin = mixed_workspace();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, crate::standin::FEDERATED_TOKEN).unwrap();
    let mut cmd = kvaudit(&standin, "pull");
    with_entra(&standin, &mut cmd);
    cmd.env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .args(["--auth", "auto"]);
    let run = run_as(cmd, "pull", "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = token_requests(&standin);
    assert!(
        requests[0].body.contains(&format!(
            "client_assertion={}",
            crate::standin::FEDERATED_TOKEN
        )),
        "{}",
        requests[0].body
    );
    assert!(standin.az_calls().is_empty());
}

#[test]
fn a_token_the_service_rejects_points_at_the_endpoint_and_cloud() {
    let standin = mixed_workspace();
    let bin = standin.stub_az();
    let az = std::fs::read_to_string(bin.join("az")).unwrap();
    std::fs::write(
        bin.join("az"),
        az.replace(crate::standin::TOKEN, "a-token-for-another-cloud"),
    )
    .unwrap();
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says("the token from the Azure CLI credential is not valid for");
    run.says("InvalidAuthenticationToken");
    run.says("--endpoint");
}

/// The mixed workspace plus a day of bursts on 2026-11-21, from its own
/// AZKVAuditLogs rows: a managed identity reading 12 secrets 60 times in
/// half an hour (a day's distinct secrets above 10 with no history:
/// kv-mass-secret-retrieval) and a service principal refused 12 times in two
/// minutes (kv-denied-burst, and one kv-access-denied per vault); and a
/// newcomer on 2026-11-22.
fn bursty_workspace() -> StandIn {
    let standin = mixed_workspace();
    let rows = crate::standin::export_rows(&azkv_export());
    let (read, refused) = (&rows[1], &rows[3]);
    assert_eq!(read["OperationName"], "SecretGet");
    assert_eq!(refused["HttpStatusCode"], 403);
    let mut burst = Vec::new();
    for i in 0..60 {
        let mut row = read.clone();
        let secret = format!("burst-{}", i % 12);
        row.insert(
            "TimeGenerated".into(),
            format!("2026-11-21T10:{:02}:{:02}.250Z", i / 2, (i % 2) * 30).into(),
        );
        row.insert(
            "Id".into(),
            format!("https://kv-payments-prod.vault.azure.net/secrets/{secret}/0123456789abcdef0123456789abcdef").into(),
        );
        row.insert(
            "RequestUri".into(),
            format!("https://kv-payments-prod.vault.azure.net/secrets/{secret}/?api-version=7.4")
                .into(),
        );
        burst.push(row);
    }
    for i in 0..12 {
        let mut row = refused.clone();
        row.insert(
            "TimeGenerated".into(),
            format!("2026-11-21T11:00:{:02}.500Z", i * 5).into(),
        );
        burst.push(row);
    }
    // An identity new to the vault after its learning period
    // (kv-first-seen-identity on a full pull; first-seen needs every event).
    let mut newcomer = read.clone();
    newcomer.insert("TimeGenerated".into(), "2026-11-22T12:00:00.000Z".into());
    newcomer.insert(
        "Identity".into(),
        serde_json::json!({"claim": {"oid": "77777777-0000-4000-8000-000000000007",
            "appid": "77777777-1111-4111-8111-000000000007", "appidacr": "2", "idtyp": "app"}}),
    );
    burst.push(newcomer);
    standin.add_rows(WORKSPACE, burst);
    standin
}

/// Rules whose findings come from the rate windows (counted in the
/// workspace under --pushdown).
const WINDOW_RULES: [&str; 3] = [
    "kv-mass-secret-retrieval",
    "kv-rate-spike",
    "kv-denied-burst",
];

/// Rules of the analyses that need every event and do not run under --pushdown.
fn needs_every_event(rule: &str) -> bool {
    rule.starts_with("kv-first-seen-")
        || rule.ends_with("-then-read")
        || rule == "kv-secret-read-without-caching"
        || rule == "kv-logging-gap"
}

fn rule_of(finding: &Value) -> &str {
    finding["rule"].as_str().unwrap()
}

#[test]
fn pushdown_finds_what_a_full_pull_finds_from_the_workspace_counts() {
    let standin = bursty_workspace();
    let inventory = repo("sample-inventory");
    let inventory = ["--inventory", inventory.to_str().unwrap()];
    let full = audit_workspace(&standin, "2026-11-19", "2026-11-24", &inventory);
    assert_eq!(full.code, 0, "{}", full.stderr);
    let before = standin.query_requests().len();
    let mut extra = inventory.to_vec();
    extra.push("--pushdown");
    let pushed = audit_workspace(&standin, "2026-11-19", "2026-11-24", &extra);
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    pushed.says("--pushdown: rate windows");
    pushed.says("first-seen, objects (caching), sequences, logging gaps did not run");

    // The three queries ran, the aggregate ones on slices cut at midnight.
    let queries = standin.query_requests()[before..].to_vec();
    let marked = |marker: &str| {
        queries
            .iter()
            .filter(|r| r.body.contains(marker))
            .collect::<Vec<_>>()
    };
    assert_eq!(marked("kvaudit:pushdown-windows").len(), 5);
    assert_eq!(marked("kvaudit:pushdown-usage").len(), 5);
    assert_eq!(marked("kvaudit:pushdown-events").len(), 20);
    for request in marked("kvaudit:pushdown-windows") {
        let (start, end) = request.slice().unwrap();
        assert!(
            start.ends_with("T00:00:00Z") && end.ends_with("T00:00:00Z"),
            "{start}/{end}"
        );
    }

    // The second phase: the flagged windows' events, asked for over the
    // time those windows cover only (the flagged day, in 6-hour slices).
    let flagged = marked("kvaudit:pushdown-flagged");
    assert!(!flagged.is_empty());
    for request in &flagged {
        let (start, end) = request.slice().unwrap();
        assert!(
            start.starts_with("2026-11-21") && end.as_str() <= "2026-11-22T00:00:00Z",
            "{start}/{end}"
        );
    }
    let full_summary = full.summary();
    let pushed_summary = pushed.summary();
    let query = pushed_summary["pull"]["query"].as_str().unwrap();
    assert!(query.contains("queries/pushdown-flagged.kql"), "{query}");

    // Fewer events came back: the routine reads of other days and callers
    // stayed in the workspace.
    let analysed = |s: &Value| s["records_analyzed"].as_u64().unwrap();
    assert!(
        analysed(&pushed_summary) < analysed(&full_summary),
        "{} of {}",
        analysed(&pushed_summary),
        analysed(&full_summary)
    );
    let bytes = |s: &Value| s["pull"]["bytes"].as_u64().unwrap();
    eprintln!(
        "full pull: {} events, {} bytes; --pushdown: {} events, {} rows, {} bytes",
        analysed(&full_summary),
        bytes(&full_summary),
        analysed(&pushed_summary),
        pushed_summary["pull"]["rows"],
        bytes(&pushed_summary)
    );

    let full_findings = findings_without_sources(full.dir.path());
    let pushed_findings = findings_without_sources(pushed.dir.path());
    let of = |findings: &[Value], rules: &dyn Fn(&str) -> bool| -> Vec<Value> {
        findings
            .iter()
            .filter(|f| rules(rule_of(f)))
            .cloned()
            .collect()
    };
    // Window findings: the same findings, ids, principals and messages (the
    // messages carry the counts and baselines), and, since the second phase
    // pulled their windows' events, the same evidence, event counts,
    // first/last times and operations.
    let windows = |rule: &str| WINDOW_RULES.contains(&rule);
    let expected = of(&full_findings, &windows);
    let rules: Vec<&str> = expected.iter().map(rule_of).collect();
    assert!(rules.contains(&"kv-mass-secret-retrieval"), "{rules:?}");
    assert!(rules.contains(&"kv-denied-burst"), "{rules:?}");
    assert_eq!(of(&pushed_findings, &windows), expected);
    let count = |findings: &[Value], rule: &str| {
        findings
            .iter()
            .find(|f| rule_of(f) == rule)
            .map(|f| f["event_count"].as_u64().unwrap())
    };
    assert_eq!(
        count(&pushed_findings, "kv-mass-secret-retrieval"),
        Some(60)
    );

    // Event findings and least privilege: equal, evidence included.
    let events = |rule: &str| !windows(rule) && !needs_every_event(rule);
    let expected = of(&full_findings, &events);
    assert!(
        expected.iter().any(|f| rule_of(f) == "kv-access-denied"),
        "{expected:?}"
    );
    let privilege = [
        "unused-permission",
        "dormant-grant",
        "access-policy-escalation",
    ];
    assert!(
        expected.iter().any(|f| privilege.contains(&rule_of(f))),
        "{expected:?}"
    );
    assert_eq!(of(&pushed_findings, &events), expected);
    let unused =
        |run: &Run| std::fs::read_to_string(run.dir.path().join("unused-permissions.csv")).unwrap();
    assert_eq!(unused(&pushed), unused(&full));

    // What still differs (docs/pushdown.md): the analyses that need every
    // event are not run (the full pull has some of their findings to lose).
    assert!(full_findings.iter().any(|f| needs_every_event(rule_of(f))));
    assert!(
        !pushed_findings
            .iter()
            .any(|f| needs_every_event(rule_of(f)))
    );
}

#[test]
fn pushdown_sends_no_flagged_window_query_when_no_window_is_flagged() {
    let standin = mixed_workspace();
    let full = audit_workspace(&standin, "2026-11-19", "2026-11-24", &[]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    let full_findings = findings_without_sources(full.dir.path());
    assert!(
        !full_findings
            .iter()
            .any(|f| WINDOW_RULES.contains(&rule_of(f))),
        "the workspace has no flagged window: {full_findings:?}"
    );
    let before = standin.query_requests().len();
    let pushed = audit_workspace(&standin, "2026-11-19", "2026-11-24", &["--pushdown"]);
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    let queries = standin.query_requests()[before..].to_vec();
    assert!(
        queries
            .iter()
            .any(|r| r.body.contains("kvaudit:pushdown-windows"))
    );
    assert!(
        !queries
            .iter()
            .any(|r| r.body.contains("kvaudit:pushdown-flagged"))
    );
    let summary = pushed.summary();
    let query = summary["pull"]["query"].as_str().unwrap();
    assert!(!query.contains("pushdown-flagged"), "{query}");
    pushed.says("every event of the 0 rate window(s) Cedar flagged (0 more)");
}

/// The bursty workspace audited with --pushdown, the flagged-window query's
/// first answer replaced by `first_answer`.
fn pushdown_with_flagged_answer(first_answer: Scripted) -> (StandIn, Run) {
    let standin = bursty_workspace();
    standin
        .state
        .lock()
        .unwrap()
        .script_for
        .push(("kvaudit:pushdown-flagged".into(), first_answer));
    let run = audit_workspace(&standin, "2026-11-19", "2026-11-24", &["--pushdown"]);
    (standin, run)
}

#[test]
fn a_partial_answer_to_the_flagged_window_query_is_split_and_asked_again() {
    let (standin, pushed) = pushdown_with_flagged_answer(Scripted::sample(
        200,
        "200-partial-error-record-count.SYNTHETIC.json",
    ));
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    let flagged: Vec<(String, String)> = standin
        .query_requests()
        .iter()
        .filter(|r| r.body.contains("kvaudit:pushdown-flagged"))
        .map(|r| r.slice().unwrap())
        .collect();
    // The partial slice came back as its two halves.
    let (start, end) = flagged[0].clone();
    let halves: Vec<&(String, String)> = flagged[1..]
        .iter()
        .filter(|(s, e)| (*s == start && *e < end) || (*s > start && *e == end))
        .collect();
    assert_eq!(halves.len(), 2, "{flagged:?}");
    let summary = pushed.summary();
    assert!(summary["pull"]["slices_split"].as_u64().unwrap() >= 1);
    assert_eq!(summary["pull"]["unfinished"], serde_json::json!([]));
    // Nothing was lost: the burst's 60 reads are all behind the finding.
    let findings = findings_without_sources(pushed.dir.path());
    let mass = findings
        .iter()
        .find(|f| rule_of(f) == "kv-mass-secret-retrieval")
        .unwrap();
    assert_eq!(mass["event_count"], 60);
}

#[test]
fn a_flagged_window_slice_the_service_cannot_answer_leaves_the_audit_incomplete() {
    let (_standin, pushed) = pushdown_with_flagged_answer(Scripted {
        status: 200,
        body: "{\"tables\": [{\"name\": \"PrimaryResult\", \"colu".into(),
        headers: Vec::new(),
    });
    assert_eq!(pushed.code, 3, "{}", pushed.stderr);
    pushed.says("slice(s) unfinished");
    let unfinished = &pushed.summary()["pull"]["unfinished"];
    assert_eq!(unfinished.as_array().unwrap().len(), 1, "{unfinished}");
}

#[test]
fn a_pushdown_table_without_a_declared_column_is_an_error_naming_both() {
    let standin = bursty_workspace();
    standin.state.lock().unwrap().pushdown_drop = Some("distinct_ips".into());
    let run = audit_workspace(&standin, "2026-11-19", "2026-11-24", &["--pushdown"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says(
        "queries/pushdown-windows.kql (bundled): the answer has no column `distinct_ips` (long)",
    );

    standin.state.lock().unwrap().pushdown_drop = Some("successes".into());
    let run = audit_workspace(&standin, "2026-11-19", "2026-11-24", &["--pushdown"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says("queries/pushdown-usage.kql (bundled): the answer has no column `successes` (long)");
}

#[test]
fn pull_refuses_pushdown_and_says_what_to_run() {
    let standin = mixed_workspace();
    let run = pull(&standin, "2026-11-19", "2026-11-24", &["--pushdown"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says("kvaudit pull does not take --pushdown");
    run.says("kvaudit audit --workspace ID --pushdown");
    assert!(standin.query_requests().is_empty());
}

/// A 200 with a `PartialError`, as the service writes one (the envelope of
/// `200-partial-error-data-size.json`), for a reason a shorter slice does
/// not avoid. SYNTHETIC: the inner message is invented.
fn partial_error_not_about_size() -> Scripted {
    Scripted {
        status: 200,
        body: serde_json::json!({
            "tables": [{"name": "PrimaryResult", "columns": [{"name": "TimeGenerated", "type": "datetime"}], "rows": []}],
            "error": {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": [{
                    "code": "EngineError",
                    "message": "Something went wrong processing your query on the server.",
                    "innererror": {"code": "-2133196798", "message": "Function 'kv_enrich' failed: lookup table is unavailable", "severity": 2, "severityName": "Error"}
                }]
            }
        })
        .to_string(),
        headers: Vec::new(),
    }
}

#[test]
fn a_partial_error_not_about_size_is_unfinished_not_split() {
    let standin = mixed_workspace();
    standin
        .state
        .lock()
        .unwrap()
        .script
        .push_back(partial_error_not_about_size());
    let run = audit_workspace(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        standin.query_requests().len(),
        1,
        "halving would meet the same error in every half"
    );
    let unfinished = run.summary()["pull"]["unfinished"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(unfinished.len(), 1);
    let reason = unfinished[0]["reason"].as_str().unwrap();
    assert!(reason.contains("lookup table is unavailable"), "{reason}");
    assert!(
        reason.contains("a shorter slice does not avoid"),
        "{reason}"
    );
}

#[test]
fn a_200_with_only_an_error_shows_the_service_text() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().script.push_back(Scripted {
        status: 200,
        body: r#"{"error":{"code":"SemanticError","message":"A semantic error occurred.","details":[{"code":"SEM0100","message":"'where' operator: Failed to resolve column or scalar expression named 'ResultSignature'"}]}}"#.into(),
        headers: Vec::new(),
    });
    let run = pull(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.says("Failed to resolve column or scalar expression named 'ResultSignature'");
    assert!(
        !run.stderr.contains("is not a query result"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_workspace_that_refuses_does_not_stop_the_others() {
    const MISSING: &str = "99999999-8888-7777-6666-555555555555";
    let standin = mixed_workspace();
    let run = audit_workspace(
        &standin,
        "2026-11-19",
        "2026-11-24",
        &["--slice", "1d", "--workspace", MISSING],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.says("the other workspaces are still pulled");
    run.analysed_every_exported_row();
    let summary = run.summary();
    let unfinished = summary["pull"]["unfinished"].as_array().unwrap();
    assert_eq!(
        unfinished.len(),
        5,
        "the five days of the missing workspace"
    );
    for slice in unfinished {
        assert_eq!(slice["workspace"], MISSING);
        assert!(
            slice["reason"].as_str().unwrap().contains("was not found"),
            "{slice}"
        );
    }

    // When every workspace refuses, the pull stops with the service's words.
    let standin = StandIn::start();
    let run = audit_workspace(
        &standin,
        "2026-11-19",
        "2026-11-24",
        &["--workspace", MISSING],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.says("was not found");
}

/// A near-expiry notification in each table, as an export writes it
/// (`eventGridEventProperties` per log-formats.md; EXP in Unix seconds).
fn expiry_notifications() -> Vec<Map<String, Value>> {
    let expires = 1_795_603_200; // 2026-11-25T08:00:00Z
    let mut diagnostics = crate::standin::export_rows(&diagnostics_export())[0].clone();
    diagnostics.insert(
        "TimeGenerated".into(),
        "2026-11-22T06:00:00.1234567Z".into(),
    );
    diagnostics.insert(
        "OperationName".into(),
        "SecretNearExpiryEventGridNotification".into(),
    );
    diagnostics.insert("eventGridEventProperties_data_EXP_d".into(), expires.into());
    diagnostics.insert(
        "eventGridEventProperties_data_ObjectName_s".into(),
        "db-password".into(),
    );
    diagnostics.insert(
        "eventGridEventProperties_data_ObjectType_s".into(),
        "Secret".into(),
    );
    let mut azkv = crate::standin::export_rows(&azkv_export())[0].clone();
    azkv.insert("TimeGenerated".into(), "2026-11-22T07:00:00.5Z".into());
    azkv.insert(
        "OperationName".into(),
        "KeyNearExpiryEventGridNotification".into(),
    );
    azkv.insert(
        "EventGridEventProperties".into(),
        serde_json::json!({"subject": "signing-key", "data": {"ObjectName": "signing-key", "ObjectType": "Key", "NBF": null, "EXP": expires + 3600}}),
    );
    vec![diagnostics, azkv]
}

#[test]
fn a_pull_keeps_the_expiry_of_notifications_as_an_export_does() {
    let standin = StandIn::start();
    let rows = expiry_notifications();
    standin.add_rows(WORKSPACE, rows.clone());
    let run = pull(&standin, "2026-11-22", "2026-11-23", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pulled = read_parquet(&run.parquet());
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.json");
    std::fs::write(&export, serde_json::to_string(&rows).unwrap()).unwrap();
    let exported = ingest_files(&[export]);
    let expires = |frame: &DataFrame| -> Vec<Option<i64>> {
        let sorted = frame
            .sort(["time"], SortMultipleOptions::default())
            .unwrap();
        sorted
            .column("expires")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect()
    };
    let from_export = expires(&exported);
    assert_eq!(from_export.len(), 2);
    assert!(from_export.iter().all(Option::is_some), "{from_export:?}");
    assert_eq!(expires(&pulled), from_export);
}

#[test]
fn a_query_may_run_as_long_as_its_prefer_wait() {
    // Five minutes of query time: past the service's default of three, within
    // the ten kvaudit asks for.
    let standin = mixed_workspace();
    standin.state.lock().unwrap().query_seconds = 300;
    let run = pull(&standin, "2026-11-22", "2026-11-23", &["--slice", "1d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(standin.query_requests().len(), 1);
    // Past even ten minutes the stand-in times out as the service does.
    standin.state.lock().unwrap().query_seconds = 700;
    let run = pull(
        &standin,
        "2026-11-22T00:00:00Z",
        "2026-11-22T00:00:02Z",
        &[],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.says("server timeout");
}

#[test]
fn a_result_over_the_data_size_limit_is_split_until_every_row_is_read() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().max_bytes = 20_000;
    let run = audit_workspace(&standin, "2026-11-19", "2026-11-24", &["--slice", "5d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.analysed_every_exported_row();
    let summary = run.summary();
    assert!(summary["pull"]["slices_split"].as_u64().unwrap() >= 2);
}

#[test]
fn the_pull_keeps_to_five_queries_at_once() {
    let standin = mixed_workspace();
    standin.state.lock().unwrap().delay = Duration::from_millis(100);
    let run = pull(&standin, "2026-11-19", "2026-11-24", &["--slice", "2h"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = standin.state.lock().unwrap();
    assert_eq!(state.most_in_flight, 5, "five at once, not fewer, not more");
    assert!(
        state.requests.iter().all(|r| r.status != 429),
        "a sixth concurrent query is refused with 429"
    );
}

#[test]
fn a_resource_centric_query_reads_one_vaults_logs_from_whichever_workspace_holds_them() {
    const VAULT: &str = "/subscriptions/6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments-prod";
    let standin = mixed_workspace();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pull.parquet");
    let pull = |resource: &str| {
        kvaudit(&standin, "pull")
            .arg("--ca-cert")
            .arg(&standin.ca_pem)
            .args([
                "--auth",
                "azure-cli",
                "--since",
                "2026-11-19",
                "--until",
                "2026-11-24",
            ])
            .args(["--resource", resource, "--slice", "5d", "--quiet", "--out"])
            .arg(&out)
            .output()
            .unwrap()
    };
    let output = pull(VAULT);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let pulled = read_parquet(&out);
    let exported = ingest_files(&[azkv_export()]);
    assert_eq!(
        pulled.height(),
        exported.height(),
        "the vault's rows, not the other vault's"
    );
    let vaults = pulled
        .column("vault")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    assert!(
        vaults
            .str()
            .unwrap()
            .iter()
            .all(|v| v == Some("kv-payments-prod"))
    );
    let requests = standin.query_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, format!("/v1{VAULT}/query"));

    // Not a vault's resource ID: refused before any query, saying what to give.
    let output =
        pull("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/s");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("give a key vault's resource ID"),
        "{stderr}"
    );

    // No read access to the vault's logs: says which role, on what.
    standin.state.lock().unwrap().forbidden.insert(VAULT.into());
    let output = pull(VAULT);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("may not read its logs"), "{stderr}");
    assert!(stderr.contains("on the vault"), "{stderr}");
}
