//! `findings.sarif` end to end: `kvaudit audit --format sarif` and a
//! scheduled run write a log that the official SARIF 2.1.0 schema
//! (`tests/data/sarif-schema-2.1.0.json`, source in its `.SOURCE.md`)
//! accepts, with one result per finding of `findings.json`, rules for every
//! result, and the finding ids as fingerprints.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{data, kvaudit, sample_logs};

/// The official schema, compiled with format assertions on (`uri`,
/// `date-time`), from the local file only: boon loads no URL over a network.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let text = std::fs::read_to_string(data("sarif-schema-2.1.0.json")).unwrap();
        let schema: Value = serde_json::from_str(&text).unwrap();
        let id = schema["id"].as_str().unwrap().to_owned();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler.add_resource(&id, schema).unwrap();
        let mut schemas = boon::Schemas::new();
        let index = compiler.compile(&id, &mut schemas).unwrap();
        Validator { schemas, index }
    }

    fn check(&self, log: &Value) -> Result<(), String> {
        self.schemas
            .validate(log, self.index)
            .map_err(|e| format!("{e:#}"))
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn audit(input: &Path, out: &Path, format: &str) -> std::process::Output {
    kvaudit()
        .env("SOURCE_DATE_EPOCH", "1764115200")
        .arg("audit")
        .arg(input)
        .args(["--quiet", "--format", format, "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// What every kvaudit SARIF log must hold against its `findings.json`.
fn assert_matches_findings(log: &Value, findings: &[Value]) {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "kvaudit");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len(), "one result per finding");

    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let finding_rules: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rule_ids.iter().copied().collect::<BTreeSet<_>>(),
        finding_rules,
        "one rule per rule that has a finding"
    );
    assert_eq!(rule_ids.len(), finding_rules.len(), "no rule twice");
    for rule in rules {
        assert!(rule["shortDescription"]["text"].is_string(), "{rule}");
        assert!(rule["help"]["text"].is_string(), "{rule}");
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score), "{rule}");
    }

    // Results are in findings.json's order: pair them up.
    for (result, finding) in results.iter().zip(findings) {
        let rule_id = result["ruleId"].as_str().unwrap();
        assert!(rule_ids.contains(&rule_id), "{rule_id} is not in rules");
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], rule_id, "ruleIndex points at its rule");
        assert_eq!(rule_id, finding["rule"]);
        assert_eq!(
            result["partialFingerprints"]["kvauditFindingId/v1"], finding["id"],
            "the fingerprint is the finding id"
        );
        assert_eq!(result["message"]["text"], finding["message"]);
        let level = match finding["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], level, "{finding}");
        let location = &result["locations"][0];
        let uri = location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("azure-keyvault://"), "{uri}");
        let logical = &location["logicalLocations"][0];
        assert_eq!(logical["kind"], "resource");
        let vault = finding["vault"].as_str().unwrap();
        let qualified = match finding["object"].as_str() {
            Some(object) => format!("{vault}/{object}"),
            None => vault.to_owned(),
        };
        assert_eq!(logical["fullyQualifiedName"], qualified.as_str());
        assert_eq!(result["properties"]["eventCount"], finding["event_count"]);
        assert_eq!(result["properties"]["firstSeen"], finding["first_seen"]);
    }
    let ids: BTreeSet<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), findings.len(), "finding ids are unique");
}

/// `kvaudit audit sample-logs/ --format json,sarif`, run once per test binary.
fn sample_audit() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let run = audit(Path::new(&sample_logs()), dir.path(), "json,sarif");
        assert!(run.status.success(), "{run:?}");
        dir
    })
    .path()
}

