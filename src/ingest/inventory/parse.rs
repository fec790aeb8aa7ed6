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

/// What a JSON value is, for errors.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Where in the inventory a field is, for errors: the file, the item, the
/// field's path. A field kvaudit reads with a type it cannot read is an
/// error, never a silent drop: a grant read as "no grant" would hide
/// findings.
struct Place<'p> {
    item: &'p str,
    path: &'p str,
}

impl Place<'_> {
    fn under<'q>(&'q self, path: &'q str) -> Place<'q> {
        Place {
            item: self.item,
            path,
        }
    }

    fn wrong(&self, key: &str, value: &Value, expected: &str) -> anyhow::Error {
        let dot = if self.path.is_empty() { "" } else { "." };
        anyhow::anyhow!(
            "{}: `{}{dot}{key}` is {}, expected {expected}; kvaudit cannot read this grant, so it stops rather than miss it: save the `az` command's output unchanged with `--output json`",
            self.item,
            self.path,
            kind(value)
        )
    }

    /// A string field: absent, null or "" is `None`; another type is an error.
    fn text<'a>(
        &self,
        object: &'a Map<String, Value>,
        key: &str,
    ) -> anyhow::Result<Option<&'a str>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
            Some(other) => Err(self.wrong(key, other, "a string")),
        }
    }

    fn object<'a>(
        &self,
        object: &'a Map<String, Value>,
        key: &str,
    ) -> anyhow::Result<Option<&'a Map<String, Value>>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(self.wrong(key, other, "an object")),
        }
    }

    fn list<'a>(&self, object: &'a Map<String, Value>, key: &str) -> anyhow::Result<&'a [Value]> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.wrong(key, other, "a list")),
        }
    }

    fn boolean(&self, object: &Map<String, Value>, key: &str) -> anyhow::Result<Option<bool>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.wrong(key, other, "true or false")),
        }
    }

    /// A string at the top level (CLI output) or under `properties` (raw ARM).
    fn text_or_property<'a>(
        &self,
        object: &'a Map<String, Value>,
        key: &str,
    ) -> anyhow::Result<Option<&'a str>> {
        if let Some(value) = self.text(object, key)? {
            return Ok(Some(value));
        }
        match self.object(object, "properties") {
            Ok(Some(properties)) => self.under("properties").text(properties, key),
            _ => Ok(None),
        }
    }
}

fn vault(
    object: &Map<String, Value>,
    file: &str,
    at: &Place<'_>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<VaultInventory> {
    let name = at.text(object, "name")?.unwrap_or("").to_lowercase();
    let id = at.text(object, "id")?.unwrap_or("").to_owned();
    let item = format!("{} (vault `{name}`)", at.item);
    let at = Place {
        item: &item,
        path: "",
    };
    let tags = at
        .object(object, "tags")?
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let properties = at.object(object, "properties")?;
    if properties.is_none() {
        warnings.push(format!(
            "{file}: vault `{name}` has no properties (as `az keyvault list` without --resource-group prints it): its tags are used, its grants are unknown; run `az keyvault show --name {name}` for its access policies and permission model"
        ));
    }
    let props = at.under("properties");
    let rbac = match properties {
        Some(p) => Some(
            props
                .boolean(p, "enableRbacAuthorization")?
                .unwrap_or(false),
        ),
        None => None,
    };
    let mut access_policies = Vec::new();
    if let Some(p) = properties {
        for (i, entry) in props.list(p, "accessPolicies")?.iter().enumerate() {
            let path = format!("properties.accessPolicies[{i}]");
            let here = at.under(&path);
            let Value::Object(e) = entry else {
                return Err(props.wrong(
                    &format!("accessPolicies[{i}]"),
                    entry,
                    "an access policy object",
                ));
            };
            let mut permissions = BTreeMap::new();
            if let Some(lists) = here.object(e, "permissions")? {
                let path = format!("{path}.permissions");
                let here = at.under(&path);
                for list in lists.keys() {
                    let mut values = Vec::new();
                    for (j, value) in here.list(lists, list)?.iter().enumerate() {
                        match value {
                            Value::String(v) => values.push(v.clone()),
                            other => {
                                return Err(here.wrong(
                                    &format!("{list}[{j}]"),
                                    other,
                                    "a permission name",
                                ));
                            }
                        }
                    }
                    permissions.insert(list.to_lowercase(), values);
                }
            }
            let policy = AccessPolicy {
                object_id: here.text(e, "objectId")?.unwrap_or("").to_lowercase(),
                application_id: here.text(e, "applicationId")?.map(str::to_lowercase),
                permissions,
            };
            if policy.object_id.is_empty() {
                anyhow::bail!(
                    "{}: `{path}` has no objectId: kvaudit cannot tell whose grant it is; save the `az` command's output unchanged with `--output json`",
                    at.item
                );
            }
            access_policies.push(policy);
        }
    }
    let network_default_action = match properties {
        Some(p) => match props.object(p, "networkAcls")? {
            Some(acls) => at
                .under("properties.networkAcls")
                .text(acls, "defaultAction")?
                .map(str::to_owned),
            None => None,
        },
        None => None,
    };
    Ok(VaultInventory {
        resource_group: at
            .text(object, "resourceGroup")?
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
    })
}

