//! The Cedar policy engine through the binary (`policy validate`, `policy
//! test`, `explain`) and through the library on the sample logs.

use std::path::{Path, PathBuf};

use crate::common::kvaudit;
use serde_json::{Value, json};

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = kvaudit().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A raw AuditEvent record.
fn record(
    time: &str,
    op: &str,
    secret: Option<&str>,
    oid: &str,
    appidacr: &str,
    status: u16,
    correlation: &str,
) -> Value {
    let uri = match secret {
        Some(s) => format!("https://kv-team.vault.azure.net/secrets/{s}?api-version=7.4"),
        None => "https://kv-team.vault.azure.net/secrets?api-version=7.4".to_owned(),
    };
    let mut properties = json!({
        "clientInfo": "azsdk-python-keyvault-secrets/4.8.0",
        "requestUri": uri,
        "httpStatusCode": status,
        "tlsVersion": "TLS1_2",
        "isRbacAuthorized": status < 300,
    });
    if let Some(s) = secret {
        properties["id"] = json!(format!(
            "https://kv-team.vault.azure.net/secrets/{s}/0123456789abcdef0123456789abcdef"
        ));
    }
    json!({
        "time": time, "category": "AuditEvent", "operationName": op, "operationVersion": "7.4",
        "resultType": "Success", "resultSignature": if status < 300 { "OK" } else { "Forbidden" },
        "durationMs": "9", "callerIpAddress": "10.1.2.3", "correlationId": correlation,
        "resourceId": "/SUBSCRIPTIONS/D23F0824-128B-4F33-8C5C-7FD0A6A3A450/RESOURCEGROUPS/RG-TEAM/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-TEAM",
        "identity": {"claim": {"oid": oid, "appid": "00000000-0000-0000-0000-0000000000bb", "appidacr": appidacr, "idtyp": "app"}},
        "properties": properties,
    })
}

/// A log directory with one file: an app reading `db-password` at 03:10 and
/// a second app reading it at 14:00.
fn team_logs(dir: &Path) -> PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let lines = [
        record(
            "2026-11-16T03:10:00.0000000Z",
            "SecretGet",
            Some("db-password"),
            "00000000-0000-0000-0000-0000000000a1",
            "2",
            200,
            "corr-night",
        ),
        record(
            "2026-11-16T14:00:00.0000000Z",
            "SecretGet",
            Some("db-password"),
            "00000000-0000-0000-0000-0000000000a2",
            "2",
            200,
            "corr-day",
        ),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let path = logs.join("PT1H.json");
    std::fs::write(&path, text).unwrap();
    logs
}

