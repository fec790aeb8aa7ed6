//! A Cedar baseline from observed use: `permit` policies for exactly the
//! successful calls the logs show, grouped by identity and vault, each with
//! its evidence in a comment.
//!
//! Loaded with `kvaudit audit --policies FILE`, the permits turn on baseline
//! mode: any later call no permit covers is an `outside-baseline` finding.
//!
//! Permits name operations, not action groups: a group would also permit
//! operations never seen (`crypto-use` would allow `KeyDecrypt` to an
//! identity that only unwraps), which is the access a baseline exists to
//! flag. Objects are named when an identity touches at most
//! [`BaselineOptions::max_objects`] of a kind in a vault; beyond that the
//! permit covers the kind in the whole vault. Refused calls are left to the
//! failed-access rules: one permit covers every unsuccessful call.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use polars::prelude::*;

use crate::analyze::columns::{counts, integers, is_success, strings};
use crate::analyze::policy::entities::EventEntities;
use crate::analyze::policy::model::{ActionMap, VAULT, principal_key, resource};
use crate::ingest::time::format_time;

#[derive(Debug, Clone)]
pub struct BaselineOptions {
    /// Most objects of one kind named in a permit before it covers the vault.
    pub max_objects: usize,
}

impl Default for BaselineOptions {
    fn default() -> Self {
        Self { max_objects: 5 }
    }
}

