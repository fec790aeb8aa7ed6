//! `findings.sarif`: the findings as a SARIF 2.1.0 log, for GitHub code
//! scanning (`github/codeql-action/upload-sarif`) and the SARIF SAST Scans
//! tab of Azure DevOps.
//!
//! One run whose `tool.driver` is kvaudit, with one `reportingDescriptor`
//! per rule that has a finding (sorted by rule id) and one `result` per
//! finding (in the order of `findings.json`). A scheduled run also writes
//! the open findings it carries from earlier runs (`trends.json`'s
//! `carried`), as `unchanged` results: code scanning closes an alert that an
//! upload leaves out, and a finding is not over because a day's logs did
//! not repeat it.
//!
//! | SARIF | from the finding |
//! |---|---|
//! | `rules[].id`, `.name` | the rule id (`kv-purge`), and it in PascalCase (`KvPurge`) |
//! | `rules[].shortDescription` | the rule's title |
//! | `rules[].fullDescription`, `.help` | the rule's remediation |
//! | `rules[].defaultConfiguration.level` | the most severe of the rule's findings: critical and high `error`, medium `warning`, low and info `note` |
//! | `rules[].properties` | `category`, `severity`, `tags` (`security` and the category), `security-severity` (critical 9.5, high 8.0, medium 5.5, low 3.0, info 1.0; what GitHub ranks alerts by) |
//! | `results[].ruleId`, `.ruleIndex`, `.level` | the rule, its index in `rules`, the finding's own severity as a level |
//! | `results[].message.text` | the finding's message |
//! | `results[].locations[0]` | `physicalLocation.artifactLocation.uri` `azure-keyvault://VAULT` (the vault name percent-encoded), and a `logicalLocations` entry of kind `resource` named `VAULT` or `VAULT/OBJECT` |
//! | `results[].partialFingerprints` | `kvauditFindingId/v1`: the finding id (stable across runs), so that GitHub follows one alert across runs |
//! | `results[].baselineState` | in a scheduled run (`kvaudit run`): `new` or `unchanged` (open since the previous run); absent for `kvaudit audit` |
//! | `results[].properties` | `findingId`, `severity`, `category`, `principal`, `principalName`, `principalKind`, `object`, `operations`, `firstSeen`, `lastSeen`, `eventCount` |
//!
//! Object names, principal names and messages come from the logs and are
//! written by the vault's callers: serde_json escapes every string, and the
//! URI percent-encodes the vault name. No timestamp of the run is written,
//! so the same logs give the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::analyze::policy::findings::sort_findings;
use crate::analyze::policy::{Finding, Severity};
use crate::analyze::trends::{CarriedFinding, Status};
use crate::files::write_atomically;
use crate::report::ReportContext;

/// File name of the SARIF log inside the output directory.
pub const SARIF_FILE: &str = "findings.sarif";

/// The schema the log declares (OASIS, SARIF 2.1.0 errata 01).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `partialFingerprints` key that holds the finding id.
pub const FINGERPRINT_KEY: &str = "kvauditFindingId/v1";

/// The URI scheme of a finding's location: `azure-keyvault://VAULT`.
pub const LOCATION_SCHEME: &str = "azure-keyvault";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<String>,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Text<'a>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    category: &'static str,
    severity: &'static str,
    tags: [&'static str; 2],
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text<'a>,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    logical_locations: [LogicalLocation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    finding_id: &'a str,
    severity: &'static str,
    category: &'static str,
    principal: Option<&'a str>,
    principal_name: Option<&'a str>,
    principal_kind: &'a str,
    object: Option<&'a str>,
    operations: &'a [String],
    first_seen: &'a str,
    last_seen: &'a str,
    event_count: u64,
}

/// The SARIF level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity` (a score from 0.0 to 10.0 as a
/// string: over 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, under 4.0 low).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A rule id as a SARIF rule name: `kv-mass-secret-retrieval` ->
/// `KvMassSecretRetrieval`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so that a
/// vault name from a log always makes a valid URI host.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `azure-keyvault://VAULT` URI of a vault.
pub fn vault_uri(vault: &str) -> String {
    format!("{LOCATION_SCHEME}://{}", percent_encode(vault))
}

/// `new` or `unchanged` for a finding of a scheduled run.
fn baseline_state(status: &Status) -> Option<&'static str> {
    match status {
        Status::New => Some("new"),
        Status::Open => Some("unchanged"),
        // Only active findings are reported; a resolved one has no result.
        _ => None,
    }
}

/// The project page the driver names: Cargo.toml's `repository`, when set.
fn information_uri() -> Option<String> {
    option_env!("CARGO_PKG_REPOSITORY")
        .filter(|repository| !repository.is_empty())
        .map(|repository| format!("{repository}#readme"))
}

