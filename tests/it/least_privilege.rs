//! Least privilege end to end: the sample logs with their inventory, a bad
//! inventory file, and a baseline generated from one period and audited on
//! the next.

use std::path::{Path, PathBuf};

use crate::common::kvaudit;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

fn path(relative: &str) -> String {
    root().join(relative).display().to_string()
}

/// `kvaudit audit` with extra arguments; returns (exit code, stderr, findings).
fn audit(args: &[&str], out: &Path) -> (i32, String, Vec<Value>) {
    let output = kvaudit()
        .args(["audit", "--quiet", "--format", "json,csv", "--out"])
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    let findings = std::fs::read_to_string(out.join("findings.json"))
        .map(|s| serde_json::from_str::<Vec<Value>>(&s).unwrap())
        .unwrap_or_default();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        findings,
    )
}

/// The one finding of `rule` about `name` (display name or object id) in `vault`.
fn finding<'a>(findings: &'a [Value], rule: &str, name: &str, vault: &str) -> Option<&'a Value> {
    let matching: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            f["rule"] == rule
                && f["vault"] == vault
                && (f["principal_name"] == name || f["principal"] == name)
        })
        .collect();
    assert!(matching.len() <= 1, "{matching:?}");
    matching.first().copied()
}

fn text<'a>(f: &'a Value, field: &str) -> &'a str {
    f[field].as_str().unwrap_or("")
}