fn assignment(
    object: &Map<String, Value>,
    file: &str,
    at: &Place<'_>,
) -> anyhow::Result<RoleAssignment> {
    let get = |key: &str| -> anyhow::Result<String> {
        Ok(at.text_or_property(object, key)?.unwrap_or("").to_owned())
    };
    let assignment = RoleAssignment {
        id: get("id")?,
        principal_id: get("principalId")?.to_lowercase(),
        principal_type: get("principalType")?,
        principal_name: at
            .text_or_property(object, "principalName")?
            .map(str::to_owned),
        role_definition_id: get("roleDefinitionId")?,
        role_definition_name: get("roleDefinitionName")?,
        scope: get("scope")?,
        source: file.to_owned(),
    };
    if assignment.principal_id.is_empty() {
        anyhow::bail!(
            "{}: a role assignment without a principalId: kvaudit cannot tell whose grant it is; save the `az` command's output unchanged with `--output json`",
            at.item
        );
    }
    Ok(assignment)
}

fn principal(
    object: &Map<String, Value>,
    kind: &str,
    at: &Place<'_>,
) -> anyhow::Result<Option<(String, PrincipalInfo)>> {
    let Some(id) = at.text(object, "id")?.or(at.text(object, "objectId")?) else {
        return Ok(None);
    };
    let kind = match kind {
        "sp" => match at.text(object, "servicePrincipalType")? {
            Some(t) if t.eq_ignore_ascii_case("ManagedIdentity") => "managed-identity",
            _ => "service-principal",
        },
        _ => "user",
    };
    let display_name = at
        .text(object, "userPrincipalName")?
        .or(at.text(object, "displayName")?)
        .unwrap_or("")
        .to_owned();
    Ok(Some((
        id.to_lowercase(),
        PrincipalInfo {
            display_name,
            kind: kind.to_owned(),
        },
    )))
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
        let whereabouts = format!("{file}{at}");
        let place = Place {
            item: &whereabouts,
            path: "",
        };
        match classify(item) {
            Some(Item::Vault(o)) => {
                doc.kind = "keyvault";
                doc.vaults.push(vault(o, file, &place, &mut doc.warnings)?);
            }
            Some(Item::ManagedHsm) => {
                doc.kind = "keyvault";
                doc.warnings.push(format!(
                    "{file}{at}: a Managed HSM; kvaudit analyses the grants of vaults only"
                ));
            }
            Some(Item::Assignment(o)) => {
                doc.kind = "role-assignments";
                doc.assignments.push(assignment(o, file, &place)?);
            }
            Some(Item::ServicePrincipal(o)) => {
                doc.kind = "service-principals";
                doc.principals.extend(principal(o, "sp", &place)?);
            }
            Some(Item::User(o)) => {
                doc.kind = "users";
                doc.principals.extend(principal(o, "user", &place)?);
            }
            None => anyhow::bail!(
                "{file}{at}: not an inventory item: found {}; {EXPECTED}",
                describe(item)
            ),
        }
    }
    Ok(doc)
}