/// The findings as a pretty SARIF 2.1.0 log. `statuses` (a scheduled run's
/// trend, by finding id) sets each result's `baselineState`.
pub fn sarif_json(
    findings: &[Finding],
    statuses: Option<&BTreeMap<String, Status>>,
) -> anyhow::Result<String> {
    let mut sorted = findings.to_vec();
    sort_findings(&mut sorted);

    // One descriptor per rule, sorted by id; its level is its most severe finding's.
    let mut by_rule: BTreeMap<&str, &Finding> = BTreeMap::new();
    for finding in &sorted {
        by_rule
            .entry(finding.rule.as_str())
            .and_modify(|worst| {
                if finding.severity > worst.severity {
                    *worst = finding;
                }
            })
            .or_insert(finding);
    }
    let index: BTreeMap<&str, usize> = by_rule.keys().enumerate().map(|(i, r)| (*r, i)).collect();
    let rules = by_rule
        .values()
        .map(|f| Rule {
            id: &f.rule,
            name: pascal_case(&f.rule),
            short_description: Text { text: &f.title },
            full_description: Text {
                text: &f.remediation,
            },
            help: Text {
                text: &f.remediation,
            },
            default_configuration: Configuration {
                level: level(f.severity),
            },
            properties: RuleProperties {
                category: f.category.as_str(),
                severity: f.severity.as_str(),
                tags: ["security", f.category.as_str()],
                security_severity: security_severity(f.severity),
            },
        })
        .collect();

    let results = sorted
        .iter()
        .map(|f| {
            let qualified = match &f.object {
                Some(object) => format!("{}/{object}", f.vault),
                None => f.vault.clone(),
            };
            SarifResult {
                rule_id: &f.rule,
                rule_index: index.get(f.rule.as_str()).copied().unwrap_or_default(),
                level: level(f.severity),
                message: Text { text: &f.message },
                locations: [Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: vault_uri(&f.vault),
                        },
                    },
                    logical_locations: [LogicalLocation {
                        name: f.object.clone().unwrap_or_else(|| f.vault.clone()),
                        fully_qualified_name: qualified,
                        kind: "resource",
                    }],
                }],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, f.id.as_str())]),
                baseline_state: statuses.and_then(|s| s.get(&f.id)).and_then(baseline_state),
                properties: ResultProperties {
                    finding_id: &f.id,
                    severity: f.severity.as_str(),
                    category: f.category.as_str(),
                    principal: f.principal.as_deref(),
                    principal_name: f.principal_name.as_deref(),
                    principal_kind: &f.principal_kind,
                    object: f.object.as_deref(),
                    operations: &f.operations,
                    first_seen: &f.first_seen,
                    last_seen: &f.last_seen,
                    event_count: f.event_count,
                },
            }
        })
        .collect();

    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "kvaudit",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: information_uri(),
                    rules,
                },
            },
            results,
        }],
    };
    let mut text = serde_json::to_string_pretty(&log)?;
    text.push('\n');
    Ok(text)
}

/// A finding a scheduled run carries (open from an earlier run, not raised
/// by this one) as a result: code scanning closes an alert that an upload
/// no longer contains, so an open finding must stay in the log until it is
/// over. Its remediation is its rule's, from a raised finding of the same
/// rule when there is one (the state does not keep it).
fn carried_result(carried: &CarriedFinding, raised: &[Finding]) -> Finding {
    let f = &carried.tracked.finding;
    let remediation = raised
        .iter()
        .find(|r| r.rule == f.rule)
        .map(|r| r.remediation.clone())
        .unwrap_or_else(|| {
            format!(
                "{}: the remediation is in the report of the run that first raised it.",
                f.title
            )
        });
    Finding {
        id: f.id.clone(),
        rule: f.rule.clone(),
        category: f.category,
        severity: f.severity,
        title: f.title.clone(),
        principal: f.principal.clone(),
        principal_name: f.principal_name.clone(),
        principal_kind: f.principal_kind.clone(),
        vault: f.vault.clone(),
        object: f.object.clone(),
        operations: Vec::new(),
        first_seen: f.first_seen.clone(),
        last_seen: f.last_seen.clone(),
        event_count: f.event_count,
        evidence: Vec::new(),
        message: format!(
            "{} (still open: last seen {}, not raised by this run; {})",
            f.title, f.last_seen, carried.open_because
        ),
        remediation,
    }
}

