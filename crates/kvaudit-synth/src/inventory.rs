//! The sample estate's inventory, as the Azure CLI prints it: `az keyvault
//! show` for each vault, `az role assignment list --all --include-inherited`,
//! `az ad sp list` and `az ad user list` (JSON, 2-space indent, keys sorted,
//! as the CLI writes them).
//!
//! The grants match the logs (every successful call has a grant behind it,
//! and the refused ones have none) and over-grant on purpose: the identities
//! and the recommendation kvaudit should make for each are listed in
//! `sample-logs/README.md` (Inventory). Fixed data: independent of seed,
//! scale and days.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::model::splitmix64;
use super::population::{
    ACTORS, ALICE, BOB, BREAKGLASS, DANA, DEV, DEV_APPS, GITHUB_DEPLOY, INVENTORY_SYNC, Kind,
    LOCATION, PAYMENTS, PAYMENTS_API, RELEASE_SIGNING, REPORTING_VM, RG_PROD, SETTLEMENT_WORKER,
    SUBSCRIPTION_ID, TENANT_ID, VAULTS, WEB, WEB_ADMIN_SITE, WEB_CATALOG, WEB_FRONTEND,
};

/// Identities that hold grants and never appear in the logs.
pub(crate) struct Extra {
    pub name: &'static str,
    pub oid: &'static str,
    pub appid: &'static str,
    /// `ManagedIdentity`, or `Group` for a security group.
    pub kind: &'static str,
}

pub(crate) const LEGACY_BATCH: Extra = Extra {
    name: "id-legacy-batch",
    oid: "3c1f7a52-9d4e-4b8a-a6f2-0e5d8c7b9a14",
    appid: "b7e2d9c4-1a6f-4e3b-9c8d-5f0a2e7b4c61",
    kind: "ManagedIdentity",
};
pub(crate) const OLD_CMS: Extra = Extra {
    name: "id-old-cms",
    oid: "e8a4c2f1-7b3d-4a9e-8c5f-1d6b0e9a3f27",
    appid: "c2f9e7a1-4b8d-4e6c-a3f1-9d7b5e0c8a42",
    kind: "ManagedIdentity",
};
pub(crate) const READERS_GROUP: Extra = Extra {
    name: "kv-payments-readers",
    oid: "a9d3f6b2-8e1c-4f7a-b5d4-2c0e8f6a1b93",
    appid: "",
    kind: "Group",
};

/// Built-in role definition ids (Microsoft Docs, see `data/permissions/`).
const KV_ADMINISTRATOR: (&str, &str) = (
    "Key Vault Administrator",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483",
);
const KV_SECRETS_OFFICER: (&str, &str) = (
    "Key Vault Secrets Officer",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
);
const KV_SECRETS_USER: (&str, &str) = (
    "Key Vault Secrets User",
    "4633458b-17de-408a-b874-0445c86b69e6",
);
const KV_CRYPTO_USER: (&str, &str) = (
    "Key Vault Crypto User",
    "12338af0-0e69-4776-bea7-57ae8d297424",
);
const KV_CONTRIBUTOR: (&str, &str) = (
    "Key Vault Contributor",
    "f25e0fa2-a7c8-4377-a976-54943a77a395",
);
const CONTRIBUTOR: (&str, &str) = ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c");
const READER: (&str, &str) = ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7");