#[test]
fn audit_writes_a_schema_valid_log_with_a_result_per_finding() {
    let validator = Validator::new();
    let a = sample_audit();
    let b = tempfile::tempdir().unwrap();
    let log = read_json(&a.join("findings.sarif"));
    validator.check(&log).unwrap();
    let findings = read_json(&a.join("findings.json"));
    let findings = findings.as_array().unwrap();
    assert!(findings.len() > 10, "the sample logs have findings");
    assert_matches_findings(&log, findings);
    assert!(
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("baselineState").is_none()),
        "kvaudit audit has no previous run to compare with"
    );
    // Only what was asked for; the same logs give the same bytes.
    assert!(!a.join("report.html").exists());
    let run = audit(Path::new(&sample_logs()), b.path(), "sarif");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(
        std::fs::read(a.join("findings.sarif")).unwrap(),
        std::fs::read(b.path().join("findings.sarif")).unwrap(),
        "findings.sarif differs between two runs"
    );
    assert!(!b.path().join("findings.json").exists());
}

#[test]
fn the_default_formats_write_no_sarif() {
    let out = tempfile::tempdir().unwrap();
    let run = kvaudit()
        .arg("audit")
        .arg(data("hostile/PT1H.json"))
        .args(["--quiet", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert!(out.path().join("findings.json").exists());
    assert!(!out.path().join("findings.sarif").exists());
}

#[test]
fn the_validator_rejects_a_broken_log() {
    let validator = Validator::new();
    let log = read_json(&sample_audit().join("findings.sarif"));
    validator.check(&log).unwrap();
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut copy = log.clone();
        edit(&mut copy);
        copy
    };
    let plants: [(&str, Value); 6] = [
        (
            "a level SARIF does not have",
            broken(&|l: &mut Value| l["runs"][0]["results"][0]["level"] = "critical".into()),
        ),
        (
            "a result without its message",
            broken(&|l: &mut Value| {
                l["runs"][0]["results"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("message");
            }),
        ),
        (
            "another version",
            broken(&|l: &mut Value| l["version"] = "2.0.0".into()),
        ),
        (
            "a tool without a driver name",
            broken(&|l: &mut Value| {
                l["runs"][0]["tool"]["driver"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name");
            }),
        ),
        (
            "a negative rule index",
            broken(&|l: &mut Value| l["runs"][0]["results"][0]["ruleIndex"] = (-2).into()),
        ),
        (
            "a baselineState SARIF does not have",
            broken(&|l: &mut Value| l["runs"][0]["results"][0]["baselineState"] = "open".into()),
        ),
    ];
    for (what, plant) in plants {
        assert!(validator.check(&plant).is_err(), "accepted {what}");
    }
}

#[test]
fn hostile_log_text_stays_data_in_the_sarif_log() {
    let validator = Validator::new();
    let out = tempfile::tempdir().unwrap();
    let run = audit(&data("hostile/PT1H.json"), out.path(), "json,sarif");
    assert!(run.status.success(), "{run:?}");
    let log = read_json(&out.path().join("findings.sarif"));
    validator.check(&log).unwrap();
    let findings = read_json(&out.path().join("findings.json"));
    let findings = findings.as_array().unwrap();
    assert!(!findings.is_empty());
    assert_matches_findings(&log, findings);
    for (result, finding) in log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(findings)
    {
        assert_eq!(
            result["properties"]["principalName"],
            finding["principal_name"]
        );
        assert_eq!(result["properties"]["object"], finding["object"]);
    }
}

#[test]
fn a_scheduled_run_marks_every_result_new_on_its_first_run() {
    let validator = Validator::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kvaudit.toml");
    std::fs::write(
        &config,
        format!(
            "state = \"state\"\nout = \"reports/current\"\nformat = [\"json\", \"sarif\"]\n\
             quiet = true\n[sources]\npaths = [{}]\n",
            serde_json::to_string(&sample_logs()).unwrap()
        ),
    )
    .unwrap();
    let run = kvaudit()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(matches!(run.status.code(), Some(0 | 1)), "{run:?}");
    let reports = dir.path().join("reports/current");
    let log = read_json(&reports.join("findings.sarif"));
    validator.check(&log).unwrap();
    let findings = read_json(&reports.join("findings.json"));
    let findings = findings.as_array().unwrap();
    assert!(!findings.is_empty());
    assert_matches_findings(&log, findings);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["baselineState"] == "new"),
        "{:?}",
        results
            .iter()
            .map(|r| &r["baselineState"])
            .collect::<Vec<_>>()
    );
    assert!(
        !reports.join("report.html").exists(),
        "format is the file's"
    );
}
