//! The Cedar entity store of a run: identities, vaults and objects seen in the
//! events, merged with the user's entities file (groups, names, tags).
//!
//! Merge rules (documented in `policies/README.md`):
//! - an entity in both keeps the event-derived attributes, overlaid by the
//!   file's attributes; parents and tags come from the file;
//! - entities only in the file get default attributes (`kind: "unknown"`,
//!   empty strings) overlaid by the file's;
//! - objects (`Secret`, `Key`, `Certificate`) are `in` their vault and carry
//!   a copy of their vault's tags, overlaid by tags the file gives the object;
//! - groups named as parents but not defined are created empty.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use cedar_policy::{Entities, Schema};
use polars::prelude::*;
use serde_json::{Map, Value, json};

use crate::analyze::columns::UNKNOWN_VAULT;

use super::model::{
    CERTIFICATE, GROUP, IDENTITY, KEY, NO_IDENTITY, SECRET, VAULT, managed_identity_name,
    principal_key,
};

/// What the events say about one caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityFacts {
    pub object_id: Option<String>,
    pub kind: String,
    pub name: String,
    pub app_id: String,
    pub managed_identity: String,
    pub credentials: BTreeSet<String>,
}

/// What the events say about one vault.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VaultFacts {
    pub subscription: String,
    pub resource_group: String,
}

/// Entities derived from the events.
#[derive(Debug, Clone, Default)]
pub struct EventEntities {
    /// By principal key (the `Identity` id).
    pub identities: BTreeMap<String, IdentityFacts>,
    pub vaults: BTreeMap<String, VaultFacts>,
    /// (entity type, vault, object name)
    pub objects: BTreeSet<(&'static str, String, String)>,
}

fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let column = df.column(name)?.cast(&DataType::String)?;
    Ok(column.str()?.iter().map(|v| v.map(str::to_owned)).collect())
}

impl EventEntities {
    /// Identities and vaults of the events (objects are added from the requests).
    pub fn from_events(events: &DataFrame) -> PolarsResult<EventEntities> {
        let mut facts = EventEntities::default();
        if events.height() == 0 {
            return Ok(facts);
        }
        let people = events
            .clone()
            .lazy()
            .group_by([
                col("principal_id"),
                col("app_id"),
                col("identity_kind"),
                col("credential_kind"),
            ])
            .agg([
                len().alias("n"),
                col("upn").drop_nulls().first().alias("upn"),
                col("managed_identity").drop_nulls().first().alias("mi"),
            ])
            .collect()?;
        let ids = strings(&people, "principal_id")?;
        let apps = strings(&people, "app_id")?;
        let kinds = strings(&people, "identity_kind")?;
        let creds = strings(&people, "credential_kind")?;
        let upns = strings(&people, "upn")?;
        let mis = strings(&people, "mi")?;
        let counts: Vec<u64> = people
            .column("n")?
            .cast(&DataType::UInt64)?
            .u64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect();
        // Votes for the kind: the most frequent known kind wins.
        let mut kind_votes: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for i in 0..people.height() {
            let key = principal_key(ids[i].as_deref(), apps[i].as_deref(), kinds[i].as_deref());
            let kind = kinds[i].clone().unwrap_or_else(|| "unknown".to_owned());
            *kind_votes
                .entry(key.clone())
                .or_default()
                .entry(kind.clone())
                .or_default() += counts[i];
            let f = facts
                .identities
                .entry(key)
                .or_insert_with(|| IdentityFacts {
                    object_id: ids[i].clone(),
                    ..IdentityFacts::default()
                });
            if let Some(c) = &creds[i] {
                f.credentials.insert(c.clone());
            }
            if f.name.is_empty()
                && let Some(upn) = &upns[i]
            {
                f.name = upn.clone();
            }
            if f.managed_identity.is_empty()
                && let Some(mi) = &mis[i]
            {
                f.managed_identity = mi.clone();
            }
            let app_kind = matches!(
                kind.as_str(),
                "service-principal" | "managed-identity" | "microsoft-service"
            );
            if f.app_id.is_empty()
                && app_kind
                && let Some(app) = &apps[i]
            {
                f.app_id = app.clone();
            }
        }
        for (key, votes) in kind_votes {
            let kind = votes
                .iter()
                .filter(|(k, _)| k.as_str() != "unknown")
                .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
                .map_or("unknown", |(k, _)| k.as_str())
                .to_owned();
            if let Some(f) = facts.identities.get_mut(&key) {
                f.kind = kind;
                if f.name.is_empty()
                    && let Some(name) = managed_identity_name(&f.managed_identity)
                {
                    f.name = name.to_owned();
                }
            }
        }

        let vaults = events
            .clone()
            .lazy()
            .group_by([col("vault")])
            .agg([
                col("subscription_id").drop_nulls().first().alias("sub"),
                col("resource_group").drop_nulls().first().alias("rg"),
            ])
            .collect()?;
        for ((vault, sub), rg) in strings(&vaults, "vault")?
            .into_iter()
            .zip(strings(&vaults, "sub")?)
            .zip(strings(&vaults, "rg")?)
        {
            facts.vaults.insert(
                vault.unwrap_or_else(|| UNKNOWN_VAULT.to_owned()),
                VaultFacts {
                    subscription: sub.unwrap_or_default(),
                    resource_group: rg.unwrap_or_default(),
                },
            );
        }
        Ok(facts)
    }
}

