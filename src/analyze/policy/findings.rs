//! The finding record: what a matched policy says about who did what, grouped
//! per rule, principal, vault and object (or per vault / principal when the
//! rule's `@group_by` says so).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ingest::time::format_time;
use crate::text::noun;

/// How bad a finding is, lowest first (so `Ord` sorts by severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Self::Info,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown severity `{s}`, must be one of: {}",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    LeastPrivilege,
    UnusedPermission,
    AbnormalRate,
    FailedAccess,
    SensitiveOperation,
    BestPractice,
    Rotation,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Self::LeastPrivilege,
        Self::UnusedPermission,
        Self::AbnormalRate,
        Self::FailedAccess,
        Self::SensitiveOperation,
        Self::BestPractice,
        Self::Rotation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeastPrivilege => "least-privilege",
            Self::UnusedPermission => "unused-permission",
            Self::AbnormalRate => "abnormal-rate",
            Self::FailedAccess => "failed-access",
            Self::SensitiveOperation => "sensitive-operation",
            Self::BestPractice => "best-practice",
            Self::Rotation => "rotation",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown category `{s}`, must be one of: {}",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }
}

/// One example event of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The client-supplied correlation id, when the event had one.
    pub correlation_id: Option<String>,
    /// `file:line` of the record.
    pub source: String,
    /// RFC 3339, UTC.
    pub time: String,
}

/// Most example events a finding keeps.
pub const MAX_EVIDENCE: usize = 10;

/// One finding: a rule matched one or more events of one principal on one
/// vault (and object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable across runs: first 16 hex digits of SHA-256 of `rule|principal|vault|object`.
    pub id: String,
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    /// Caller object id, or null (app-only callers without one, unauthenticated calls).
    pub principal: Option<String>,
    pub principal_name: Option<String>,
    pub principal_kind: String,
    pub vault: String,
    /// Object name, or null for vault-level calls and rules grouped per vault.
    pub object: Option<String>,
    pub operations: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub event_count: u64,
    pub evidence: Vec<Evidence>,
    pub message: String,
    pub remediation: String,
}

/// Stable finding id.
pub fn finding_id(rule: &str, principal: &str, vault: &str, object: Option<&str>) -> String {
    let key = format!("{rule}|{principal}|{vault}|{}", object.unwrap_or(""));
    Sha256::digest(key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The events behind a finding that is about a grant rather than a group of
/// matched events (least privilege): what the principal did in the vault,
/// or, for a grant never used, the period observed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GrantActivity {
    pub operations: Vec<String>,
    pub first_ns: i64,
    pub last_ns: i64,
    pub event_count: u64,
}

impl Finding {
    /// A finding about one principal's grant on one vault.
    pub fn about_grant(
        rule: RuleInfo,
        who: &Who,
        vault: &str,
        activity: GrantActivity,
        message: String,
    ) -> Finding {
        Finding {
            id: finding_id(&rule.id, &who.key, vault, None),
            rule: rule.id,
            category: rule.category,
            severity: rule.severity,
            title: rule.title,
            principal: who.object_id.clone(),
            principal_name: who.name.clone(),
            principal_kind: who.kind.clone(),
            vault: vault.to_owned(),
            object: None,
            operations: activity.operations,
            first_seen: format_time(activity.first_ns),
            last_seen: format_time(activity.last_ns),
            event_count: activity.event_count,
            evidence: Vec::new(),
            message,
            remediation: rule.remediation,
        }
    }
}

/// The order every report lists findings in: most severe first, then
/// rule, vault, principal, object.
pub fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (
        Reverse(a.severity),
        &a.rule,
        &a.vault,
        &a.principal_name,
        &a.principal,
        &a.object,
        &a.id,
    )
        .cmp(&(
            Reverse(b.severity),
            &b.rule,
            &b.vault,
            &b.principal_name,
            &b.principal,
            &b.object,
            &b.id,
        ))
}

/// Sorts findings in [`finding_order`].
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

/// What a rule says about the findings it makes.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    pub remediation: String,
}

