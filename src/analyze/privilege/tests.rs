use super::*;
use crate::analyze::policy::tests_runner::{TestEvent, frame_of};
use crate::analyze::policy::{Category, Severity};
use crate::ingest::inventory::parse_document;

const AP_VAULT: &str =
    "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv-ap";
const RBAC_VAULT: &str =
    "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv-rbac";
const ADMIN: &str = "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/00482a5a-887f-4fb3-b363-3b7fe8e74483";
const CONTRIBUTOR: &str = "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c";
const SECRETS_USER: &str = "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6";

fn inventory(with_silent_vault: bool) -> Inventory {
    let vaults = serde_json::json!([
        {"id": AP_VAULT, "name": "kv-ap", "type": "Microsoft.KeyVault/vaults", "tags": {"env": "prod"},
         "properties": {"enableRbacAuthorization": false, "accessPolicies": [
            {"objectId": "app-1", "permissions": {"secrets": ["all"], "keys": [], "certificates": ["Get"]}},
            {"objectId": "idle-1", "permissions": {"secrets": ["get", "list"]}},
            {"objectId": "tight-1", "permissions": {"secrets": ["get"]}}
         ]}},
        {"id": RBAC_VAULT, "name": "kv-rbac", "type": "Microsoft.KeyVault/vaults",
         "properties": {"enableRbacAuthorization": true, "accessPolicies": []}},
        {"id": "/subscriptions/s1/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv-silent", "name": "kv-silent",
         "type": "Microsoft.KeyVault/vaults", "properties": {"enableRbacAuthorization": true}}
    ]);
    let assignments = serde_json::json!([
        {"id": "/a/1", "principalId": "admin-1", "principalType": "User", "roleDefinitionId": ADMIN,
         "roleDefinitionName": "Key Vault Administrator", "scope": "/subscriptions/s1/resourceGroups/rg1"},
        {"id": "/a/2", "principalId": "deployer", "principalType": "ServicePrincipal", "roleDefinitionId": CONTRIBUTOR,
         "roleDefinitionName": "Contributor", "scope": "/subscriptions/s1"},
        {"id": "/a/3", "principalId": "reader-1", "principalType": "ServicePrincipal", "roleDefinitionId": SECRETS_USER,
         "roleDefinitionName": "Key Vault Secrets User", "scope": RBAC_VAULT},
        {"id": "/a/4", "principalId": "group-1", "principalType": "Group", "roleDefinitionId": ADMIN,
         "roleDefinitionName": "Key Vault Administrator", "scope": RBAC_VAULT}
    ]);
    let mut inv = Inventory::default();
    let mut vaults = vaults;
    if !with_silent_vault {
        vaults.as_array_mut().unwrap().pop();
    }
    inv.add(
        parse_document(&vaults.to_string(), "vaults.json").unwrap(),
        "vaults.json",
    );
    inv.add(
        parse_document(&assignments.to_string(), "roles.json").unwrap(),
        "roles.json",
    );
    inv
}

fn ev(principal: &str, vault: &str, operation: &str, time: &str, status: u16) -> TestEvent {
    TestEvent {
        principal_id: Some(principal.into()),
        vault: Some(vault.into()),
        operation: operation.into(),
        time: time.into(),
        http_status: Some(status),
        ..TestEvent::default()
    }
}