type Uid = (String, String);

fn uid_json(t: &str, id: &str) -> Value {
    json!({"type": t, "id": id})
}

/// A user entity, split into its parts.
#[derive(Debug, Clone, Default)]
struct UserEntity {
    attrs: Map<String, Value>,
    parents: Vec<Value>,
    tags: Map<String, Value>,
}

fn parse_uid(value: &Value) -> Option<Uid> {
    let value = value.get("__entity").unwrap_or(value);
    Some((
        value.get("type")?.as_str()?.to_owned(),
        value.get("id")?.as_str()?.to_owned(),
    ))
}

fn user_entities(user: &[Value]) -> anyhow::Result<(BTreeMap<Uid, UserEntity>, Vec<Value>)> {
    let mut out = BTreeMap::new();
    let mut passthrough = Vec::new();
    for (i, e) in user.iter().enumerate() {
        let uid = e.get("uid").and_then(parse_uid).with_context(|| {
            format!(
                "entity {} has no `uid` {{\"type\": ..., \"id\": ...}}",
                i + 1
            )
        })?;
        if !matches!(
            uid.0.as_str(),
            IDENTITY | GROUP | VAULT | SECRET | KEY | CERTIFICATE
        ) {
            passthrough.push(e.clone());
            continue;
        }
        let object = |key: &str| -> anyhow::Result<Map<String, Value>> {
            match e.get(key) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(m)) => Ok(m.clone()),
                Some(_) => {
                    anyhow::bail!("entity {}::\"{}\": `{key}` must be an object", uid.0, uid.1)
                }
            }
        };
        let parents = match e.get("parents") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => anyhow::bail!(
                "entity {}::\"{}\": `parents` must be an array",
                uid.0,
                uid.1
            ),
        };
        let entity = UserEntity {
            attrs: object("attrs")?,
            parents,
            tags: object("tags")?,
        };
        if out.insert(uid.clone(), entity).is_some() {
            anyhow::bail!("entity {}::\"{}\" is defined twice", uid.0, uid.1);
        }
    }
    Ok((out, passthrough))
}

fn entity(
    t: &str,
    id: &str,
    attrs: Map<String, Value>,
    parents: Vec<Value>,
    tags: Map<String, Value>,
) -> Value {
    json!({"uid": uid_json(t, id), "attrs": attrs, "parents": parents, "tags": tags})
}

fn overlay(mut base: Map<String, Value>, over: &Map<String, Value>) -> Map<String, Value> {
    for (k, v) in over {
        base.insert(k.clone(), v.clone());
    }
    base
}