/// Where an assignment is made.
enum Scope {
    Subscription,
    ResourceGroup(&'static str),
    Vault(usize),
}

/// A deterministic GUID for the n-th made-up id.
fn guid(n: u64) -> String {
    let a = splitmix64(0x1a7e_4710_0000 + n);
    let b = splitmix64(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

fn vault_id(vault: usize) -> String {
    let v = &VAULTS[vault];
    format!(
        "/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
        v.resource_group, v.name
    )
}

const CREATED: &str = "2026-06-02T09:14:27.412093+00:00";
const ADMIN_OID: &str = "57ee05cd-e009-42c7-bebf-f20686734721";

/// An access-policy entry: object id and its key, secret, certificate lists.
fn policy(oid: &str, keys: &[&str], secrets: &[&str], certificates: &[&str]) -> Value {
    json!({
        "applicationId": null,
        "objectId": oid,
        "permissions": {"certificates": certificates, "keys": keys, "secrets": secrets, "storage": null},
        "tenantId": TENANT_ID,
    })
}

fn access_policies(vault: usize) -> Vec<Value> {
    let oid = |actor: usize| ACTORS[actor].oid;
    match vault {
        WEB => vec![
            policy(oid(WEB_CATALOG), &[], &["get", "list"], &[]),
            policy(oid(WEB_FRONTEND), &[], &["get", "list"], &["get", "list"]),
            policy(oid(WEB_ADMIN_SITE), &[], &["all"], &[]),
            policy(oid(INVENTORY_SYNC), &[], &["list"], &[]),
            policy(oid(GITHUB_DEPLOY), &[], &["get", "list", "set"], &[]),
            policy(oid(RELEASE_SIGNING), &["get", "sign"], &[], &["get"]),
            policy(OLD_CMS.oid, &[], &["get", "list"], &[]),
            // Alice's admin convenience: everything, though she only manages the vault.
            policy(oid(ALICE), &["all"], &["all"], &["all"]),
            // What Bob wrote himself in incident 5 (VaultPatch, addedAccessPolicy).
            policy(
                oid(BOB),
                &["get", "list", "delete", "backup", "purge"],
                &["get", "list", "delete", "backup", "purge"],
                &[],
            ),
        ],
        DEV => vec![
            policy(
                oid(DEV_APPS),
                &["get", "wrapKey", "unwrapKey"],
                &["get", "list"],
                &[],
            ),
            policy(oid(DANA), &[], &["get", "list", "set"], &[]),
            policy(oid(BOB), &[], &["get", "list"], &[]),
            policy(oid(REPORTING_VM), &[], &["get"], &[]),
            policy(
                oid(GITHUB_DEPLOY),
                &[],
                &["get", "list", "set", "delete"],
                &[],
            ),
        ],
        _ => Vec::new(),
    }
}

/// `az keyvault show --name <vault>`.
fn keyvault_show(vault: usize) -> Value {
    let v = &VAULTS[vault];
    let purge_protection = if v.purge_protection {
        json!(true)
    } else {
        Value::Null
    };
    let tags: serde_json::Map<String, Value> = v
        .tags
        .iter()
        .map(|(k, val)| ((*k).to_owned(), json!(val)))
        .collect();
    json!({
        "id": vault_id(vault),
        "location": LOCATION,
        "name": v.name,
        "properties": {
            "accessPolicies": access_policies(vault),
            "createMode": null,
            "enablePurgeProtection": purge_protection,
            "enableRbacAuthorization": v.rbac,
            "enableSoftDelete": true,
            "enabledForDeployment": false,
            "enabledForDiskEncryption": false,
            "enabledForTemplateDeployment": false,
            "hsmPoolResourceId": null,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": v.default_action, "ipRules": [], "virtualNetworkRules": []},
            "privateEndpointConnections": null,
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
            "sku": {"family": "A", "name": "standard"},
            "softDeleteRetentionInDays": v.soft_delete_days,
            "tenantId": TENANT_ID,
            "vaultUri": format!("https://{}.vault.azure.net/", v.name),
        },
        "resourceGroup": v.resource_group,
        "systemData": {
            "createdAt": "2026-03-09T10:21:44.127Z",
            "createdBy": "alice.nguyen@contosopay.com",
            "createdByType": "User",
            "lastModifiedAt": "2026-11-21T23:44:02.318Z",
            "lastModifiedBy": "alice.nguyen@contosopay.com",
            "lastModifiedByType": "User",
        },
        "tags": tags,
        "type": "Microsoft.KeyVault/vaults",
    })
}

/// `az role assignment list --all --include-inherited`.
fn role_assignments() -> Value {
    let oid = |actor: usize| ACTORS[actor].oid;
    let grants: Vec<(&str, &str, (&str, &str), Scope)> = vec![
        (
            oid(PAYMENTS_API),
            "ServicePrincipal",
            KV_CRYPTO_USER,
            Scope::Vault(PAYMENTS),
        ),
        (
            oid(PAYMENTS_API),
            "ServicePrincipal",
            KV_SECRETS_USER,
            Scope::Vault(PAYMENTS),
        ),
        (
            oid(SETTLEMENT_WORKER),
            "ServicePrincipal",
            KV_ADMINISTRATOR,
            Scope::Vault(PAYMENTS),
        ),
        (
            oid(ALICE),
            "User",
            KV_ADMINISTRATOR,
            Scope::ResourceGroup(RG_PROD),
        ),
        (oid(ALICE), "User", READER, Scope::Subscription),
        (oid(BOB), "User", KV_CONTRIBUTOR, Scope::Subscription),
        (
            oid(DANA),
            "User",
            KV_SECRETS_OFFICER,
            Scope::Vault(PAYMENTS),
        ),
        (
            oid(BREAKGLASS),
            "User",
            KV_ADMINISTRATOR,
            Scope::Vault(PAYMENTS),
        ),
        (
            oid(GITHUB_DEPLOY),
            "ServicePrincipal",
            KV_SECRETS_USER,
            Scope::Vault(PAYMENTS),
        ),
        (
            oid(GITHUB_DEPLOY),
            "ServicePrincipal",
            CONTRIBUTOR,
            Scope::ResourceGroup(RG_PROD),
        ),
        (
            LEGACY_BATCH.oid,
            "ServicePrincipal",
            KV_SECRETS_OFFICER,
            Scope::Vault(PAYMENTS),
        ),
        (
            READERS_GROUP.oid,
            "Group",
            KV_SECRETS_USER,
            Scope::Vault(PAYMENTS),
        ),
    ];
    let assignments: Vec<Value> = grants
        .into_iter()
        .enumerate()
        .map(|(i, (principal, principal_type, (role, role_id), scope))| {
            let (scope, resource_group) = match scope {
                Scope::Subscription => (format!("/subscriptions/{SUBSCRIPTION_ID}"), Value::Null),
                Scope::ResourceGroup(rg) => (format!("/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}"), json!(rg)),
                Scope::Vault(v) => (vault_id(v), json!(VAULTS[v].resource_group)),
            };
            let name = guid(i as u64);
            json!({
                "condition": null,
                "conditionVersion": null,
                "createdBy": ADMIN_OID,
                "createdOn": CREATED,
                "delegatedManagedIdentityResourceId": null,
                "description": null,
                "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
                "name": name,
                "principalId": principal,
                "principalName": principal_name(principal),
                "principalType": principal_type,
                "resourceGroup": resource_group,
                "roleDefinitionId": format!("/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"),
                "roleDefinitionName": role,
                "scope": scope,
                "type": "Microsoft.Authorization/roleAssignments",
                "updatedBy": ADMIN_OID,
                "updatedOn": CREATED,
            })
        })
        .collect();
    Value::Array(assignments)
}

/// What `az role assignment list` prints as `principalName`: the UPN of a
/// user, the app id of a service principal, the name of a group.
fn principal_name(oid: &str) -> String {
    if let Some(a) = ACTORS.iter().find(|a| a.oid == oid) {
        return match a.kind {
            Kind::User { upn } => upn.to_owned(),
            _ => a.appid.to_owned(),
        };
    }
    [LEGACY_BATCH, OLD_CMS, READERS_GROUP]
        .iter()
        .find(|e| e.oid == oid)
        .map(|e| {
            if e.kind == "Group" {
                e.name.to_owned()
            } else {
                e.appid.to_owned()
            }
        })
        .unwrap_or_default()
}

/// `az ad sp list --filter ...` for the applications and managed identities.
fn service_principals() -> Value {
    let mut out = Vec::new();
    for a in ACTORS.iter() {
        let kind = match a.kind {
            Kind::UserAssignedMi { .. } | Kind::SystemAssignedMi { .. } => "ManagedIdentity",
            Kind::ServicePrincipal { .. } => "Application",
            _ => continue,
        };
        // The unknown caller of incident 7 is not in the tenant's directory.
        if a.key == "unknown-sp" {
            continue;
        }
        out.push(
            json!({"accountEnabled": true, "appDisplayName": a.key, "appId": a.appid,
            "displayName": a.key, "id": a.oid, "servicePrincipalType": kind}),
        );
    }
    for e in [LEGACY_BATCH, OLD_CMS] {
        out.push(
            json!({"accountEnabled": true, "appDisplayName": e.name, "appId": e.appid,
            "displayName": e.name, "id": e.oid, "servicePrincipalType": e.kind}),
        );
    }
    Value::Array(out)
}

/// `az ad user list --filter ...` for the people.
fn users() -> Value {
    Value::Array(
        ACTORS
            .iter()
            .filter_map(|a| match a.kind {
                Kind::User { upn } => Some(json!({
                    "displayName": upn.split('@').next().unwrap_or(upn).replace('.', " "),
                    "id": a.oid,
                    "mail": upn,
                    "userPrincipalName": upn,
                })),
                _ => None,
            })
            .collect(),
    )
}

fn write_json(dir: &Path, name: &str, value: &Value) -> anyhow::Result<()> {
    let path = dir.join(name);
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes the inventory files into `dir`; returns how many.
pub fn write_inventory(dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files = 0;
    for (i, v) in VAULTS.iter().enumerate() {
        write_json(
            dir,
            &format!("keyvault-show-{}.json", v.name),
            &keyvault_show(i),
        )?;
        files += 1;
    }
    write_json(dir, "role-assignments.json", &role_assignments())?;
    write_json(dir, "ad-sp-list.json", &service_principals())?;
    write_json(dir, "ad-user-list.json", &users())?;
    Ok(files + 3)
}