fn events() -> polars::prelude::DataFrame {
    frame_of(&[
        ev("app-1", "kv-ap", "SecretGet", "2026-10-01T10:00:00Z", 200),
        ev(
            "app-1",
            "kv-ap",
            "CertificateGet",
            "2026-10-20T10:00:00Z",
            200,
        ),
        ev("tight-1", "kv-ap", "SecretGet", "2026-10-05T10:00:00Z", 200),
        // An attempt counts as use: the permission is wanted.
        ev(
            "tight-1",
            "kv-ap",
            "SecretList",
            "2026-10-06T10:00:00Z",
            403,
        ),
        ev(
            "deployer",
            "kv-ap",
            "VaultPatch",
            "2026-10-07T10:00:00Z",
            200,
        ),
        ev(
            "admin-1",
            "kv-rbac",
            "SecretGet",
            "2026-10-02T10:00:00Z",
            200,
        ),
        ev(
            "admin-1",
            "kv-rbac",
            "SecretList",
            "2026-10-02T10:01:00Z",
            200,
        ),
        ev(
            "reader-1",
            "kv-rbac",
            "SecretGet",
            "2026-11-10T10:00:00Z",
            200,
        ),
        ev(
            "stranger",
            "kv-rbac",
            "SecretGet",
            "2026-11-10T11:00:00Z",
            200,
        ),
    ])
    .unwrap()
}

fn find<'a>(
    a: &'a PrivilegeAnalysis,
    rule: &str,
    principal: &str,
    vault: &str,
) -> Option<&'a Finding> {
    a.findings
        .iter()
        .find(|f| f.rule == rule && f.principal.as_deref() == Some(principal) && f.vault == vault)
}

#[test]
fn access_policy_vault_recommendations() {
    let a = analyze(&events(), &inventory(false), &PrivilegeOptions::default()).unwrap();
    let f = find(&a, UNUSED_RULE, "app-1", "kv-ap").expect("app-1 over-granted");
    assert_eq!(
        f.severity,
        Severity::Medium,
        "unused secrets:purge and friends"
    );
    assert!(f.message.contains("used 2 of 9"), "{}", f.message);
    assert!(
        f.remediation.contains("az keyvault delete-policy --name kv-ap --object-id app-1 && az keyvault set-policy --name kv-ap --object-id app-1 --secret-permissions get --certificate-permissions get"),
        "{}",
        f.remediation
    );
    assert!(
        f.title.ends_with("(provisional)"),
        "19 days observed: {}",
        f.title
    );
    assert_eq!(f.event_count, 2);
    assert_eq!(f.first_seen, "2026-10-01T10:00:00.0000000Z");

    let idle = find(&a, DORMANT_RULE, "idle-1", "kv-ap").expect("idle-1 dormant");
    assert!(
        idle.remediation
            .contains("az keyvault delete-policy --name kv-ap --object-id idle-1")
    );
    assert_eq!(idle.event_count, 0);
    assert_eq!(idle.severity, Severity::Medium, "secrets:get reads values");

    assert!(
        a.findings
            .iter()
            .all(|f| f.principal.as_deref() != Some("tight-1")),
        "the 403 SecretList counts as use of the (ungranted) list; get is used"
    );

    let esc = find(&a, ESCALATION_RULE, "deployer", "kv-ap")
        .expect("contributor on an access-policy vault");
    assert_eq!(esc.category, Category::LeastPrivilege);
    assert!(esc.message.contains("VaultPatch ×1"), "{}", esc.message);
    assert!(
        find(&a, ESCALATION_RULE, "deployer", "kv-rbac").is_none(),
        "RBAC vault: no access policy to write"
    );

    let rows: Vec<_> = a.unused.iter().filter(|r| r.principal == "app-1").collect();
    assert_eq!(
        rows.len(),
        7,
        "secrets all (8) + certificates get, minus get and get"
    );
    assert!(
        rows.iter()
            .all(|r| r.status == "unused" && r.permission_model == "access-policy")
    );
    assert!(rows.iter().any(|r| r.permission == "secrets:purge"));
}