/// The merged entities as JSON, before Cedar parses them.
pub fn merged_json(facts: &EventEntities, user: &[Value]) -> anyhow::Result<Vec<Value>> {
    let (mut user, passthrough) = user_entities(user)?;
    let mut out = Vec::new();

    // Identities.
    let mut identity_ids: BTreeSet<String> = facts.identities.keys().cloned().collect();
    identity_ids.insert(NO_IDENTITY.to_owned());
    identity_ids.extend(
        user.keys()
            .filter(|(t, _)| t == IDENTITY)
            .map(|(_, id)| id.clone()),
    );
    for id in identity_ids {
        let f = facts
            .identities
            .get(&id)
            .cloned()
            .unwrap_or_else(|| IdentityFacts {
                kind: if id == NO_IDENTITY { "none" } else { "unknown" }.to_owned(),
                ..IdentityFacts::default()
            });
        let mut attrs = Map::new();
        attrs.insert("kind".into(), json!(f.kind));
        attrs.insert("name".into(), json!(f.name));
        attrs.insert("app_id".into(), json!(f.app_id));
        attrs.insert("managed_identity".into(), json!(f.managed_identity));
        attrs.insert("credentials".into(), json!(f.credentials));
        let u = user
            .remove(&(IDENTITY.to_owned(), id.clone()))
            .unwrap_or_default();
        out.push(entity(
            IDENTITY,
            &id,
            overlay(attrs, &u.attrs),
            u.parents,
            u.tags,
        ));
    }

    // Vaults, with their tags (needed for the objects).
    let mut vault_names: BTreeSet<String> = facts.vaults.keys().cloned().collect();
    vault_names.extend(
        user.keys()
            .filter(|(t, _)| t == VAULT)
            .map(|(_, id)| id.clone()),
    );
    vault_names.extend(facts.objects.iter().map(|(_, v, _)| v.clone()));
    let object_types = [SECRET, KEY, CERTIFICATE];
    for (t, id) in user.keys() {
        if object_types.contains(&t.as_str())
            && let Some((vault, _)) = id.split_once('/')
        {
            vault_names.insert(vault.to_owned());
        }
    }
    let mut vault_tags: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for name in vault_names {
        let f = facts.vaults.get(&name).cloned().unwrap_or_default();
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(name));
        attrs.insert("subscription".into(), json!(f.subscription));
        attrs.insert("resource_group".into(), json!(f.resource_group));
        let u = user
            .remove(&(VAULT.to_owned(), name.clone()))
            .unwrap_or_default();
        vault_tags.insert(name.clone(), u.tags.clone());
        out.push(entity(
            VAULT,
            &name,
            overlay(attrs, &u.attrs),
            u.parents,
            u.tags,
        ));
    }

    // Objects.
    let mut objects: BTreeSet<(String, String)> = facts
        .objects
        .iter()
        .map(|(t, v, n)| ((*t).to_owned(), format!("{v}/{n}")))
        .collect();
    objects.extend(
        user.keys()
            .filter(|(t, _)| object_types.contains(&t.as_str()))
            .cloned(),
    );
    for (t, id) in objects {
        let (vault, name) = id.split_once('/').unwrap_or((UNKNOWN_VAULT, id.as_str()));
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!(name));
        attrs.insert("vault".into(), json!(vault));
        let u = user.remove(&(t.clone(), id.clone())).unwrap_or_default();
        let mut parents = u.parents;
        let vault_uid = uid_json(VAULT, vault);
        if !parents.contains(&vault_uid) {
            parents.push(vault_uid);
        }
        let tags = overlay(vault_tags.get(vault).cloned().unwrap_or_default(), &u.tags);
        out.push(entity(&t, &id, overlay(attrs, &u.attrs), parents, tags));
    }

    // Groups: defined ones, and every group named as a parent.
    let mut groups: BTreeSet<String> = user
        .keys()
        .filter(|(t, _)| t == GROUP)
        .map(|(_, id)| id.clone())
        .collect();
    for e in &out {
        for p in e["parents"].as_array().into_iter().flatten() {
            if let Some((t, id)) = parse_uid(p)
                && t == GROUP
            {
                groups.insert(id);
            }
        }
    }
    for (_, u) in user.iter().filter(|((t, _), _)| t == GROUP) {
        for p in &u.parents {
            if let Some((t, id)) = parse_uid(p)
                && t == GROUP
            {
                groups.insert(id);
            }
        }
    }
    for id in groups {
        let u = user
            .remove(&(GROUP.to_owned(), id.clone()))
            .unwrap_or_default();
        out.push(entity(GROUP, &id, u.attrs, u.parents, u.tags));
    }
    out.extend(passthrough);
    Ok(out)
}

