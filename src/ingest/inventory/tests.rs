use super::*;

/// `az keyvault show` output, shaped as the ARM getVault example [S14] and
/// the CLI prints it (flattened `resourceGroup`, mixed-case permission names).
const SHOW: &str = r#"{
  "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-group/providers/Microsoft.KeyVault/vaults/Sample-Vault",
  "location": "westus",
  "name": "Sample-Vault",
  "properties": {
    "accessPolicies": [
      {
        "applicationId": null,
        "objectId": "00000000-0000-0000-0000-00000000ABCD",
        "permissions": {
          "certificates": ["get", "list"],
          "keys": ["Get", "WrapKey", "unwrapKey"],
          "secrets": ["all"],
          "storage": []
        },
        "tenantId": "00000000-0000-0000-0000-000000000000"
      }
    ],
    "enableRbacAuthorization": false,
    "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []},
    "tenantId": "00000000-0000-0000-0000-000000000000"
  },
  "resourceGroup": "sample-group",
  "tags": {"env": "prod"},
  "type": "Microsoft.KeyVault/vaults"
}"#;

/// `az role assignment list` output, as in the public lab write-up [S15].
const ASSIGNMENTS: &str = r#"[{"condition":null,"conditionVersion":null,"createdBy":"b470c1dc-0000-0000-0000-000000000000","createdOn":"2024-10-14T20:26:53.771014+00:00",
  "delegatedManagedIdentityResourceId":null,"description":null,
  "id":"/subscriptions/ddd3338d-0000-0000-0000-000000000000/resourceGroups/rg-aoc-akv/providers/Microsoft.KeyVault/vaults/warevillesecrets/providers/Microsoft.Authorization/roleAssignments/d2edb9d3-0000-0000-0000-000000000000",
  "name":"d2edb9d3-0000-0000-0000-000000000000","principalId":"7D96660A-0000-0000-0000-000000000000","principalName":"Secret Recovery Group","principalType":"Group",
  "resourceGroup":"rg-aoc-akv","roleDefinitionId":"/subscriptions/ddd3338d-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
  "roleDefinitionName":"Key Vault Secrets User","scope":"/subscriptions/ddd3338d-0000-0000-0000-000000000000/providers/Microsoft.KeyVault/vaults/warevillesecrets",
  "type":"Microsoft.Authorization/roleAssignments","updatedBy":"b470c1dc-0000-0000-0000-000000000000","updatedOn":"2024-10-14T20:26:53.771014+00:00"}]"#;

#[test]
fn reads_a_vault_with_its_access_policies() {
    let doc = parse_document(SHOW, "show.json").unwrap();
    assert_eq!(doc.kind, "keyvault");
    let v = &doc.vaults[0];
    assert_eq!(v.name, "sample-vault");
    assert_eq!(v.resource_group, "sample-group");
    assert_eq!(v.subscription, "00000000-0000-0000-0000-000000000000");
    assert_eq!(v.rbac, Some(false));
    assert_eq!(v.tags.get("env").map(String::as_str), Some("prod"));
    assert_eq!(v.network_default_action.as_deref(), Some("Deny"));
    let p = &v.access_policies[0];
    assert_eq!(p.object_id, "00000000-0000-0000-0000-00000000abcd");
    assert_eq!(p.application_id, None);
    assert_eq!(p.permissions["keys"], ["Get", "WrapKey", "unwrapKey"]);
    assert_eq!(p.permissions["secrets"], ["all"]);
}