/// Calls of one operation on one resource.
#[derive(Debug, Clone, Copy)]
struct Seen {
    calls: u64,
    first: i64,
    last: i64,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        self.calls += other.calls;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// (entity type, object id or vault) -> operation -> calls, per identity and vault.
type Observed =
    BTreeMap<String, BTreeMap<String, BTreeMap<(&'static str, String), BTreeMap<String, Seen>>>>;

/// What the generated file holds, for the command's summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    pub text: String,
    pub permits: usize,
    pub identities: usize,
    pub events: u64,
}

/// A Cedar string literal.
pub fn cedar_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text safe inside a `//` comment: no line breaks or other control characters.
fn comment_text(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn observe(events: &DataFrame) -> PolarsResult<Observed> {
    let mut observed = Observed::new();
    if events.height() == 0 {
        return Ok(observed);
    }
    let keys = [
        "principal_id",
        "app_id",
        "identity_kind",
        "vault",
        "operation",
        "object_type",
        "object_name",
    ];
    let grouped = events
        .clone()
        .lazy()
        .filter(is_success())
        .group_by(keys.map(col))
        .agg([
            len().alias("calls"),
            col("time").min().cast(DataType::Int64).alias("first"),
            col("time").max().cast(DataType::Int64).alias("last"),
        ])
        .collect()?;
    let column = |name: &str| strings(grouped.column(name)?);
    let (ids, apps, kinds) = (
        column("principal_id")?,
        column("app_id")?,
        column("identity_kind")?,
    );
    let (vaults, ops) = (column("vault")?, column("operation")?);
    let (types, names) = (column("object_type")?, column("object_name")?);
    let calls = counts(grouped.column("calls")?)?;
    let firsts = integers(grouped.column("first")?)?;
    let lasts = integers(grouped.column("last")?)?;
    for i in 0..grouped.height() {
        let principal = principal_key(ids[i].as_deref(), apps[i].as_deref(), kinds[i].as_deref());
        let vault = vaults[i]
            .clone()
            .unwrap_or_else(|| crate::analyze::columns::UNKNOWN_VAULT.to_owned());
        let (t, id) = resource(&vault, types[i].as_deref(), names[i].as_deref());
        let seen = Seen {
            calls: calls[i],
            first: firsts[i].unwrap_or(0),
            last: lasts[i].unwrap_or(0),
        };
        observed
            .entry(principal)
            .or_default()
            .entry(vault)
            .or_default()
            .entry((t, id))
            .or_default()
            .entry(ops[i].clone().unwrap_or_default())
            .and_modify(|s| s.merge(seen))
            .or_insert(seen);
    }
    Ok(observed)
}

fn action_list(actions: &ActionMap, operations: &BTreeSet<String>) -> String {
    let ids: BTreeSet<&str> = operations.iter().map(|op| actions.action_id(op)).collect();
    let list = ids
        .iter()
        .map(|id| format!("Action::{}", cedar_string(id)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("[{list}]")
}

fn evidence(seen: impl Iterator<Item = (String, Seen)>) -> (String, Seen) {
    let mut by_op: BTreeMap<String, Seen> = BTreeMap::new();
    for (op, s) in seen {
        by_op.entry(op).and_modify(|t| t.merge(s)).or_insert(s);
    }
    let mut total: Option<Seen> = None;
    for s in by_op.values() {
        match &mut total {
            Some(t) => t.merge(*s),
            None => total = Some(*s),
        }
    }
    let text = by_op
        .iter()
        .map(|(op, s)| format!("{op} ×{}", s.calls))
        .collect::<Vec<_>>()
        .join(", ");
    (
        text,
        total.unwrap_or(Seen {
            calls: 0,
            first: 0,
            last: 0,
        }),
    )
}

/// Writes the baseline policies for the successful calls of `events`.
pub fn generate(
    events: &DataFrame,
    actions: &ActionMap,
    options: &BaselineOptions,
) -> PolarsResult<Baseline> {
    let observed = observe(events)?;
    let facts = EventEntities::from_events(events)?;
    let mut baseline = Baseline {
        identities: observed.len(),
        ..Baseline::default()
    };
    let mut text = String::new();
    let all: Vec<Seen> = observed
        .values()
        .flat_map(|v| v.values())
        .flat_map(|r| r.values())
        .flat_map(|o| o.values().copied())
        .collect();
    baseline.events = all.iter().map(|s| s.calls).sum();
    let first = all.iter().map(|s| s.first).min().unwrap_or(0);
    let last = all.iter().map(|s| s.last).max().unwrap_or(0);
    let _ = writeln!(
        text,
        "// kvaudit baseline: the access the logs show, generated by `kvaudit policy generate`.\n\
         // Evidence: {} successful calls by {} identities, {} to {}.\n\
         // Review it, then audit with `kvaudit audit --policies THIS_FILE ...`: every call no\n\
         // permit below covers becomes an `outside-baseline` finding.\n",
        baseline.events,
        observed.len(),
        format_time(first),
        format_time(last)
    );
    let _ = writeln!(
        text,
        "// Refused calls are judged by the failed-access rules, not by the baseline.\n\
         @id(\"baseline/refused-calls\")\n\
         permit (principal, action, resource)\nwhen {{ !context.success }};\n"
    );
    baseline.permits += 1;

    // Identities in name order, so a reader finds one.
    let name_of = |principal: &str| -> String {
        facts
            .identities
            .get(principal)
            .and_then(|f| {
                // Applications have no name in the logs: their app id says more than the object id.
                [f.name.clone(), f.app_id.clone()]
                    .into_iter()
                    .zip(["", "app "])
                    .find(|(n, _)| !n.is_empty())
                    .map(|(n, prefix)| format!("{prefix}{n}"))
            })
            .unwrap_or_else(|| principal.to_owned())
    };
    let mut principals: Vec<(&String, &_)> = observed.iter().collect();
    principals.sort_by_cached_key(|(p, _)| (name_of(p).to_lowercase(), (*p).clone()));
    for (principal, vaults) in principals {
        let fact = facts.identities.get(principal);
        let name = name_of(principal);
        let kind = fact.map_or("unknown", |f| f.kind.as_str());
        let _ = writeln!(
            text,
            "// ---- {} ({kind}), Identity {}",
            comment_text(&name),
            comment_text(principal)
        );
        let principal_uid = format!("Identity::{}", cedar_string(principal));
        for (vault, resources) in vaults {
            let (ops, seen) = evidence(
                resources
                    .values()
                    .flat_map(|o| o.iter().map(|(op, s)| (op.clone(), *s))),
            );
            let _ = writeln!(
                text,
                "// {}: {} calls, first {}, last {}: {}",
                comment_text(vault),
                seen.calls,
                format_time(seen.first),
                format_time(seen.last),
                comment_text(&ops)
            );
            let vault_uid = format!("Vault::{}", cedar_string(vault));
            // Calls on the vault itself.
            let on_vault: BTreeSet<String> = resources
                .iter()
                .filter(|((t, _), _)| *t == VAULT)
                .flat_map(|(_, o)| o.keys().cloned())
                .collect();
            if !on_vault.is_empty() {
                let _ = writeln!(
                    text,
                    "@id({})\npermit (\n  principal == {principal_uid},\n  action in {},\n  resource == {vault_uid}\n);",
                    cedar_string(&format!("baseline/{principal}/{vault}/vault")),
                    action_list(actions, &on_vault)
                );
                baseline.permits += 1;
            }
            // Calls on objects, one permit per kind of object.
            let mut by_type: BTreeMap<&'static str, (BTreeSet<String>, BTreeSet<String>)> =
                BTreeMap::new();
            for ((t, id), o) in resources.iter().filter(|((t, _), _)| *t != VAULT) {
                let entry = by_type.entry(*t).or_default();
                entry.0.insert(id.clone());
                entry.1.extend(o.keys().cloned());
            }
            for (t, (objects, ops)) in by_type {
                let narrowed = objects.len() <= options.max_objects;
                let condition = if narrowed {
                    let list = objects
                        .iter()
                        .map(|id| format!("{t}::{}", cedar_string(id)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("\nwhen {{ resource in [{list}] }}")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    text,
                    "// {} {}{}\n@id({})\npermit (\n  principal == {principal_uid},\n  action in {},\n  resource is {t} in {vault_uid}\n){condition};",
                    objects.len(),
                    t.to_lowercase(),
                    if objects.len() == 1 { "" } else { "s" },
                    cedar_string(&format!(
                        "baseline/{principal}/{vault}/{}",
                        t.to_lowercase()
                    )),
                    action_list(actions, &ops)
                );
                baseline.permits += 1;
            }
        }
        text.push('\n');
    }
    baseline.text = text;
    Ok(baseline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::LoadedPolicies;
    use crate::analyze::policy::pack::{PolicyKind, Source, event_schema};
    use crate::analyze::policy::tests_runner::{TestEvent, frame_of};

    fn ev(principal: &str, op: &str, object: Option<(&str, &str)>, status: u16) -> TestEvent {
        TestEvent {
            principal_id: Some(principal.into()),
            operation: op.into(),
            object_type: object.map(|o| o.0.into()),
            object_name: object.map(|o| o.1.into()),
            http_status: Some(status),
            upn: Some("eve\n@id(\"x\") permit(principal,action,resource);".into()),
            identity_kind: Some("user".into()),
            ..TestEvent::default()
        }
    }

    #[test]
    fn generated_policies_validate_and_narrow_to_objects() {
        let mut events = vec![
            ev("app-1", "SecretGet", Some(("secret", "db")), 200),
            ev("app-1", "SecretGet", Some(("secret", "quote\"d")), 200),
            ev("app-1", "SecretList", None, 200),
            ev("app-1", "KeyDecrypt", Some(("key", "k1")), 403),
        ];
        for i in 0..6 {
            events.push(ev(
                "app-2",
                "KeyUnwrap",
                Some(("key", format!("k{i}").as_str())),
                200,
            ));
        }
        let frame = frame_of(&events).unwrap();
        let actions = ActionMap::from_schema(&event_schema());
        let b = generate(&frame, &actions, &BaselineOptions::default()).unwrap();
        assert_eq!(b.identities, 2);
        assert_eq!(b.permits, 4, "{}", b.text);
        assert!(
            b.text
                .contains("resource in [Secret::\"kv-test/db\", Secret::\"kv-test/quote\\\"d\"]"),
            "{}",
            b.text
        );
        assert!(
            b.text.contains("resource is Key in Vault::\"kv-test\"\n);"),
            "six keys: the vault"
        );
        assert!(
            !b.text.contains("KeyDecrypt"),
            "refused calls are not baseline"
        );
        assert!(
            !b.text.contains("\n@id(\"x\")"),
            "log values cannot break out of comments"
        );
        let loaded = LoadedPolicies::from_sources(&[Source {
            name: "baseline.cedar".into(),
            text: b.text.clone(),
            default_pack: false,
        }])
        .unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert!(
            loaded
                .policies
                .values()
                .all(|p| matches!(p.kind, PolicyKind::Baseline))
        );
        assert_eq!(loaded.policies.len(), 4);
    }
}