/// Adds vault tags from the inventory to the user's entities. A tag the
/// entities file gives a vault wins over the inventory's; vaults the file
/// does not define are added with the inventory's tags.
pub fn with_inventory_tags(
    user: &[Value],
    inventory_tags: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<Value> {
    let mut out: Vec<Value> = user.to_vec();
    for (vault, tags) in inventory_tags {
        let uid = uid_json(VAULT, vault);
        let defined = out
            .iter_mut()
            .find(|e| e.get("uid").and_then(parse_uid) == Some((VAULT.to_owned(), vault.clone())));
        match defined {
            Some(entity) => {
                let mut merged: Map<String, Value> =
                    tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                if let Some(Value::Object(own)) = entity.get("tags") {
                    merged = overlay(merged, own);
                }
                entity["tags"] = Value::Object(merged);
            }
            None => out.push(json!({"uid": uid, "attrs": {}, "parents": [], "tags": tags})),
        }
    }
    out
}

/// Adds display names from the inventory's directory listings to the user's
/// entities: an identity the entities file names keeps its name.
pub fn with_inventory_names(user: &[Value], names: &BTreeMap<String, String>) -> Vec<Value> {
    let mut out: Vec<Value> = user.to_vec();
    for (id, name) in names {
        let defined = out
            .iter_mut()
            .find(|e| e.get("uid").and_then(parse_uid) == Some((IDENTITY.to_owned(), id.clone())));
        match defined {
            Some(entity) => {
                if entity.get("attrs").is_none_or(Value::is_null) {
                    entity["attrs"] = json!({});
                }
                if let Some(attrs) = entity["attrs"].as_object_mut() {
                    attrs.entry("name").or_insert_with(|| json!(name));
                }
            }
            None => out.push(json!({
                "uid": uid_json(IDENTITY, id), "attrs": {"name": name}, "parents": [], "tags": {}
            })),
        }
    }
    out
}

/// Builds the entity store.
pub fn build(facts: &EventEntities, user: &[Value], schema: &Schema) -> anyhow::Result<Entities> {
    let json = merged_json(facts, user)?;
    Entities::from_json_value(Value::Array(json), Some(schema)).map_err(|e| {
        let mut message = e.to_string();
        if let Some(help) = miette::Diagnostic::help(&e) {
            message.push_str(&format!(" ({help})"));
        }
        anyhow::anyhow!(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::model::uid;
    use crate::analyze::policy::pack::default_schema;
    use cedar_policy::EvalResult;

    fn facts() -> EventEntities {
        let mut f = EventEntities::default();
        f.identities.insert(
            "oid-1".into(),
            IdentityFacts {
                object_id: Some("oid-1".into()),
                kind: "user".into(),
                name: "alice@contoso.com".into(),
                credentials: ["none".to_owned()].into(),
                ..IdentityFacts::default()
            },
        );
        f.vaults.insert("kv-prod".into(), VaultFacts::default());
        f.objects.insert((SECRET, "kv-prod".into(), "db".into()));
        f
    }

    #[test]
    fn inventory_names_fill_identities_and_the_entities_file_wins() {
        let user = serde_json::json!([
            {"uid": {"type": "Identity", "id": "oid-1"}, "attrs": {"name": "Alice"}, "parents": []}
        ]);
        let names = BTreeMap::from([
            ("oid-1".to_owned(), "alice@contoso.com".to_owned()),
            ("oid-9".to_owned(), "deploy-pipeline".to_owned()),
        ]);
        let merged = with_inventory_names(user.as_array().unwrap(), &names);
        let store = build(&facts(), &merged, &default_schema()).unwrap();
        let name = |id: &str| {
            store
                .get(&uid(IDENTITY, id))
                .unwrap()
                .attr("name")
                .unwrap()
                .unwrap()
        };
        assert_eq!(name("oid-1"), EvalResult::String("Alice".into()));
        assert_eq!(name("oid-9"), EvalResult::String("deploy-pipeline".into()));
    }

    #[test]
    fn inventory_tags_fill_vaults_and_the_entities_file_wins() {
        let user = serde_json::json!([
            {"uid": {"type": "Vault", "id": "kv-prod"}, "attrs": {}, "parents": [], "tags": {"env": "staging"}}
        ]);
        let mut inventory = BTreeMap::new();
        inventory.insert(
            "kv-prod".to_owned(),
            BTreeMap::from([
                ("env".to_owned(), "prod".to_owned()),
                ("data".to_owned(), "pci".to_owned()),
            ]),
        );
        inventory.insert(
            "kv-dev".to_owned(),
            BTreeMap::from([("env".to_owned(), "dev".to_owned())]),
        );
        let merged = with_inventory_tags(user.as_array().unwrap(), &inventory);
        let store = build(&facts(), &merged, &default_schema()).unwrap();
        let tag = |vault: &str, key: &str| {
            store
                .get(&uid(VAULT, vault))
                .and_then(|e| e.tag(key))
                .and_then(Result::ok)
        };
        let s = |v: &str| Some(EvalResult::String(v.into()));
        assert_eq!(tag("kv-prod", "env"), s("staging"));
        assert_eq!(tag("kv-prod", "data"), s("pci"));
        assert_eq!(tag("kv-dev", "env"), s("dev"));
    }

    #[test]
    fn vault_tags_reach_objects_and_groups_are_created() {
        let user = serde_json::json!([
            {"uid": {"type": "Vault", "id": "kv-prod"}, "attrs": {}, "parents": [], "tags": {"env": "prod"}},
            {"uid": {"type": "Identity", "id": "oid-1"}, "attrs": {"name": "Alice"}, "parents": [{"type": "Group", "id": "admins"}]},
            {"uid": {"type": "Identity", "id": "oid-2"}, "parents": [{"type": "Group", "id": "break-glass"}]}
        ]);
        let entities = build(&facts(), user.as_array().unwrap(), &default_schema()).unwrap();
        let secret = entities.get(&uid(SECRET, "kv-prod/db")).unwrap();
        assert_eq!(
            secret.tag("env").unwrap().unwrap(),
            EvalResult::String("prod".into())
        );
        assert!(entities.is_ancestor_of(&uid(VAULT, "kv-prod"), &uid(SECRET, "kv-prod/db")));
        let alice = entities.get(&uid(IDENTITY, "oid-1")).unwrap();
        assert_eq!(
            alice.attr("name").unwrap().unwrap(),
            EvalResult::String("Alice".into())
        );
        assert_eq!(
            alice.attr("kind").unwrap().unwrap(),
            EvalResult::String("user".into())
        );
        assert!(entities.is_ancestor_of(&uid(GROUP, "admins"), &uid(IDENTITY, "oid-1")));
        let other = entities.get(&uid(IDENTITY, "oid-2")).unwrap();
        assert_eq!(
            other.attr("kind").unwrap().unwrap(),
            EvalResult::String("unknown".into())
        );
        assert!(entities.get(&uid(GROUP, "break-glass")).is_some());
    }

    #[test]
    fn bad_user_entities_are_errors() {
        let schema = default_schema();
        let dup = serde_json::json!([
            {"uid": {"type": "Group", "id": "a"}},
            {"uid": {"type": "Group", "id": "a"}}
        ]);
        assert!(
            build(&facts(), dup.as_array().unwrap(), &schema)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let bad_attr =
            serde_json::json!([{"uid": {"type": "Identity", "id": "x"}, "attrs": {"kind": 3}}]);
        assert!(build(&facts(), bad_attr.as_array().unwrap(), &schema).is_err());
        let unknown_type =
            serde_json::json!([{"uid": {"type": "Team", "id": "x"}, "attrs": {}, "parents": []}]);
        assert!(build(&facts(), unknown_type.as_array().unwrap(), &schema).is_err());
    }
}