/// Who a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Who {
    /// The principal entity id (`oid`, `app:<appid>`, `unauthenticated`, ...).
    pub key: String,
    pub object_id: Option<String>,
    pub name: Option<String>,
    pub kind: String,
}

/// One event's place in a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventRef {
    pub time_ns: i64,
    pub source_file: String,
    pub source_line: u32,
    pub correlation_id: Option<String>,
}

impl From<EventRef> for Evidence {
    fn from(e: EventRef) -> Self {
        Evidence {
            correlation_id: e.correlation_id,
            source: format!("{}:{}", e.source_file, e.source_line),
            time: format_time(e.time_ns),
        }
    }
}

/// Accumulates matched events into findings.
#[derive(Default)]
pub struct FindingBuilder {
    groups: BTreeMap<(String, String, String, Option<String>), Group>,
}

struct Group {
    rule: RuleInfo,
    who: Who,
    operations: BTreeMap<String, u64>,
    objects: BTreeSet<String>,
    first: i64,
    last: i64,
    count: u64,
    /// The earliest events (max-heap, so the latest is dropped first).
    evidence: BinaryHeap<EventRef>,
}

/// A batch of identical requests that matched a rule.
pub struct Matched<'a> {
    pub rule: &'a RuleInfo,
    pub who: &'a Who,
    pub vault: &'a str,
    /// The event's object, if any.
    pub object: Option<&'a str>,
    /// Whether the rule groups per object (else per vault).
    pub per_object: bool,
    pub operation: &'a str,
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

impl FindingBuilder {
    /// Adds `count` events; `evidence` yields example events (only the earliest are kept).
    pub fn add(&mut self, m: Matched<'_>, evidence: impl IntoIterator<Item = EventRef>) {
        let object = if m.per_object {
            m.object.map(str::to_owned)
        } else {
            None
        };
        let key = (
            m.rule.id.clone(),
            m.who.key.clone(),
            m.vault.to_owned(),
            object,
        );
        let group = self.groups.entry(key).or_insert_with(|| Group {
            rule: m.rule.clone(),
            who: m.who.clone(),
            operations: BTreeMap::new(),
            objects: BTreeSet::new(),
            first: m.first,
            last: m.last,
            count: 0,
            evidence: BinaryHeap::new(),
        });
        *group.operations.entry(m.operation.to_owned()).or_default() += m.count;
        if let Some(object) = m.object {
            group.objects.insert(object.to_owned());
        }
        group.first = group.first.min(m.first);
        group.last = group.last.max(m.last);
        group.count += m.count;
        for e in evidence {
            if group.evidence.len() < MAX_EVIDENCE {
                group.evidence.push(e);
            } else if group.evidence.peek().is_some_and(|top| e < *top) {
                group.evidence.pop();
                group.evidence.push(e);
            }
        }
    }