#[test]
fn over_granted_sample_identities_get_the_documented_recommendations() {
    let out = tempfile::tempdir().unwrap();
    let (code, stderr, findings) = audit(
        &[
            &path("sample-logs"),
            "--inventory",
            &path("sample-inventory"),
        ],
        out.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let ours: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            matches!(
                f["rule"].as_str(),
                Some("unused-permission" | "dormant-grant" | "access-policy-escalation")
            )
        })
        .collect();
    // sample-logs/README.md, Inventory: 13 unused, 2 dormant, 3 escalations.
    assert_eq!(ours.len(), 18, "{ours:#?}");
    assert!(
        ours.iter()
            .filter(|f| f["rule"] != "access-policy-escalation")
            .all(|f| text(f, "title").ends_with("(provisional)")),
        "7 days < 30"
    );

    // RBAC: Administrator used for secret reads only -> Secrets User.
    let alice = finding(
        &findings,
        "unused-permission",
        "alice.nguyen@contosopay.com",
        "kv-payments-prod",
    )
    .unwrap();
    assert!(
        text(alice, "message").contains("Key Vault Secrets User covers that use"),
        "{alice}"
    );
    assert!(text(alice, "remediation").contains("--role 'Key Vault Secrets User' --scope /subscriptions/d23f0824-128b-4f33-8c5c-7fd0a6a3a450/resourceGroups/rg-prod-apps/providers/Microsoft.KeyVault/vaults/kv-payments-prod"), "{alice}");
    // No built-in role fits the settlement worker: exactly its 4 data actions.
    let worker = finding(
        &findings,
        "unused-permission",
        "id-settlement-worker",
        "kv-payments-prod",
    )
    .unwrap();
    let remediation = text(worker, "remediation");
    let json_start = remediation.find("role.json: {").unwrap() + "role.json: ".len();
    let role: Value = serde_json::from_str(&remediation[json_start..]).unwrap();
    let actions: Vec<&str> = role["DataActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        ]
    );
    assert!(
        finding(
            &findings,
            "unused-permission",
            "sp-github-deploy",
            "kv-payments-prod"
        )
        .is_none(),
        "Secrets User is already the smallest"
    );
    assert!(
        finding(
            &findings,
            "dormant-grant",
            "id-legacy-batch",
            "kv-payments-prod"
        )
        .is_some()
    );
    assert!(
        findings
            .iter()
            .all(|f| f["principal"] != "a9d3f6b2-8e1c-4f7a-b5d4-2c0e8f6a1b93"),
        "group grants are not judged"
    );

    // Access policies: the minimal lists and the command that applies them.
    let admin_site = finding(
        &findings,
        "unused-permission",
        "app-web-admin",
        "kv-web-prod",
    )
    .unwrap();
    assert_eq!(admin_site["severity"], "medium");
    assert!(text(admin_site, "remediation").contains(
        "az keyvault delete-policy --name kv-web-prod --object-id 6b4cb242-4a23-4596-a217-beaddbc496cb && az keyvault set-policy --name kv-web-prod --object-id 6b4cb242-4a23-4596-a217-beaddbc496cb --secret-permissions get`"
    ), "{admin_site}");
    let catalog = finding(
        &findings,
        "unused-permission",
        "id-web-catalog",
        "kv-web-prod",
    )
    .unwrap();
    assert_eq!(catalog["severity"], "low", "only list unused");
    let alice_web = finding(
        &findings,
        "unused-permission",
        "alice.nguyen@contosopay.com",
        "kv-web-prod",
    )
    .unwrap();
    assert!(text(alice_web, "remediation").contains("Keep only what was used: `az keyvault delete-policy --name kv-web-prod --object-id 57ee05cd-e009-42c7-bebf-f20686734721`"), "{alice_web}");
    assert!(finding(&findings, "dormant-grant", "id-old-cms", "kv-web-prod").is_some());
    for (who, vault) in [
        ("id-dev-apps", "kv-shared-dev"),
        ("dana.kim@contosopay.com", "kv-shared-dev"),
        ("id-reporting-vm", "kv-shared-dev"),
        ("id-inventory-sync", "kv-web-prod"),
    ] {
        assert!(
            finding(&findings, "unused-permission", who, vault).is_none(),
            "{who} uses all it holds"
        );
    }

    // Escalation: vaults/write on access-policy vaults only.
    let bob = finding(
        &findings,
        "access-policy-escalation",
        "bob.martin@contosopay.com",
        "kv-web-prod",
    )
    .unwrap();
    assert_eq!(bob["severity"], "high");
    assert!(
        text(bob, "message").contains("Key Vault Contributor")
            && text(bob, "message").contains("VaultPatch ×1"),
        "{bob}"
    );
    assert!(
        finding(
            &findings,
            "access-policy-escalation",
            "bob.martin@contosopay.com",
            "kv-shared-dev"
        )
        .is_some()
    );
    assert!(
        finding(
            &findings,
            "access-policy-escalation",
            "sp-github-deploy",
            "kv-web-prod"
        )
        .is_some()
    );
    assert!(
        finding(
            &findings,
            "access-policy-escalation",
            "sp-github-deploy",
            "kv-payments-prod"
        )
        .is_none(),
        "RBAC vault"
    );

    // unused-permissions.csv: one row per principal, vault and permission.
    let csv = std::fs::read_to_string(out.path().join("unused-permissions.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let admin_rows: Vec<_> = rows.iter().filter(|r| &r[3] == "app-web-admin").collect();
    assert_eq!(admin_rows.len(), 7, "secrets all minus get");
    assert!(
        admin_rows
            .iter()
            .all(|r| &r[7] == "unused" && &r[11] == "true")
    );
    assert!(rows.iter().any(|r| &r[3] == "sp-github-deploy"
        && &r[5] == "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
        && r[12].starts_with("keep")));

    // Vault tags from the inventory reach the policies: kv-payments-prod is
    // env=prod there, so without an entities file the person-reads-prod-secret
    // rule sees alice's reads; without the inventory it cannot.
    assert!(
        finding(
            &findings,
            "kv-human-prod-secret-read",
            "alice.nguyen@contosopay.com",
            "kv-payments-prod"
        )
        .is_some()
    );
    let (_, _, without) = audit(&[&path("sample-logs")], tempfile::tempdir().unwrap().path());
    assert!(
        finding(
            &without,
            "kv-human-prod-secret-read",
            "alice.nguyen@contosopay.com",
            "kv-payments-prod"
        )
        .is_none()
    );

    // Display names from `az ad sp list` reach every finding (the logs only
    // carry the app id of an app registration).
    assert!(
        finding(
            &findings,
            "kv-client-secret-credential",
            "sp-github-deploy",
            "kv-web-prod"
        )
        .is_some()
    );

    // A long enough window makes them firm.
    let firm = tempfile::tempdir().unwrap();
    let (code, stderr, findings) = audit(
        &[
            &path("sample-logs"),
            "--inventory",
            &path("sample-inventory"),
            "--min-observation-days",
            "6",
        ],
        firm.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        findings
            .iter()
            .all(|f| !text(f, "title").contains("provisional"))
    );
}

/// The sample inventory is consistent with the sample logs: every identity
/// that succeeded on the data plane holds a grant, and only the documented
/// group is left unjudged.
#[test]
fn the_sample_inventory_backs_every_successful_call() {
    use kvaudit::analyze::privilege::{PrivilegeOptions, analyze};
    use kvaudit::ingest::inventory::Inventory;
    let inputs = kvaudit::ingest::inputs::expand(&[path("sample-logs")]).unwrap();
    let ingested = kvaudit::ingest::ingest(&inputs, &indicatif::ProgressBar::hidden()).unwrap();
    let inventory = Inventory::load(&[root().join("sample-inventory")]).unwrap();
    assert_eq!(inventory.files.len(), 6);
    assert!(inventory.warnings.is_empty(), "{:?}", inventory.warnings);
    let analysis = analyze(&ingested.events, &inventory, &PrivilegeOptions::default()).unwrap();
    assert!(analysis.warnings.is_empty(), "{:?}", analysis.warnings);
    let summary: Vec<(&str, &str, usize, usize, usize)> = analysis
        .vaults
        .iter()
        .map(|v| {
            (
                v.vault.as_str(),
                v.permission_model,
                v.principals_with_grants,
                v.group_grants,
                v.callers_without_grant,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("kv-payments-prod", "rbac", 8, 1, 0),
            ("kv-shared-dev", "access-policy", 6, 0, 0),
            ("kv-web-prod", "access-policy", 9, 0, 0),
        ]
    );
    assert!(
        analysis
            .vaults
            .iter()
            .all(|v| v.provisional && v.unknown_roles.is_empty())
    );
}

#[test]
fn a_bad_inventory_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("roles.json");
    std::fs::write(
        &broken,
        "[\n  {\"principalId\": \"x\",\n   \"scope\": }\n]\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stderr, _) = audit(
        &[
            &path("sample-logs"),
            "--inventory",
            broken.to_str().unwrap(),
        ],
        out.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:", broken.display())),
        "{stderr}"
    );
    assert!(stderr.contains("--output json"), "{stderr}");

    // A log file given as inventory.
    let log = dir.path().join("PT1H.json");
    std::fs::write(&log, r#"{"records": [{"operationName": "SecretGet"}]}"#).unwrap();
    let (code, stderr, _) = audit(
        &[&path("sample-logs"), "--inventory", log.to_str().unwrap()],
        out.path(),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("PT1H.json") && stderr.contains("audit log"),
        "{stderr}"
    );
}

#[test]
fn a_baseline_from_three_days_flags_only_what_is_new_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.cedar");
    let blobs = path("sample-logs/insights-logs-auditevent");
    // Days 1-3 (2026-11-16..18) are blobs of every vault.
    let first: Vec<String> = ["16", "17", "18"]
        .iter()
        .map(|d| format!("{blobs}/**/d={d}/**/PT1H.json*"))
        .collect();
    let output = kvaudit()
        .args(["policy", "generate", "--out"])
        .arg(&baseline)
        .args(&first)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cedar = std::fs::read_to_string(&baseline).unwrap();
    assert!(
        cedar.contains("// ---- id-payments-api (managed-identity)"),
        "{cedar}"
    );

    let outside = |inputs: &[String]| -> Vec<Value> {
        let out = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let policies = baseline.display().to_string();
        args.extend(["--policies", &policies]);
        let (code, stderr, findings) = audit(&args, out.path());
        assert_eq!(code, 0, "{stderr}");
        findings
            .into_iter()
            .filter(|f| f["rule"] == "outside-baseline")
            .collect()
    };
    // The period it was made from is entirely inside it.
    let same = outside(&first);
    assert!(same.is_empty(), "{same:#?}");

    // Days 4-7: blobs, the Event Hub file and the Log Analytics export.
    let mut later: Vec<String> = ["19", "20", "21", "22"]
        .iter()
        .map(|d| format!("{blobs}/**/d={d}/**/PT1H.json*"))
        .collect();
    later.push(path("sample-logs/eventhub"));
    later.push(path("sample-logs/log-analytics"));
    let new = outside(&later);
    let about = |name: &str, vault: &str| -> Vec<&Value> {
        new.iter()
            .filter(|f| f["principal_name"] == name && f["vault"] == vault)
            .collect()
    };
    // Incident 1 (day 4): dana in the payments vault, which she never used before.
    assert!(!about("dana.kim@contosopay.com", "kv-payments-prod").is_empty());
    // Incident 5 (day 6): bob's purge and key deletion on kv-web-prod.
    let bob_ops: Vec<&str> = about("bob.martin@contosopay.com", "kv-web-prod")
        .iter()
        .flat_map(|f| {
            f["operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap())
        })
        .collect();
    for op in ["VaultPatch", "SecretPurge", "KeyDelete", "SecretBackup"] {
        assert!(bob_ops.contains(&op), "{op} in {bob_ops:?}");
    }
    // Incident 6 (day 5): the break-glass account's first use.
    assert!(
        !about(
            "breakglass01@contosopay.onmicrosoft.com",
            "kv-payments-prod"
        )
        .is_empty()
    );
    // The applications' steady work is not new.
    for app in [
        "id-payments-api",
        "id-web-catalog",
        "id-inventory-sync",
        "id-dev-apps",
        "app-web-admin",
    ] {
        let flagged: Vec<&Value> = new.iter().filter(|f| f["principal_name"] == app).collect();
        assert!(flagged.is_empty(), "{app}: {flagged:#?}");
    }
}
