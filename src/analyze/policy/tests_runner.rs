//! Policy test cases: input events and the findings they must produce, kept
//! beside the policies (`<dir>/tests/*.json`) and run by `kvaudit policy test`.
//!
//! Format (documented in `policies/README.md`):
//!
//! ```json
//! {
//!   "description": "what these cases cover",
//!   "cases": [
//!     {
//!       "name": "a purge by a user is a finding",
//!       "entities": [ ...Cedar entities JSON, like --entities... ],
//!       "events": [ {"operation": "SecretPurge", "object_type": "secret", "object_name": "db", ...} ],
//!       "records": [ ...raw AuditEvent records, read by the real ingest... ],
//!       "expect": [ {"rule": "kv-purge", "object": "db", "event_count": 1} ],
//!       "exhaustive": true
//!     }
//!   ]
//! }
//! ```
//!
//! `events` are normalised rows (field names of the events frame; omitted
//! fields take the defaults of [`TestEvent::default`]; `repeat` makes copies
//! `every` seconds apart, cycling through `object_names` when given).
//! Each `expect` entry names finding fields that must be equal; with
//! `exhaustive` (the default) every finding must be expected.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use indicatif::ProgressBar;
use polars::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::evaluation::evaluate;
use super::findings::Finding;
use super::pack::{DEFAULT_TESTS, LoadedPolicies};
use crate::analyze::rates::{RateOptions, observe};
use crate::ingest::schema::{
    CredentialKind, Event, EventColumns, IdentityKind, Origin, SourceFormat,
};
use crate::ingest::time::parse_time;

/// One normalised event of a test case.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TestEvent {
    pub time: String,
    pub vault: Option<String>,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub operation: String,
    pub object_type: Option<String>,
    pub object_name: Option<String>,
    pub http_status: Option<u16>,
    pub caller_ip: Option<String>,
    pub tls_version: Option<String>,
    pub client_info: Option<String>,
    pub correlation_id: Option<String>,
    pub principal_id: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<String>,
    pub tenant_id: Option<String>,
    pub identity_kind: Option<String>,
    pub credential_kind: Option<String>,
    pub managed_identity: Option<String>,
    pub authorization: Option<String>,
    pub authorized: Option<bool>,
    /// The expiry a near-expiry / expired notification carries (RFC 3339).
    pub expires: Option<String>,
    /// Number of copies, `every` seconds apart.
    pub repeat: u32,
    /// Seconds between copies (default 1).
    pub every: f64,
    /// Object names the copies cycle through (instead of `object_name`).
    pub object_names: Vec<String>,
}

impl Default for TestEvent {
    /// A benign call: a managed identity reading secret `app-secret` in
    /// vault `kv-test` over TLS 1.2, allowed by RBAC.
    fn default() -> Self {
        Self {
            time: "2026-11-16T10:00:00Z".into(),
            vault: Some("kv-test".into()),
            subscription_id: None,
            resource_group: None,
            operation: "SecretGet".into(),
            object_type: Some("secret".into()),
            object_name: Some("app-secret".into()),
            http_status: Some(200),
            caller_ip: Some("10.0.0.4".into()),
            tls_version: Some("TLS1_2".into()),
            client_info: Some("test-client/1.0".into()),
            correlation_id: None,
            principal_id: Some("00000000-0000-0000-0000-0000000000a1".into()),
            app_id: Some("00000000-0000-0000-0000-0000000000b1".into()),
            upn: None,
            tenant_id: None,
            identity_kind: Some("managed-identity".into()),
            credential_kind: Some("certificate".into()),
            managed_identity: None,
            authorization: Some("rbac".into()),
            authorized: Some(true),
            expires: None,
            repeat: 1,
            every: 1.0,
            object_names: Vec::new(),
        }
    }
}

const OBJECT_TYPES: [&str; 11] = [
    "vault",
    "secret",
    "key",
    "certificate",
    "certificate-issuer",
    "certificate-contacts",
    "deleted-secret",
    "deleted-key",
    "deleted-certificate",
    "storage",
    "managed-hsm",
];

fn static_str(
    value: Option<&str>,
    allowed: &[&'static str],
    field: &str,
) -> anyhow::Result<Option<&'static str>> {
    match value {
        None => Ok(None),
        Some(v) => allowed
            .iter()
            .find(|a| **a == v)
            .copied()
            .map(Some)
            .with_context(|| {
                format!(
                    "unknown {field} `{v}`, must be one of: {}",
                    allowed.join(", ")
                )
            }),
    }
}

/// A frame of the normalised schema from test events.
pub fn frame_of(events: &[TestEvent]) -> anyhow::Result<DataFrame> {
    frame_named(events, "test")
}