    pub fn finish(self) -> Vec<Finding> {
        let mut findings: Vec<Finding> = self
            .groups
            .into_iter()
            .map(|((rule, principal, vault, object), g)| {
                let evidence = g
                    .evidence
                    .into_sorted_vec()
                    .into_iter()
                    .map(Evidence::from)
                    .collect();
                let first_seen = format_time(g.first);
                let last_seen = format_time(g.last);
                let message = message(
                    &g.who,
                    &vault,
                    object.as_deref(),
                    &g.objects,
                    &g.operations,
                    g.count,
                    &first_seen,
                    &last_seen,
                );
                Finding {
                    id: finding_id(&rule, &principal, &vault, object.as_deref()),
                    rule,
                    category: g.rule.category,
                    severity: g.rule.severity,
                    title: g.rule.title,
                    principal: g.who.object_id,
                    principal_name: g.who.name,
                    principal_kind: g.who.kind,
                    vault,
                    object,
                    operations: g.operations.into_keys().collect(),
                    first_seen,
                    last_seen,
                    event_count: g.count,
                    evidence,
                    message,
                    remediation: g.rule.remediation,
                }
            })
            .collect();
        sort_findings(&mut findings);
        findings
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the message names each of these parts of the finding"
)]
fn message(
    who: &Who,
    vault: &str,
    object: Option<&str>,
    objects: &BTreeSet<String>,
    operations: &BTreeMap<String, u64>,
    count: u64,
    first: &str,
    last: &str,
) -> String {
    let name = who
        .name
        .clone()
        .or_else(|| who.object_id.clone())
        .unwrap_or_else(|| who.key.clone());
    let ops = operations
        .iter()
        .map(|(op, n)| format!("{op} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let target = match (object, objects.len()) {
        (Some(o), _) => format!("`{o}` in vault `{vault}`"),
        (None, 0) => format!("vault `{vault}`"),
        (None, 1) => format!(
            "`{}` in vault `{vault}`",
            objects
                .iter()
                .next()
                .map(String::as_str)
                .unwrap_or_default()
        ),
        (None, n) => format!("{n} objects in vault `{vault}`"),
    };
    let when = if first == last {
        format!("at {first}")
    } else {
        format!("between {first} and {last}")
    };
    format!(
        "{name} ({}) ran {ops} on {target}: {count} {} {when}",
        who.kind,
        noun(count, "event", "events")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> RuleInfo {
        RuleInfo {
            id: "kv-purge".into(),
            category: Category::SensitiveOperation,
            severity: Severity::High,
            title: "t".into(),
            remediation: "r".into(),
        }
    }

    fn who() -> Who {
        Who {
            key: "oid-1".into(),
            object_id: Some("oid-1".into()),
            name: Some("bob@contoso.com".into()),
            kind: "user".into(),
        }
    }

    fn ev(t: i64) -> EventRef {
        EventRef {
            time_ns: t,
            source_file: "f.json".into(),
            source_line: t as u32,
            correlation_id: None,
        }
    }

    #[test]
    fn severity_and_category_parse_and_order() {
        assert!(Severity::Critical > Severity::Info);
        assert_eq!("high".parse::<Severity>(), Ok(Severity::High));
        assert!(
            "urgent"
                .parse::<Severity>()
                .unwrap_err()
                .contains("info, low")
        );
        assert_eq!(
            "best-practice".parse::<Category>(),
            Ok(Category::BestPractice)
        );
        assert!("noise".parse::<Category>().is_err());
        assert_eq!(
            serde_json::to_string(&Category::LeastPrivilege).unwrap(),
            "\"least-privilege\""
        );
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"critical\""
        );
        // The job's state stores them and reads them back the next day.
        for severity in Severity::ALL {
            let json = serde_json::to_string(&severity).unwrap();
            assert_eq!(json, format!("\"{severity}\""));
            assert_eq!(serde_json::from_str::<Severity>(&json).unwrap(), severity);
        }
        for category in Category::ALL {
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{category}\""));
            assert_eq!(serde_json::from_str::<Category>(&json).unwrap(), category);
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = finding_id("r", "p", "v", Some("o"));
        assert_eq!(a.len(), 16);
        assert_eq!(a, finding_id("r", "p", "v", Some("o")));
        assert_ne!(a, finding_id("r", "p", "v", None));
    }

    #[test]
    fn groups_events_and_keeps_the_earliest_evidence() {
        let mut b = FindingBuilder::default();
        let (r, w) = (rule(), who());
        for (t, op) in [(50, "SecretPurge"), (10, "KeyPurge")] {
            b.add(
                Matched {
                    rule: &r,
                    who: &w,
                    vault: "kv",
                    object: Some("s"),
                    per_object: true,
                    operation: op,
                    count: 6,
                    first: t,
                    last: t + 5,
                },
                (t..t + 6).map(ev),
            );
        }
        let f = b.finish();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].event_count, 12);
        assert_eq!(f[0].operations, ["KeyPurge", "SecretPurge"]);
        assert_eq!(f[0].evidence.len(), MAX_EVIDENCE);
        assert_eq!(f[0].evidence[0].source, "f.json:10");
        assert_eq!(f[0].evidence[9].source, "f.json:53");
        assert!(f[0].message.starts_with("bob@contoso.com (user) ran KeyPurge ×6, SecretPurge ×6 on `s` in vault `kv`: 12 events "), "{}", f[0].message);
    }
}
