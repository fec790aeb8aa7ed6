//! Shape detection and parsing of one inventory file.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{AccessPolicy, Document, PrincipalInfo, RoleAssignment, VaultInventory};

/// What each file should contain, for error messages.
const EXPECTED: &str = "expected the JSON output of `az keyvault show`, `az keyvault list --resource-group RG`, `az role assignment list --all --include-inherited`, `az ad sp list` or `az ad user list`";

/// What one JSON item is.
enum Item<'a> {
    Vault(&'a Map<String, Value>),
    ManagedHsm,
    Assignment(&'a Map<String, Value>),
    ServicePrincipal(&'a Map<String, Value>),
    User(&'a Map<String, Value>),
}

fn str_of<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A field at the top level (CLI output) or under `properties` (raw ARM).
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    str_of(object, key).or_else(|| {
        object
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| str_of(p, key))
    })
}

fn classify(value: &Value) -> Option<Item<'_>> {
    let object = value.as_object()?;
    let kind = str_of(object, "type").unwrap_or("");
    if kind.eq_ignore_ascii_case("Microsoft.KeyVault/vaults") {
        return Some(Item::Vault(object));
    }
    if kind.eq_ignore_ascii_case("Microsoft.KeyVault/managedHSMs") {
        return Some(Item::ManagedHsm);
    }
    if kind.eq_ignore_ascii_case("Microsoft.Authorization/roleAssignments")
        || (field(object, "principalId").is_some() && field(object, "roleDefinitionId").is_some())
    {
        return Some(Item::Assignment(object));
    }
    let has_id = str_of(object, "id")
        .or_else(|| str_of(object, "objectId"))
        .is_some();
    if has_id && (object.contains_key("servicePrincipalType") || object.contains_key("appId")) {
        return Some(Item::ServicePrincipal(object));
    }
    if has_id && object.contains_key("userPrincipalName") {
        return Some(Item::User(object));
    }
    None
}

/// A short description of an item kvaudit does not read, for the error.
fn describe(value: &Value) -> String {
    match value {
        Value::Object(o) if o.contains_key("operationName") || o.contains_key("records") => {
            "an audit log record; pass logs as PATH arguments, not with --inventory".to_owned()
        }
        Value::Object(o) => {
            let mut keys: Vec<&str> = o.keys().map(String::as_str).take(6).collect();
            keys.sort_unstable();
            format!("an object with keys {}", keys.join(", "))
        }
        Value::Array(_) => "a nested array".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Null => "null".to_owned(),
    }
}

/// `user`, `service-principal`, `group`: kvaudit's name for an ARM principal type.
pub fn kind_of_principal_type(principal_type: &str) -> &'static str {
    match principal_type.to_ascii_lowercase().as_str() {
        "user" => "user",
        "group" | "foreigngroup" => "group",
        "serviceprincipal" => "service-principal",
        _ => "unknown",
    }
}

/// The `resourceGroups/<rg>` and `subscriptions/<id>` parts of an ARM id.
fn id_part(id: &str, after: &str) -> String {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(after) {
            return parts.next().unwrap_or("").to_lowercase();
        }
    }
    String::new()
}