#[test]
fn the_default_pack_validates() {
    let (code, stdout, stderr) = run(&["policy", "validate"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("policies valid: 27 (26 rules, 0 baseline permits, 1 exemption)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("<default pack>/sensitive-operations.cedar (6 policies)"),
        "{stdout}"
    );
}

#[test]
fn invalid_policies_give_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.cedar"),
        "// team rules\n@id(\"night-reads\")\n@category(\"noise\")\n@severity(\"high\")\n@title(\"t\")\nforbid (principal, action, resource)\nwhen { context.hour < 6 && context.nope };\n",
    )
    .unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let (code, stdout, stderr) = run(&["policy", "validate", "--policies", dir_arg]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let file = dir.path().join("bad.cedar").display().to_string();
    assert!(
        stderr.contains(&format!("error: {file}:3:1: unknown category `noise`")),
        "{stderr}"
    );
    std::fs::write(
        dir.path().join("bad.cedar"),
        "@id(\"night-reads\")\n@category(\"least-privilege\")\n@severity(\"high\")\n@title(\"t\")\nforbid (principal, action, resource)\nwhen { context.hour < 6 && context.nope };\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["policy", "validate", "--policies", dir_arg]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("error: {file}:6:")), "{stderr}");
    assert!(stderr.contains("nope"), "{stderr}");
    std::fs::write(
        dir.path().join("bad.cedar"),
        "permit (principal, action, resource)\nwhen { 1 + };\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["policy", "validate", "--policies", dir_arg]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("error: {file}:2:")), "{stderr}");
    let (code, _, stderr) = run(&["policy", "validate", "--policies", "/no/such/dir"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn policy_test_passes_on_the_pack_and_fails_when_a_case_is_broken() {
    let (code, stdout, stderr) = run(&["policy", "test"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    copy_dir(&policies_dir(), dir.path());
    let dir_arg = dir.path().to_str().unwrap();
    let (code, stdout, _) = run(&["policy", "test", dir_arg]);
    assert_eq!(code, 0, "{stdout}");

    let case = dir.path().join("tests/sensitive-operations.json");
    let text = std::fs::read_to_string(&case).unwrap();
    let broken = text.replacen(
        "\"rule\": \"kv-restore\", \"severity\": \"low\"",
        "\"rule\": \"kv-restore\", \"severity\": \"high\"",
        1,
    );
    assert_ne!(text, broken);
    std::fs::write(&case, broken).unwrap();
    let (code, stdout, _) = run(&["policy", "test", dir_arg]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("restores"), "{stdout}");
    assert!(stdout.contains(" 1 failed"), "{stdout}");

    // Breaking the policy instead of the case fails too.
    std::fs::write(&case, &text).unwrap();
    let policy = dir.path().join("sensitive-operations.cedar");
    let cedar = std::fs::read_to_string(&policy)
        .unwrap()
        .replace("@severity(\"low\")", "@severity(\"medium\")");
    std::fs::write(&policy, cedar).unwrap();
    let (code, stdout, _) = run(&["policy", "test", dir_arg]);
    assert_eq!(code, 1, "{stdout}");
}

#[test]
fn a_team_policy_and_an_entities_file_change_the_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let logs = team_logs(dir.path());
    let logs_arg = logs.to_str().unwrap();
    let team = dir.path().join("team");
    std::fs::create_dir_all(team.join("tests")).unwrap();
    std::fs::write(
        team.join("night.cedar"),
        "@id(\"team-night-reads\")\n@category(\"least-privilege\")\n@severity(\"medium\")\n@title(\"Night-time secret read by a payments identity\")\n\
         forbid (principal in Group::\"payments-team\", action in Action::\"read-secret-value\", resource)\n\
         when { context.hour < 6 && resource.hasTag(\"env\") && resource.getTag(\"env\") == \"prod\" };\n",
    )
    .unwrap();
    let entities = dir.path().join("entities.json");
    std::fs::write(
        &entities,
        json!([
            {"uid": {"type": "Vault", "id": "kv-team"}, "tags": {"env": "prod"}},
            {"uid": {"type": "Identity", "id": "00000000-0000-0000-0000-0000000000a1"}, "attrs": {"name": "payments-api"},
             "parents": [{"type": "Group", "id": "payments-team"}]}
        ])
        .to_string(),
    )
    .unwrap();
    let team_arg = team.to_str().unwrap();
    let entities_arg = entities.to_str().unwrap();

    // Without the team's files: no rule matches the night read.
    let (code, stdout, stderr) = run(&["explain", logs_arg, "--correlation-id", "corr-night"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("no rule matched"), "{stdout}");
    assert!(
        stdout.contains("action:    Action::\"SecretGet\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("resource:  Secret::\"kv-team/db-password\""),
        "{stdout}"
    );

    // The policy alone does not match: nobody is in the group, no vault tag.
    let (_, stdout, _) = run(&[
        "explain",
        logs_arg,
        "--correlation-id",
        "corr-night",
        "--policies",
        team_arg,
    ]);
    assert!(stdout.contains("no rule matched"), "{stdout}");

    // Policy + entities: the night read by the payments identity matches...
    let args = ["--policies", team_arg, "--entities", entities_arg];
    let (code, stdout, stderr) = run(&[
        &["explain", logs_arg, "--correlation-id", "corr-night"][..],
        &args,
    ]
    .concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("MATCHED team-night-reads"), "{stdout}");
    assert!(stdout.contains("\"hour\": 3"), "{stdout}");
    assert!(stdout.contains("payments-team"), "{stdout}");
    // ...the day read by another identity does not, and file:line works too.
    let at = format!("{}:2", logs.join("PT1H.json").display());
    let (code, stdout, _) = run(&[&["explain", logs_arg, "--at", &at][..], &args].concat());
    assert_eq!(code, 0);
    assert!(stdout.contains("no rule matched"), "{stdout}");

    // The same change seen through `policy test` cases kept beside the policy.
    std::fs::write(
        team.join("tests/night.json"),
        json!({"cases": [{
            "name": "night read by the payments team",
            "entities": [
                {"uid": {"type": "Vault", "id": "kv-team"}, "tags": {"env": "prod"}},
                {"uid": {"type": "Identity", "id": "00000000-0000-0000-0000-0000000000a1"}, "parents": [{"type": "Group", "id": "payments-team"}]}
            ],
            "events": [
                {"vault": "kv-team", "time": "2026-11-16T03:10:00Z", "principal_id": "00000000-0000-0000-0000-0000000000a1"},
                {"vault": "kv-team", "time": "2026-11-16T14:10:00Z", "principal_id": "00000000-0000-0000-0000-0000000000a1"}
            ],
            "expect": [{"rule": "team-night-reads", "event_count": 1, "object": "app-secret"}]
        }]})
        .to_string(),
    )
    .unwrap();
    let (code, stdout, _) = run(&["policy", "test", team_arg]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

#[test]
fn explain_reports_an_event_it_cannot_find() {
    let dir = tempfile::tempdir().unwrap();
    let logs = team_logs(dir.path());
    let (code, _, stderr) = run(&[
        "explain",
        logs.to_str().unwrap(),
        "--correlation-id",
        "no-such-id",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no event with correlation id `no-such-id`"),
        "{stderr}"
    );
}

/// The sample logs: the committed ones, or generated into a temporary directory.
fn sample_logs() -> (Option<tempfile::TempDir>, PathBuf) {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    if committed.join("insights-logs-auditevent").is_dir() {
        return (None, committed);
    }
    let dir = tempfile::tempdir().unwrap();
    kvaudit_synth::generate(&kvaudit_synth::GeneratorConfig {
        out: dir.path().to_owned(),
        days: 7,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
        scale: 1.0,
        seed: 42,
        gzip: false,
    })
    .unwrap();
    let path = dir.path().to_owned();
    (Some(dir), path)
}

#[test]
fn the_sample_incidents_that_are_per_event_matters_are_findings() {
    use kvaudit::analyze::policy::{LoadedPolicies, PolicyOptions, evaluate};
    let (_keep, logs) = sample_logs();
    let inputs = kvaudit::ingest::inputs::expand(&[logs.display().to_string()]).unwrap();
    let ingested = kvaudit::ingest::ingest(&inputs, &indicatif::ProgressBar::hidden()).unwrap();
    let policies = LoadedPolicies::load(&PolicyOptions {
        default_pack: true,
        dirs: vec![],
        entities_file: Some(policies_dir().join("examples/sample-logs-entities.json")),
    })
    .unwrap();
    let observations =
        kvaudit::analyze::rates::observe(&ingested.events, &Default::default()).unwrap();
    let result = evaluate(&ingested.events, &observations, &policies).unwrap();
    eprintln!(
        "sample logs: {} events, {} Cedar requests evaluated ({} deduplicated), {} decisions in {:.3} s = {:.0} decisions/s, {} findings",
        result.events,
        result.requests_evaluated,
        result.requests_deduplicated,
        result.decisions,
        result.evaluation_seconds,
        result.decisions_per_second(),
        result.findings.len()
    );
    for f in &result.findings {
        eprintln!(
            "  {} {} {:?} {} {:?} {}",
            f.severity, f.rule, f.principal_name, f.vault, f.object, f.event_count
        );
    }
    assert!(
        result.requests_evaluated < result.events / 2,
        "{} requests for {} events",
        result.requests_evaluated,
        result.events
    );
    let find = |rule: &str, who: &str, vault: &str| -> Vec<&kvaudit::analyze::policy::Finding> {
        result
            .findings
            .iter()
            .filter(|f| {
                f.rule == rule
                    && f.vault == vault
                    && f.principal_name.as_deref().is_some_and(|n| n.contains(who))
            })
            .collect()
    };
    // 5: Bob's night on kv-web-prod.
    let bob = "bob.martin";
    assert_eq!(find("kv-access-policy-change", bob, "kv-web-prod").len(), 1);
    assert_eq!(find("kv-backup", bob, "kv-web-prod").len(), 2);
    assert_eq!(find("kv-object-delete", bob, "kv-web-prod").len(), 2);
    let purge = find("kv-purge", bob, "kv-web-prod");
    assert_eq!(purge.len(), 1);
    assert_eq!(purge[0].object.as_deref(), Some("legacy-smtp-password"));
    assert_eq!(
        find("kv-access-denied", bob, "kv-web-prod")[0].event_count,
        1
    );
    assert_eq!(
        find("kv-human-prod-secret-read", bob, "kv-web-prod")[0].event_count,
        3
    );
    // 4: the client-secret service principal, in all three vaults.
    for vault in ["kv-shared-dev", "kv-web-prod", "kv-payments-prod"] {
        assert_eq!(
            find("kv-client-secret-credential", "sp-github-deploy", vault).len(),
            1,
            "{vault}"
        );
    }
    assert_eq!(
        find(
            "kv-client-secret-credential",
            "sp-github-deploy",
            "kv-web-prod"
        )[0]
        .event_count,
        40
    );
    // 8: legacy TLS.
    assert_eq!(
        find("kv-legacy-tls", "id-reporting-vm", "kv-shared-dev")[0].event_count,
        6
    );
    // 9: enumeration without reads.
    assert_eq!(
        find(
            "kv-secret-enumeration-without-read",
            "id-inventory-sync",
            "kv-web-prod"
        )[0]
        .event_count,
        336
    );
    // 6 and 1: people reading production secrets; break-glass exempt.
    assert_eq!(
        find(
            "kv-human-prod-secret-read",
            "alice.nguyen",
            "kv-payments-prod"
        )[0]
        .event_count,
        3
    );
    assert_eq!(
        find("kv-human-prod-secret-read", "dana.kim", "kv-payments-prod")[0].event_count,
        52
    );
    assert!(
        find(
            "kv-human-prod-secret-read",
            "breakglass01",
            "kv-payments-prod"
        )
        .is_empty()
    );
    // 7: the denied burst.
    let denied: Vec<_> = result
        .findings
        .iter()
        .filter(|f| {
            f.rule == "kv-access-denied"
                && f.principal.as_deref() == Some("6bf46c69-7d2c-4f82-aeea-cbe226e87555")
        })
        .collect();
    assert_eq!(denied[0].event_count, 64);
    // Microsoft's background callers: no findings at all.
    assert!(
        result
            .findings
            .iter()
            .all(|f| f.principal_kind != "microsoft-service")
    );
    assert!(result.exempted_events > 0);
}