fn frame_named(events: &[TestEvent], file: &str) -> anyhow::Result<DataFrame> {
    let mut columns = EventColumns::with_capacity(events.len());
    let mut line = 0u32;
    for e in events {
        let time = parse_time(&e.time)
            .with_context(|| format!("event time `{}` is not a time", e.time))?;
        let identity_kind = match e.identity_kind.as_deref() {
            None => None,
            Some(k) => Some(
                IdentityKind::ALL
                    .into_iter()
                    .find(|i| i.as_str() == k)
                    .with_context(|| format!("unknown identity_kind `{k}`"))?,
            ),
        };
        let credential_kind = match e.credential_kind.as_deref() {
            None => None,
            Some(c) => Some(
                [
                    CredentialKind::None,
                    CredentialKind::ClientSecret,
                    CredentialKind::Certificate,
                    CredentialKind::Unknown,
                ]
                .into_iter()
                .find(|i| i.as_str() == c)
                .with_context(|| format!("unknown credential_kind `{c}`"))?,
            ),
        };
        let expires_ns = match e.expires.as_deref() {
            None => None,
            Some(t) => Some(parse_time(t).with_context(|| format!("invalid expires `{t}`"))?),
        };
        for copy in 0..e.repeat.max(1) {
            line += 1;
            let event = Event {
                time_ns: time + (f64::from(copy) * e.every * 1e9) as i64,
                vault: e.vault.clone(),
                resource_type: Some("vaults".into()),
                subscription_id: e.subscription_id.clone(),
                resource_group: e.resource_group.clone(),
                operation: e.operation.clone().into(),
                object_type: static_str(e.object_type.as_deref(), &OBJECT_TYPES, "object_type")?,
                object_name: if e.object_names.is_empty() {
                    e.object_name.clone()
                } else {
                    Some(e.object_names[copy as usize % e.object_names.len()].clone())
                },
                http_status: e.http_status,
                caller_ip: e.caller_ip.clone().map(Into::into),
                tls_version: e.tls_version.clone().map(Into::into),
                client_info: e.client_info.clone().map(Into::into),
                correlation_id: e.correlation_id.clone().map(Into::into),
                principal_id: e.principal_id.clone(),
                app_id: e.app_id.clone(),
                upn: e.upn.clone().map(Into::into),
                tenant_id: e.tenant_id.clone(),
                identity_kind,
                credential_kind,
                managed_identity: e.managed_identity.clone().map(Into::into),
                authorization: static_str(
                    e.authorization.as_deref(),
                    &["access-policy", "rbac"],
                    "authorization",
                )?,
                authorized: e.authorized,
                expires_ns,
                ..Event::default()
            };
            columns.push(
                &event,
                Origin {
                    format: SourceFormat::JsonLines,
                    file,
                    line,
                },
            );
        }
    }
    Ok(columns.finish()?)
}

/// One test case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Cedar entities JSON (an array), as in an `--entities` file.
    #[serde(default)]
    pub entities: Option<Value>,
    #[serde(default)]
    pub events: Vec<TestEvent>,
    /// Raw AuditEvent records, read through kvaudit's ingest.
    #[serde(default)]
    pub records: Vec<Value>,
    /// Findings that must be produced: each object lists finding fields that must be equal.
    #[serde(default)]
    pub expect: Vec<serde_json::Map<String, Value>>,
    /// Every finding must be expected (default true).
    #[serde(default = "yes")]
    pub exhaustive: bool,
}

fn yes() -> bool {
    true
}

/// A test file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    #[serde(default)]
    pub description: String,
    pub cases: Vec<TestCase>,
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Parses a test file; errors name the file, line and column.
pub fn parse_test_file(name: &str, text: &str) -> anyhow::Result<TestFile> {
    serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{name}:{}:{}: {e}", e.line(), e.column()))
}

/// The embedded default pack's test files.
pub fn default_test_files() -> Vec<(String, String)> {
    DEFAULT_TESTS
        .iter()
        .map(|(name, text)| {
            (
                format!("{}{name}", super::pack::BUILTIN_PREFIX),
                (*text).to_owned(),
            )
        })
        .collect()
}

/// Test files under `<dir>/tests/` (recursively, sorted).
pub fn test_files_in(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let tests = dir.join("tests");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&tests)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no test cases: no .json files in {}", tests.display());
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// A case's raw records, read by ingest as JSON lines (no file written).
fn ingest_records(records: &[Value], name: &str) -> anyhow::Result<DataFrame> {
    let mut lines = String::new();
    for r in records {
        lines.push_str(&serde_json::to_string(r)?);
        lines.push('\n');
    }
    let input = crate::ingest::Input::Memory {
        name: name.to_owned(),
        bytes: lines.into_bytes().into(),
    };
    let ingested = crate::ingest::ingest(&[input], &ProgressBar::hidden())?;
    if !ingested.rejections.is_empty() {
        bail!(
            "{} record(s) of the case were rejected by ingest",
            ingested.rejections.total()
        );
    }
    Ok(ingested.events)
}

fn describe(f: &Finding) -> String {
    format!(
        "{{rule: {}, principal_name: {}, vault: {}, object: {}, event_count: {}}}",
        f.rule,
        f.principal_name.as_deref().unwrap_or("null"),
        f.vault,
        f.object.as_deref().unwrap_or("null"),
        f.event_count
    )
}