fn vault(object: &Map<String, Value>, file: &str, warnings: &mut Vec<String>) -> VaultInventory {
    let name = str_of(object, "name").unwrap_or("").to_lowercase();
    let id = str_of(object, "id").unwrap_or("").to_owned();
    let tags = object
        .get("tags")
        .and_then(Value::as_object)
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let properties = object.get("properties").and_then(Value::as_object);
    if properties.is_none() {
        warnings.push(format!(
            "{file}: vault `{name}` has no properties (as `az keyvault list` without --resource-group prints it): its tags are used, its grants are unknown; run `az keyvault show --name {name}` for its access policies and permission model"
        ));
    }
    let rbac = properties.map(|p| {
        p.get("enableRbacAuthorization")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    });
    let access_policies = properties
        .and_then(|p| p.get("accessPolicies"))
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(Value::as_object)
                .map(|e| AccessPolicy {
                    object_id: str_of(e, "objectId").unwrap_or("").to_lowercase(),
                    application_id: str_of(e, "applicationId").map(str::to_lowercase),
                    permissions: e
                        .get("permissions")
                        .and_then(Value::as_object)
                        .map(|p| {
                            p.iter()
                                .map(|(list, values)| {
                                    let values = values
                                        .as_array()
                                        .map(|a| {
                                            a.iter()
                                                .filter_map(Value::as_str)
                                                .map(str::to_owned)
                                                .collect()
                                        })
                                        .unwrap_or_default();
                                    (list.to_lowercase(), values)
                                })
                                .collect::<BTreeMap<_, Vec<String>>>()
                        })
                        .unwrap_or_default(),
                })
                .filter(|p| !p.object_id.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let network_default_action = properties
        .and_then(|p| p.get("networkAcls"))
        .and_then(Value::as_object)
        .and_then(|n| str_of(n, "defaultAction"))
        .map(str::to_owned);
    VaultInventory {
        resource_group: str_of(object, "resourceGroup")
            .map(str::to_lowercase)
            .unwrap_or_else(|| id_part(&id, "resourceGroups")),
        subscription: id_part(&id, "subscriptions"),
        name,
        id,
        tags,
        rbac,
        access_policies,
        network_default_action,
        source: file.to_owned(),
    }
}

fn assignment(object: &Map<String, Value>, file: &str) -> RoleAssignment {
    let get = |key: &str| field(object, key).unwrap_or("").to_owned();
    RoleAssignment {
        id: get("id"),
        principal_id: get("principalId").to_lowercase(),
        principal_type: get("principalType"),
        principal_name: field(object, "principalName").map(str::to_owned),
        role_definition_id: get("roleDefinitionId"),
        role_definition_name: get("roleDefinitionName"),
        scope: get("scope"),
        source: file.to_owned(),
    }
}

fn principal(object: &Map<String, Value>, kind: &str) -> Option<(String, PrincipalInfo)> {
    let id = str_of(object, "id").or_else(|| str_of(object, "objectId"))?;
    let kind = match kind {
        "sp" => match str_of(object, "servicePrincipalType") {
            Some(t) if t.eq_ignore_ascii_case("ManagedIdentity") => "managed-identity",
            _ => "service-principal",
        },
        _ => "user",
    };
    let display_name = str_of(object, "userPrincipalName")
        .or_else(|| str_of(object, "displayName"))
        .unwrap_or("")
        .to_owned();
    Some((
        id.to_lowercase(),
        PrincipalInfo {
            display_name,
            kind: kind.to_owned(),
        },
    ))
}

/// Parses one inventory file's text; `file` names it in errors.
pub fn parse_document(text: &str, file: &str) -> anyhow::Result<Document> {
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        anyhow::anyhow!(
            "{file}:{}:{}: inventory file is not valid JSON ({e}); save the `az` command's output unchanged with `--output json`",
            e.line(),
            e.column()
        )
    })?;
    let items: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(o)
            if o.get("value").is_some_and(Value::is_array) && classify(&value).is_none() =>
        {
            o["value"].as_array().into_iter().flatten().collect()
        }
        other => vec![other],
    };
    let mut doc = Document {
        items: items.len(),
        kind: "empty",
        ..Document::default()
    };
    for (i, item) in items.iter().enumerate() {
        let at = if matches!(value, Value::Array(_)) {
            format!(" (item {} of the array)", i + 1)
        } else {
            String::new()
        };
        match classify(item) {
            Some(Item::Vault(o)) => {
                doc.kind = "keyvault";
                doc.vaults.push(vault(o, file, &mut doc.warnings));
            }
            Some(Item::ManagedHsm) => {
                doc.kind = "keyvault";
                doc.warnings.push(format!(
                    "{file}{at}: a Managed HSM; kvaudit analyses the grants of vaults only"
                ));
            }
            Some(Item::Assignment(o)) => {
                doc.kind = "role-assignments";
                doc.assignments.push(assignment(o, file));
            }
            Some(Item::ServicePrincipal(o)) => {
                doc.kind = "service-principals";
                doc.principals.extend(principal(o, "sp"));
            }
            Some(Item::User(o)) => {
                doc.kind = "users";
                doc.principals.extend(principal(o, "user"));
            }
            None => anyhow::bail!(
                "{file}{at}: not an inventory item: found {}; {EXPECTED}",
                describe(item)
            ),
        }
    }
    Ok(doc)
}