#[test]
fn reads_role_assignments_and_places_their_scope() {
    let doc = parse_document(ASSIGNMENTS, "roles.json").unwrap();
    assert_eq!(doc.kind, "role-assignments");
    let a = &doc.assignments[0];
    assert_eq!(a.principal_id, "7d96660a-0000-0000-0000-000000000000");
    assert_eq!(a.principal_type, "Group");
    assert_eq!(a.role_definition_name, "Key Vault Secrets User");
    let vault = "/subscriptions/ddd3338d-0000-0000-0000-000000000000/resourceGroups/rg-aoc-akv/providers/Microsoft.KeyVault/vaults/warevillesecrets";
    let mut a = a.clone();
    a.scope =
        "/subscriptions/DDD3338D-0000-0000-0000-000000000000/resourceGroups/rg-aoc-akv".into();
    assert!(
        a.applies_to(vault),
        "resource group scope applies to its vaults"
    );
    a.scope = "/subscriptions/ddd3338d-0000-0000-0000-000000000000".into();
    assert!(a.applies_to(vault));
    a.scope = "/subscriptions/ddd3338d-0000-0000-0000-000000000000/resourceGroups/rg-aoc".into();
    assert!(
        !a.applies_to(vault),
        "a prefix of a name is not a parent scope"
    );
    a.scope = format!("{vault}/secrets/one");
    assert!(!a.applies_to(vault), "an object scope is not the vault");

    // Raw ARM nests the fields under `properties`.
    let raw = r#"{"value": [{"id": "/x/roleAssignments/1", "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"principalId": "P", "principalType": "User", "roleDefinitionId": "/r/00482a5a-887f-4fb3-b363-3b7fe8e74483", "scope": "/subscriptions/s"}}]}"#;
    let doc = parse_document(raw, "raw.json").unwrap();
    assert_eq!(doc.assignments[0].principal_id, "p");
    assert_eq!(doc.assignments[0].scope, "/subscriptions/s");
}

#[test]
fn reads_directory_listings_and_merges_files() {
    let sps = r#"[{"appId": "a1", "displayName": "id-web", "id": "AA", "servicePrincipalType": "ManagedIdentity"},
                  {"appId": "a2", "displayName": "deploy", "id": "bb", "servicePrincipalType": "Application"}]"#;
    let users =
        r#"[{"displayName": "Alice", "id": "cc", "userPrincipalName": "alice@contoso.com"}]"#;
    let mut inv = Inventory::default();
    inv.add(parse_document(sps, "sp.json").unwrap(), "sp.json");
    inv.add(parse_document(users, "users.json").unwrap(), "users.json");
    inv.add(parse_document(ASSIGNMENTS, "a.json").unwrap(), "a.json");
    inv.add(parse_document(ASSIGNMENTS, "b.json").unwrap(), "b.json");
    assert_eq!(
        inv.assignments.len(),
        1,
        "the same assignment twice is kept once"
    );
    assert_eq!(inv.principals["aa"].kind, "managed-identity");
    assert_eq!(inv.principals["bb"].kind, "service-principal");
    assert_eq!(inv.principals["cc"].display_name, "alice@contoso.com");
    assert_eq!(
        inv.principals["7d96660a-0000-0000-0000-000000000000"].kind,
        "group"
    );
    assert_eq!(inv.files.len(), 4);
}

#[test]
fn a_listing_without_properties_keeps_tags_and_warns() {
    let list = r#"[{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1", "name": "kv1",
        "type": "Microsoft.KeyVault/vaults", "location": "westus", "tags": {"env": "dev"}}]"#;
    let mut inv = Inventory::default();
    inv.add(parse_document(list, "list.json").unwrap(), "list.json");
    assert_eq!(inv.vaults["kv1"].rbac, None);
    assert!(
        inv.warnings[0].contains("az keyvault show --name kv1"),
        "{:?}",
        inv.warnings
    );
    // A later full description replaces it, keeping the tags.
    let show = SHOW
        .replace("Sample-Vault", "kv1")
        .replace(r#""env": "prod""#, r#""owner": "web""#);
    inv.add(parse_document(&show, "show.json").unwrap(), "show.json");
    let v = &inv.vaults["kv1"];
    assert_eq!(v.rbac, Some(false));
    assert_eq!(v.tags.len(), 2);
}

#[test]
fn bad_and_foreign_files_name_the_file_and_what_to_do() {
    let broken = "[\n  {\"name\": \"kv\",\n  \"type\": }\n]";
    let e = parse_document(broken, "inv/broken.json")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("inv/broken.json:3:"), "{e}");
    assert!(e.contains("--output json"), "{e}");

    let log = r#"{"records": [{"operationName": "SecretGet"}]}"#;
    let e = parse_document(log, "PT1H.json").unwrap_err().to_string();
    assert!(e.contains("PT1H.json") && e.contains("audit log"), "{e}");

    let other = r#"[{"id": "x", "type": "Microsoft.KeyVault/vaults", "name": "kv"}, {"foo": 1}]"#;
    let e = parse_document(other, "mixed.json").unwrap_err().to_string();
    assert!(e.contains("mixed.json (item 2 of the array)"), "{e}");
    assert!(e.contains("az role assignment list"), "{e}");

    let doc = parse_document("[]", "empty.json").unwrap();
    assert_eq!(doc.kind, "empty");
}