/// Runs one case.
pub fn run_case(
    policies: &LoadedPolicies,
    file: &str,
    case: &TestCase,
) -> anyhow::Result<CaseResult> {
    let mut policies = policies.clone();
    if let Some(entities) = &case.entities {
        policies.set_entities_value(
            entities.clone(),
            &format!("{file} ({}) entities", case.name),
        )?;
    }
    let mut frame = frame_named(&case.events, file)?;
    if !case.records.is_empty() {
        let ingested = ingest_records(&case.records, &case.name)?;
        frame.vstack_mut_owned(ingested)?;
    }
    let observations = observe(&frame, &RateOptions::default())?;
    let evaluation = evaluate(&frame, &observations, &policies)?;
    let actual: Vec<(Value, &Finding)> = evaluation
        .findings
        .iter()
        .map(|f| Ok((serde_json::to_value(f)?, f)))
        .collect::<anyhow::Result<_>>()?;
    let mut used = vec![false; actual.len()];
    let mut failures = Vec::new();
    for expected in &case.expect {
        if let Some(unknown) = expected
            .keys()
            .find(|k| actual_field_names().all(|f| f != k.as_str()))
        {
            bail!("{file} ({}): `{unknown}` is not a finding field", case.name);
        }
        let hit = actual.iter().enumerate().position(|(i, (value, _))| {
            !used[i]
                && expected
                    .iter()
                    .all(|(k, v)| value.get(k).is_some_and(|actual| same_value(k, actual, v)))
        });
        match hit {
            Some(i) => used[i] = true,
            None => {
                let rule = expected.get("rule").and_then(Value::as_str);
                let near: Vec<String> = actual
                    .iter()
                    .filter(|(_, f)| rule.is_none_or(|r| r == f.rule))
                    .map(|(_, f)| describe(f))
                    .collect();
                failures.push(format!(
                    "expected a finding {}; {}",
                    Value::Object(expected.clone()),
                    if near.is_empty() {
                        "no finding of that rule".to_owned()
                    } else {
                        format!("found {}", near.join(", "))
                    }
                ));
            }
        }
    }
    if case.exhaustive {
        for (i, (_, f)) in actual.iter().enumerate() {
            if !used[i] {
                failures.push(format!("unexpected finding {}", describe(f)));
            }
        }
    }
    Ok(CaseResult {
        file: file.to_owned(),
        name: case.name.clone(),
        failures,
    })
}

/// Whether a finding's field has the value a case expects. Times compare as
/// instants, so a case written with any number of decimal places (a team's
/// cases from before kvaudit wrote 100 ns) still holds.
fn same_value(field: &str, actual: &Value, expected: &Value) -> bool {
    if matches!(field, "first_seen" | "last_seen")
        && let (Some(a), Some(e)) = (actual.as_str(), expected.as_str())
        && let (Some(a), Some(e)) = (
            crate::ingest::time::parse_time(a),
            crate::ingest::time::parse_time(e),
        )
    {
        return a == e;
    }
    actual == expected
}

fn actual_field_names() -> impl Iterator<Item = &'static str> {
    [
        "id",
        "rule",
        "category",
        "severity",
        "title",
        "principal",
        "principal_name",
        "principal_kind",
        "vault",
        "object",
        "operations",
        "first_seen",
        "last_seen",
        "event_count",
        "evidence",
        "message",
        "remediation",
    ]
    .into_iter()
}

/// Runs every case of the files, in order.
pub fn run_files(
    policies: &LoadedPolicies,
    files: &[(String, String)],
) -> anyhow::Result<Vec<CaseResult>> {
    let mut results = Vec::new();
    for (name, text) in files {
        let file = parse_test_file(name, text)?;
        for case in &file.cases {
            results.push(run_case(policies, name, case)?);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::pack::Source;

    /// The default pack's own cases, in the project's test suite.
    #[test]
    fn default_pack_cases_pass() {
        let policies = LoadedPolicies::from_sources(&Source::default_pack()).unwrap();
        let results = run_files(&policies, &default_test_files()).unwrap();
        assert!(results.len() >= 20, "only {} cases", results.len());
        let failed: Vec<_> = results
            .iter()
            .filter(|r| !r.passed())
            .map(|r| format!("{} / {}: {}", r.file, r.name, r.failures.join("; ")))
            .collect();
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn a_broken_expectation_fails() {
        let policies = LoadedPolicies::from_sources(&Source::default_pack()).unwrap();
        let case: TestCase = serde_json::from_value(serde_json::json!({
            "name": "purge",
            "events": [{"operation": "SecretPurge", "object_name": "db", "http_status": 204}],
            "expect": [{"rule": "kv-purge", "event_count": 2}]
        }))
        .unwrap();
        let result = run_case(&policies, "t.json", &case).unwrap();
        assert_eq!(result.failures.len(), 2, "{:?}", result.failures);
        assert!(
            result.failures[0].contains("found {rule: kv-purge"),
            "{:?}",
            result.failures
        );
        assert!(result.failures[1].starts_with("unexpected finding"));
    }

    #[test]
    fn test_file_errors_are_located() {
        let err = parse_test_file("x.json", "{\n  \"cases\": [ {\"nme\": 1} ]\n}").unwrap_err();
        assert!(err.to_string().starts_with("x.json:2:"), "{err}");
    }
}