#[test]
fn rbac_vault_recommendations() {
    let a = analyze(&events(), &inventory(false), &PrivilegeOptions::default()).unwrap();
    let f = find(&a, UNUSED_RULE, "admin-1", "kv-rbac").expect("administrator reading secrets");
    assert!(f.title.contains("smaller built-in role"), "{}", f.title);
    assert!(
        f.message.contains("Key Vault Secrets User covers that use"),
        "{}",
        f.message
    );
    assert!(f.remediation.contains("--role 'Key Vault Secrets User' --scope /subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv-rbac && az role assignment delete --ids /a/1"), "{}", f.remediation);
    // The RG-scoped administrator role applies to kv-ap too, where it grants no
    // data access (access policies decide) and no vault write.
    assert!(find(&a, UNUSED_RULE, "admin-1", "kv-ap").is_none());
    assert!(find(&a, ESCALATION_RULE, "admin-1", "kv-ap").is_none());

    // Secrets User, only getSecret used: readMetadata unused, but no smaller
    // built-in role exists: listed, no finding.
    assert!(find(&a, UNUSED_RULE, "reader-1", "kv-rbac").is_none());
    let row = a.unused.iter().find(|r| r.principal == "reader-1").unwrap();
    assert_eq!(
        row.permission,
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
    );
    assert!(
        row.recommendation
            .starts_with("keep Key Vault Secrets User")
    );

    // Groups are not judged; the stranger has no grant in the inventory.
    assert!(
        a.findings
            .iter()
            .all(|f| f.principal.as_deref() != Some("group-1"))
    );
    let obs = a.vaults.iter().find(|v| v.vault == "kv-rbac").unwrap();
    assert_eq!(obs.group_grants, 1);
    assert_eq!(obs.callers_without_grant, 1);
}

#[test]
fn custom_role_when_no_built_in_fits_and_provisional_windows() {
    let events = frame_of(&[
        ev(
            "admin-1",
            "kv-rbac",
            "SecretGet",
            "2026-11-01T10:00:00Z",
            200,
        ),
        ev("admin-1", "kv-rbac", "KeySign", "2026-11-03T10:00:00Z", 200),
    ])
    .unwrap();
    let a = analyze(&events, &inventory(false), &PrivilegeOptions::default()).unwrap();
    let f = find(&a, UNUSED_RULE, "admin-1", "kv-rbac").unwrap();
    assert!(
        f.title
            .starts_with("Role larger than the use: no built-in role fits"),
        "{}",
        f.title
    );
    assert!(
        f.title.ends_with("(provisional)"),
        "2 days < 30: {}",
        f.title
    );
    assert!(
        f.remediation.starts_with("Provisional: only 2 days"),
        "{}",
        f.remediation
    );
    assert!(
        f.remediation
            .contains("\"Microsoft.KeyVault/vaults/keys/sign/action\""),
        "{}",
        f.remediation
    );
    assert!(
        f.remediation
            .contains("\"Microsoft.KeyVault/vaults/secrets/getSecret/action\"")
    );
    assert!(
        !f.remediation.contains("keys/read"),
        "exactly the used data actions"
    );
    assert!(a.unused.iter().all(|r| r.provisional));
    let firm = analyze(
        &events,
        &inventory(false),
        &PrivilegeOptions {
            min_observation_days: 2,
        },
    )
    .unwrap();
    assert!(
        firm.findings
            .iter()
            .all(|f| !f.title.contains("provisional"))
    );
}

#[test]
fn a_vault_without_events_is_never_called_unused() {
    let a = analyze(&events(), &inventory(true), &PrivilegeOptions::default()).unwrap();
    let silent: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.vault == "kv-silent")
        .collect();
    assert_eq!(silent.len(), 1, "{silent:?}");
    assert_eq!(silent[0].rule, NO_DATA_RULE);
    assert_eq!(silent[0].severity, Severity::Info);
    let rows: Vec<_> = a.unused.iter().filter(|r| r.vault == "kv-silent").collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.status == "no-data" && r.recommendation.starts_with("none"))
    );

    // No events at all: every vault is "no data", nothing is "unused".
    let empty = crate::ingest::schema::empty_frame().unwrap();
    let a = analyze(&empty, &inventory(true), &PrivilegeOptions::default()).unwrap();
    assert!(
        a.findings.iter().all(|f| f.rule == NO_DATA_RULE),
        "{:?}",
        a.findings
    );
    assert_eq!(a.findings.len(), 3);
}