/// Writes `DIR/findings.sarif` (atomically, creating `DIR`): the run's
/// findings and, in a scheduled run, the open ones it carries.
pub fn write_sarif(dir: &Path, ctx: &ReportContext<'_>) -> anyhow::Result<()> {
    let statuses = ctx.job.map(|job| &job.trends.statuses);
    let mut findings = ctx.findings.to_vec();
    if let Some(job) = ctx.job {
        findings.extend(
            job.trends
                .carried
                .iter()
                .map(|c| carried_result(c, ctx.findings)),
        );
    }
    write_atomically(
        &dir.join(SARIF_FILE),
        sarif_json(&findings, statuses)?.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::Category;
    use serde_json::Value;

    fn finding(rule: &str, severity: Severity, id: &str) -> Finding {
        Finding {
            id: id.into(),
            rule: rule.into(),
            category: Category::SensitiveOperation,
            severity,
            title: format!("{rule} title"),
            principal: Some("00000000-0000-0000-0000-000000000001".into()),
            principal_name: Some("alice@contoso.com".into()),
            principal_kind: "user".into(),
            vault: "kv-web-prod".into(),
            object: Some("db-password".into()),
            operations: vec!["SecretGet".into()],
            first_seen: "2026-01-01T00:00:00.000000Z".into(),
            last_seen: "2026-01-02T00:00:00.000000Z".into(),
            event_count: 3,
            evidence: vec![],
            message: "m".into(),
            remediation: "r".into(),
        }
    }

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn one_rule_per_rule_id_and_one_result_per_finding() {
        let findings = [
            finding("kv-purge", Severity::High, "a1"),
            finding("kv-legacy-tls", Severity::Medium, "b2"),
            finding("kv-purge", Severity::Critical, "c3"),
        ];
        let log = parse(&sarif_json(&findings, None).unwrap());
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "kvaudit");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["kv-legacy-tls", "kv-purge"]);
        assert_eq!(rules[1]["name"], "KvPurge");
        // The rule takes its most severe finding's level.
        assert_eq!(rules[1]["defaultConfiguration"]["level"], "error");
        assert_eq!(rules[1]["properties"]["security-severity"], "9.5");
        assert_eq!(rules[0]["properties"]["security-severity"], "5.5");
        assert_eq!(rules[0]["defaultConfiguration"]["level"], "warning");
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        for result in results {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            assert!(result.get("baselineState").is_none());
        }
        // findings.json order: most severe first.
        assert_eq!(results[0]["partialFingerprints"][FINGERPRINT_KEY], "c3");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "azure-keyvault://kv-web-prod"
        );
        assert_eq!(
            results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "kv-web-prod/db-password"
        );
    }

    #[test]
    fn levels_and_scores_follow_severity() {
        assert_eq!(
            Severity::ALL.map(level),
            ["note", "note", "warning", "error", "error"]
        );
        assert_eq!(
            Severity::ALL.map(security_severity),
            ["1.0", "3.0", "5.5", "8.0", "9.5"]
        );
    }

    #[test]
    fn baseline_state_comes_from_the_job_statuses() {
        let findings = [
            finding("kv-purge", Severity::High, "a1"),
            finding("kv-purge", Severity::High, "b2"),
        ];
        let statuses =
            BTreeMap::from([("a1".to_owned(), Status::New), ("b2".into(), Status::Open)]);
        let log = parse(&sarif_json(&findings, Some(&statuses)).unwrap());
        let states: BTreeMap<String, String> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"][FINGERPRINT_KEY]
                        .as_str()
                        .unwrap()
                        .into(),
                    r["baselineState"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(states["a1"], "new");
        assert_eq!(states["b2"], "unchanged");
    }

    #[test]
    fn log_text_is_escaped_and_the_vault_uri_encoded() {
        let mut hostile = finding("kv-purge", Severity::Low, "a1");
        hostile.vault = "kv\"},{\"x\":1 /?#".into();
        hostile.message = "\"}]}\u{0}\n<script>".into();
        hostile.object = Some("a\"b".into());
        let text = sarif_json(&[hostile.clone()], None).unwrap();
        let log = parse(&text);
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["message"]["text"], hostile.message.as_str());
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "azure-keyvault://kv%22%7D%2C%7B%22x%22%3A1%20%2F%3F%23"
        );
        assert_eq!(
            result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            format!("{}/a\"b", hostile.vault)
        );
    }

    #[test]
    fn no_findings_is_an_empty_run() {
        let log = parse(&sarif_json(&[], None).unwrap());
        assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"],
            Value::Array(vec![])
        );
    }

    #[test]
    fn carried_findings_stay_in_the_log_as_unchanged_results() {
        let job = crate::report::job::fixture::second_run("r");
        let carried = &job.trends.carried[0];
        let mut findings = job.applied.findings.clone();
        findings.push(carried_result(carried, &job.applied.findings));
        let log = parse(&sarif_json(&findings, Some(&job.trends.statuses)).unwrap());
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), job.applied.findings.len() + 1);
        let id = &carried.tracked.finding.id;
        let result = results
            .iter()
            .find(|r| r["partialFingerprints"][FINGERPRINT_KEY] == id.as_str())
            .unwrap();
        assert_eq!(result["baselineState"], "unchanged");
        assert!(
            result["message"]["text"]
                .as_str()
                .unwrap()
                .contains("still open: last seen 2026-11-19"),
            "{result}"
        );
        // Its rule also has a raised finding, whose remediation it borrows.
        let rule = &log["runs"][0]["tool"]["driver"]["rules"]
            [result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], "kv-client-secret-credential");
        assert_eq!(
            rule["help"]["text"],
            "Move the application to a managed identity."
        );
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(
            pascal_case("kv-mass-secret-retrieval"),
            "KvMassSecretRetrieval"
        );
        assert_eq!(pascal_case("unused-permission"), "UnusedPermission");
    }
}
