//! The recommended grant, as commands an operator can review and run.
//!
//! Values come from the inventory and the logs, so every one is shell-quoted
//! unless it is plainly safe.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::map::{ApPermission, ObjectKind};

/// A value as one shell word (POSIX): as is when it is made of safe
/// characters, else in single quotes.
pub fn shell_word(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@'));
    if safe {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Access-policy permissions grouped by list, in the map's order.
pub fn by_list(permissions: &BTreeSet<ApPermission>) -> BTreeMap<ObjectKind, Vec<&str>> {
    let mut lists: BTreeMap<ObjectKind, Vec<&str>> = BTreeMap::new();
    for p in permissions {
        lists.entry(p.object).or_default().push(p.name.as_str());
    }
    lists
}

/// `secrets: get, list; keys: get` for messages.
pub fn describe_permissions(permissions: &BTreeSet<ApPermission>) -> String {
    by_list(permissions)
        .iter()
        .map(|(kind, names)| format!("{}: {}", kind.as_str(), names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn identity_options(object_id: &str, application_id: Option<&str>) -> String {
    let mut options = format!("--object-id {}", shell_word(object_id));
    if let Some(app) = application_id {
        options.push_str(&format!(" --application-id {}", shell_word(app)));
    }
    options
}

/// Removes a principal's access policy from a vault.
pub fn delete_policy(vault: &str, object_id: &str, application_id: Option<&str>) -> String {
    format!(
        "az keyvault delete-policy --name {} {}",
        shell_word(vault),
        identity_options(object_id, application_id)
    )
}

/// Replaces a principal's access policy with exactly `minimal`.
///
/// `set-policy` keeps the lists it is not given, so the entry is deleted
/// first and written again with only the lists that are needed.
pub fn replace_policy(
    vault: &str,
    object_id: &str,
    application_id: Option<&str>,
    minimal: &BTreeSet<ApPermission>,
) -> String {
    let mut set = format!(
        "az keyvault set-policy --name {} {}",
        shell_word(vault),
        identity_options(object_id, application_id)
    );
    for (kind, names) in by_list(minimal) {
        set.push_str(&format!(" {} {}", kind.az_option(), names.join(" ")));
    }
    format!(
        "{} && {set}",
        delete_policy(vault, object_id, application_id)
    )
}

/// Assigns `role` at the vault and removes the given assignments.
pub fn replace_roles(
    vault_id: &str,
    object_id: &str,
    role: Option<&str>,
    remove: &[&str],
) -> Vec<String> {
    let mut commands = Vec::new();
    if let Some(role) = role {
        commands.push(format!(
            "az role assignment create --assignee-object-id {} --role {} --scope {}",
            shell_word(object_id),
            shell_word(role),
            shell_word(vault_id)
        ));
    }
    for id in remove {
        commands.push(format!(
            "az role assignment delete --ids {}",
            shell_word(id)
        ));
    }
    commands
}

/// A custom role definition granting exactly `data_actions` on one vault,
/// in the form `az role definition create --role-definition @FILE` reads.
pub fn custom_role(
    vault: &str,
    vault_id: &str,
    principal: &str,
    data_actions: &BTreeSet<String>,
) -> String {
    let role = json!({
        "Name": format!("{vault} {principal} (least privilege)"),
        "IsCustom": true,
        "Description": format!("The Key Vault data actions {principal} used in {vault}, as observed by kvaudit."),
        "Actions": [],
        "NotActions": [],
        "DataActions": data_actions,
        "NotDataActions": [],
        "AssignableScopes": [vault_id],
    });
    serde_json::to_string_pretty(&role).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(object: ObjectKind, name: &str) -> ApPermission {
        ApPermission {
            object,
            name: name.into(),
        }
    }

    #[test]
    fn commands_are_quoted_and_complete() {
        assert_eq!(shell_word("kv-web-prod"), "kv-web-prod");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("x';rm -rf /;'"), r"'x'\'';rm -rf /;'\'''");
        let minimal: BTreeSet<ApPermission> = [
            perm(ObjectKind::Secrets, "get"),
            perm(ObjectKind::Certificates, "get"),
            perm(ObjectKind::Secrets, "list"),
        ]
        .into();
        assert_eq!(
            describe_permissions(&minimal),
            "secrets: get, list; certificates: get"
        );
        assert_eq!(
            replace_policy("kv", "oid", None, &minimal),
            "az keyvault delete-policy --name kv --object-id oid && az keyvault set-policy --name kv --object-id oid --secret-permissions get list --certificate-permissions get"
        );
        assert_eq!(
            delete_policy("kv", "oid", Some("app")),
            "az keyvault delete-policy --name kv --object-id oid --application-id app"
        );
        let commands = replace_roles(
            "/subscriptions/s/v",
            "oid",
            Some("Key Vault Secrets User"),
            &["/x/1"],
        );
        assert_eq!(
            commands,
            [
                "az role assignment create --assignee-object-id oid --role 'Key Vault Secrets User' --scope /subscriptions/s/v",
                "az role assignment delete --ids /x/1"
            ]
        );
        let role: serde_json::Value = serde_json::from_str(&custom_role(
            "kv",
            "/subscriptions/s/v",
            "app",
            &["Microsoft.KeyVault/vaults/keys/sign/action".to_owned()].into(),
        ))
        .unwrap();
        assert_eq!(
            role["DataActions"][0],
            "Microsoft.KeyVault/vaults/keys/sign/action"
        );
        assert_eq!(role["AssignableScopes"][0], "/subscriptions/s/v");
        assert_eq!(role["IsCustom"], true);
    }
}
