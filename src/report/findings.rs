//! `findings.json`: every finding of a run, one JSON array sorted
//! deterministically so that two runs over the same logs write the same bytes.

use std::path::Path;

use serde::Serialize;

use crate::analyze::policy::Finding;
use crate::analyze::policy::findings::sort_findings;
use crate::files::write_atomically;

/// A finding as the page shows it: the finding's own fields, and its status
/// against the scheduled job's previous run.
#[derive(Debug, Serialize)]
pub struct ShownFinding<'a> {
    #[serde(flatten)]
    pub finding: &'a Finding,
    /// `new` or `open`; `None` outside the job.
    pub status: Option<&'static str>,
}

/// File name of the findings report inside the output directory.
pub const FINDINGS_FILE: &str = "findings.json";

/// The findings as pretty JSON, sorted: most severe first, then rule, vault,
/// principal and object.
pub fn findings_json(findings: &[Finding]) -> anyhow::Result<String> {
    let mut sorted = findings.to_vec();
    sort_findings(&mut sorted);
    let mut text = serde_json::to_string_pretty(&sorted)?;
    text.push('\n');
    Ok(text)
}

/// Writes `DIR/findings.json` (atomically, creating `DIR`).
pub fn write_findings(dir: &Path, findings: &[Finding]) -> anyhow::Result<()> {
    write_atomically(
        &dir.join(FINDINGS_FILE),
        findings_json(findings)?.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::{Category, Severity};

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding {
            id: format!("{rule}-id"),
            rule: rule.into(),
            category: Category::BestPractice,
            severity,
            title: "t".into(),
            principal: None,
            principal_name: None,
            principal_kind: "user".into(),
            vault: "kv".into(),
            object: None,
            operations: vec![],
            first_seen: "2026-01-01T00:00:00.000000Z".into(),
            last_seen: "2026-01-01T00:00:00.000000Z".into(),
            event_count: 1,
            evidence: vec![],
            message: "m".into(),
            remediation: "r".into(),
        }
    }

    #[test]
    fn output_is_sorted_and_identical_whatever_the_input_order() {
        let a = [
            finding("b", Severity::Low),
            finding("a", Severity::High),
            finding("c", Severity::Low),
        ];
        let mut b = a.clone();
        b.reverse();
        let (ja, jb) = (findings_json(&a).unwrap(), findings_json(&b).unwrap());
        assert_eq!(ja, jb);
        let parsed: serde_json::Value = serde_json::from_str(&ja).unwrap();
        let rules: Vec<_> = parsed
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["a", "b", "c"]);
        let dir = tempfile::tempdir().unwrap();
        write_findings(dir.path(), &a).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FINDINGS_FILE)).unwrap(),
            ja
        );
    }
}
