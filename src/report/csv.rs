//! `findings.csv`, `identities.csv` and the other tables of a report, for
//! spreadsheets.
//!
//! Every file is UTF-8, comma-separated, quoted where needed, with a header
//! row (written even when there are no rows). Lists inside a cell are joined
//! with `;` (client applications with ` | `, because user agents contain `;`).
//! Times are RFC 3339 UTC. The same run over the same inputs writes the same
//! bytes.
//!
//! Every cell that starts with `=`, `+`, `-`, `@`, tab or carriage return gets
//! a leading `'`, so that a spreadsheet shows it as text instead of running it
//! as a formula: log values (UPNs, client info, object names) are written by
//! the vault's callers.
//!
//! # `findings.csv`
//! One row per finding, most severe first (the order of `findings.json`):
//!
//! | column | meaning |
//! |---|---|
//! | `id` | stable finding id (same rule, principal, vault and object give the same id) |
//! | `severity` | `critical`, `high`, `medium`, `low` or `info` |
//! | `category` | `least-privilege`, `unused-permission`, `abnormal-rate`, `failed-access`, `sensitive-operation`, `best-practice` or `rotation` |
//! | `rule` | the policy's `@id` |
//! | `title` | the policy's `@title` |
//! | `principal` | caller object id, empty when the calls had none |
//! | `principal_name` | UPN or other display name, when known |
//! | `principal_kind` | `user`, `service-principal`, `managed-identity`, `microsoft-service`, `unauthenticated` or `unknown` |
//! | `vault` | vault name |
//! | `object` | secret, key or certificate name; empty for vault-level findings |
//! | `operations` | operation names, `;`-separated |
//! | `first_seen`, `last_seen` | time of the first and last matching event |
//! | `event_count` | matching events |
//! | `message` | what happened, in a sentence |
//! | `remediation` | what to do about it |
//! | `evidence_times` | times of up to 10 example events, `;`-separated |
//! | `evidence_sources` | their `file:line`, `;`-separated, same order |
//! | `evidence_correlation_ids` | their correlation ids (empty where none), `;`-separated, same order |
//!
//!
//! In a run of the scheduled job (`kvaudit run`), a last column follows:
//!
//! | column | meaning |
//! |---|---|
//! | `status` | `new` (not active in the previous run) or `open` (active then too) |
//!
//! # `suppressed.csv`
//! Written by the scheduled job ([`crate::report::job`]): one row per finding
//! a live suppression covers, with the columns of `findings.csv`, then:
//!
//! | column | meaning |
//! |---|---|
//! | `suppression_reason`, `suppression_owner` | why, and who answers for it |
//! | `suppression_expires` | the last day it applies, `YYYY-MM-DD` |
//! | `suppression_source` | `file:line` of the entry in the suppressions file |
//!
//! # `identities.csv`
//! One row per caller (object id and identity kind), most events first:
//!
//! | column | meaning |
//! |---|---|
//! | `principal_id` | object id, empty for callers without one (unauthenticated challenges) |
//! | `display_name` | UPN, managed identity name, Microsoft service name, app id or object id |
//! | `kind` | identity kind, as in `findings.csv` |
//! | `credentials` | credential kinds seen (`none`, `client-secret`, `certificate`), `;`-separated |
//! | `app_id` | application (client) id |
//! | `upn` | user principal name |
//! | `managed_identity` | managed identity resource id |
//! | `vaults` | vaults called, `;`-separated |
//! | `operations` | operations called, `;`-separated |
//! | `clients` | up to 3 most frequent client applications (user agents), ` \| `-separated |
//! | `first_seen`, `last_seen` | first and last event |
//! | `events` | events |
//! | `failures` | non-2xx events, routine authentication challenges excluded |
//!
//! # `unused-permissions.csv`
//! Written when the run has an inventory (`--inventory`): one row per
//! principal, vault and permission granted and not used in the observed
//! period (see [`crate::analyze::privilege`]):
//!
//! | column | meaning |
//! |---|---|
//! | `vault`, `permission_model` | vault name; `rbac`, `access-policy` or `unknown` |
//! | `principal`, `principal_name`, `principal_kind` | object id, display name, kind |
//! | `permission` | `secrets:list` (access policies), an RBAC data action, or `role: <name>` (no-data rows) |
//! | `granted_by` | `access policy`, or the roles (or scope) that grant it |
//! | `status` | `unused` (active, never needed it), `dormant` (no activity at all), `no-data` (no events for the vault: not judged) |
//! | `observed_from`, `observed_to`, `observed_days` | the vault's observed period |
//! | `provisional` | `true` when the period is shorter than `--min-observation-days` |
//! | `recommendation` | the `az` command(s) that apply the recommended grant, or why none is made |

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use crate::analyze::activity::IdentityRow;
use crate::analyze::policy::findings::sort_findings;
use crate::analyze::policy::{Evidence, Finding};
use crate::analyze::privilege::UnusedPermission;
use crate::analyze::suppressions::Suppression;
use crate::analyze::trends::Status;
use crate::files::write_atomically;
use crate::report::ReportContext;
use crate::text::escape_deceptive;

pub const FINDINGS_CSV: &str = "findings.csv";
pub const IDENTITIES_CSV: &str = "identities.csv";
pub const UNUSED_PERMISSIONS_CSV: &str = "unused-permissions.csv";

pub const UNUSED_PERMISSIONS_COLUMNS: [&str; 14] = [
    "vault",
    "permission_model",
    "principal",
    "principal_name",
    "principal_kind",
    "permission",
    "granted_by",
    "status",
    "observed_from",
    "observed_to",
    "observed_days",
    "provisional",
    "recommendation",
    "finding_rule",
];

/// A finding's cell in one column.
type Cell = fn(&Finding) -> String;

/// `findings.csv`'s columns, in order, each with its cell: the one place
/// that says how a finding becomes a row.
const FINDING_CELLS: [(&str, Cell); 19] = [
    ("id", |f| f.id.clone()),
    ("severity", |f| f.severity.as_str().to_owned()),
    ("category", |f| f.category.as_str().to_owned()),
    ("rule", |f| f.rule.clone()),
    ("title", |f| f.title.clone()),
    ("principal", |f| opt(&f.principal)),
    ("principal_name", |f| opt(&f.principal_name)),
    ("principal_kind", |f| f.principal_kind.clone()),
    ("vault", |f| f.vault.clone()),
    ("object", |f| opt(&f.object)),
    ("operations", |f| f.operations.join(";")),
    ("first_seen", |f| f.first_seen.clone()),
    ("last_seen", |f| f.last_seen.clone()),
    ("event_count", |f| f.event_count.to_string()),
    ("message", |f| f.message.clone()),
    ("remediation", |f| f.remediation.clone()),
    ("evidence_times", |f| evidence(f, |e| e.time.clone())),
    ("evidence_sources", |f| evidence(f, |e| e.source.clone())),
    ("evidence_correlation_ids", |f| {
        evidence(f, |e| opt(&e.correlation_id))
    }),
];

/// `findings.csv`'s columns, in order.
pub fn findings_columns() -> impl Iterator<Item = &'static str> {
    FINDING_CELLS.iter().map(|(name, _)| *name)
}

/// One part of each example event, `;`-separated.
fn evidence(f: &Finding, part: fn(&Evidence) -> String) -> String {
    f.evidence.iter().map(part).collect::<Vec<_>>().join(";")
}

/// Last column of `findings.csv` in a scheduled run.
pub const STATUS_COLUMN: &str = "status";

/// The suppression's columns of `suppressed.csv`, after the finding's.
pub const SUPPRESSION_COLUMNS: [&str; 4] = [
    "suppression_reason",
    "suppression_owner",
    "suppression_expires",
    "suppression_source",
];

pub const IDENTITIES_COLUMNS: [&str; 14] = [
    "principal_id",
    "display_name",
    "kind",
    "credentials",
    "app_id",
    "upn",
    "managed_identity",
    "vaults",
    "operations",
    "clients",
    "first_seen",
    "last_seen",
    "events",
    "failures",
];

/// Makes a cell safe to open in a spreadsheet: a cell that starts like a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return) gets a leading `'`,
/// and control and bidirectional characters show escaped (`\u{202e}`),
/// newlines excepted (quoting keeps them inside the cell).
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let cell = escape_deceptive(cell, &['\n', '\t', '\r']);
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell,
    }
}

fn to_csv<R: AsRef<[String]>>(
    header: &[&str],
    rows: impl Iterator<Item = R>,
) -> anyhow::Result<Vec<u8>> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(
            row.as_ref()
                .iter()
                .map(|cell| neutralise(cell).into_owned()),
        )?;
    }
    writer.into_inner().context("cannot finish a CSV file")
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// One finding's cells, in column order.
fn finding_cells(f: &Finding) -> Vec<String> {
    FINDING_CELLS.iter().map(|(_, cell)| cell(f)).collect()
}

/// `findings.csv`, sorted like `findings.json`.
pub fn findings_csv(findings: &[Finding]) -> anyhow::Result<Vec<u8>> {
    let mut sorted = findings.to_vec();
    sort_findings(&mut sorted);
    let header: Vec<&str> = findings_columns().collect();
    to_csv(&header, sorted.iter().map(finding_cells))
}

/// `findings.csv` of a scheduled run: its columns, then `status`
/// (`new` or `open`). The column comes last so that the columns a plain
/// audit writes keep their places.
pub fn findings_csv_with_status(
    findings: &[Finding],
    statuses: &BTreeMap<String, Status>,
) -> anyhow::Result<Vec<u8>> {
    let mut sorted = findings.to_vec();
    sort_findings(&mut sorted);
    let header: Vec<&str> = findings_columns().chain([STATUS_COLUMN]).collect();
    to_csv(
        &header,
        sorted.iter().map(|f| {
            let status = statuses.get(&f.id).map_or("", |s| s.as_str());
            let mut row = finding_cells(f);
            row.push(status.to_owned());
            row
        }),
    )
}

/// `suppressed.csv`: each suppressed finding (`findings.csv`'s columns) with the
/// suppression that took it ([`SUPPRESSION_COLUMNS`]), in the order given.
pub fn suppressed_csv(suppressed: &[(&Finding, &Suppression)]) -> anyhow::Result<Vec<u8>> {
    let header: Vec<&str> = findings_columns().chain(SUPPRESSION_COLUMNS).collect();
    to_csv(
        &header,
        suppressed.iter().map(|(finding, suppression)| {
            let mut row = finding_cells(finding);
            row.extend([
                suppression.reason.clone(),
                suppression.owner.clone(),
                suppression.expires.format("%Y-%m-%d").to_string(),
                suppression.source(),
            ]);
            row
        }),
    )
}

/// `identities.csv`, most events first.
pub fn identities_csv(identities: &[IdentityRow]) -> anyhow::Result<Vec<u8>> {
    to_csv(
        &IDENTITIES_COLUMNS,
        identities.iter().map(|i| {
            [
                opt(&i.principal_id),
                i.display_name.clone(),
                i.kind.clone(),
                i.credentials.join(";"),
                opt(&i.app_id),
                opt(&i.upn),
                opt(&i.managed_identity),
                i.vaults.join(";"),
                i.operations.join(";"),
                i.clients.join(" | "),
                i.first_seen.clone(),
                i.last_seen.clone(),
                i.events.to_string(),
                i.failures.to_string(),
            ]
        }),
    )
}

/// `unused-permissions.csv`, in the analysis' order (vault, then principal).
pub fn unused_permissions_csv(rows: &[UnusedPermission]) -> anyhow::Result<Vec<u8>> {
    let mut sorted = rows.to_vec();
    sorted.sort_by(|a, b| {
        (&a.vault, &a.principal, a.status, &a.permission).cmp(&(
            &b.vault,
            &b.principal,
            b.status,
            &b.permission,
        ))
    });
    to_csv(
        &UNUSED_PERMISSIONS_COLUMNS,
        sorted.iter().map(|r| {
            [
                r.vault.clone(),
                r.permission_model.to_owned(),
                r.principal.clone(),
                r.principal_name.clone(),
                r.principal_kind.clone(),
                r.permission.clone(),
                r.granted_by.clone(),
                r.status.to_owned(),
                r.observed_from.clone(),
                r.observed_to.clone(),
                format!("{:.1}", r.observed_days),
                r.provisional.to_string(),
                r.recommendation.clone(),
                r.finding_rule.to_owned(),
            ]
        }),
    )
}

/// Writes `DIR/unused-permissions.csv` (atomically, creating `DIR`).
pub fn write_unused_permissions(dir: &Path, rows: &[UnusedPermission]) -> anyhow::Result<()> {
    write_atomically(
        &dir.join(UNUSED_PERMISSIONS_CSV),
        &unused_permissions_csv(rows)?,
    )
}

/// Writes `DIR/findings.csv` (with its `status` column when the context has
/// a job report) and `DIR/identities.csv` (atomically, creating `DIR`).
pub fn write_csv(dir: &Path, ctx: &ReportContext) -> anyhow::Result<()> {
    let identities = &ctx.analysis.activity.identities;
    let findings = match ctx.job {
        Some(job) => findings_csv_with_status(ctx.findings, &job.trends.statuses)?,
        None => findings_csv(ctx.findings)?,
    };
    write_atomically(&dir.join(FINDINGS_CSV), &findings)?;
    write_atomically(&dir.join(IDENTITIES_CSV), &identities_csv(identities)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::{Category, Severity};

    fn finding(rule: &str, severity: Severity, principal_name: &str) -> Finding {
        Finding {
            id: format!("{rule}-id"),
            rule: rule.into(),
            category: Category::SensitiveOperation,
            severity,
            title: "Secret purged".into(),
            principal: Some("11111111-2222-4333-8444-555555555555".into()),
            principal_name: Some(principal_name.into()),
            principal_kind: "user".into(),
            vault: "kv-prod".into(),
            object: Some("=cmd|' /C calc'!A0".into()),
            operations: vec!["SecretDelete".into(), "SecretPurge".into()],
            first_seen: "2026-11-20T10:00:00.000000Z".into(),
            last_seen: "2026-11-20T11:00:00.000000Z".into(),
            event_count: 2,
            evidence: vec![
                Evidence {
                    correlation_id: Some("c1".into()),
                    source: "a/PT1H.json:3".into(),
                    time: "2026-11-20T10:00:00.000000Z".into(),
                },
                Evidence {
                    correlation_id: None,
                    source: "a/PT1H.json:9".into(),
                    time: "2026-11-20T11:00:00.000000Z".into(),
                },
            ],
            message: "-2+3 someone purged".into(),
            remediation: "Enable purge protection.".into(),
        }
    }

    fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes);
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["", "a=1", "kv-prod", "1", " =1", "two\nlines"] {
            assert_eq!(neutralise(cell), cell);
        }
        assert_eq!(
            neutralise("report\u{202e}fdp.exe"),
            "report\\u{202e}fdp.exe"
        );
        assert_eq!(neutralise("\u{1b}[2J=1"), "\\u{1b}[2J=1");
        assert_eq!(neutralise("\t=1"), "'\t=1");
    }

    #[test]
    fn findings_csv_has_the_documented_columns_sorted_rows_and_no_formulas() {
        let findings = [
            finding("b-rule", Severity::Low, "dana@contoso.com"),
            finding("a-rule", Severity::Critical, "@evil"),
        ];
        let rows = parse(&findings_csv(&findings).unwrap());
        assert_eq!(rows[0], findings_columns().collect::<Vec<_>>());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1][1], "critical", "most severe first");
        assert_eq!(rows[1][6], "'@evil");
        assert_eq!(rows[1][9], "'=cmd|' /C calc'!A0");
        assert_eq!(rows[1][10], "SecretDelete;SecretPurge");
        assert_eq!(rows[1][14], "'-2+3 someone purged");
        assert_eq!(
            rows[1][16],
            "2026-11-20T10:00:00.000000Z;2026-11-20T11:00:00.000000Z"
        );
        assert_eq!(rows[1][17], "a/PT1H.json:3;a/PT1H.json:9");
        assert_eq!(rows[1][18], "c1;");
        for row in &rows[1..] {
            assert_eq!(row.len(), findings_columns().count());
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?}"
                );
            }
        }
    }

    #[test]
    fn a_scheduled_run_adds_the_status_as_the_last_column() {
        use crate::analyze::trends::Status;
        let findings = [
            finding("b-rule", Severity::Low, "dana@contoso.com"),
            finding("a-rule", Severity::Critical, "erin@contoso.com"),
        ];
        let statuses = BTreeMap::from([
            ("a-rule-id".to_owned(), Status::New),
            ("b-rule-id".to_owned(), Status::Open),
        ]);
        let rows = parse(&findings_csv_with_status(&findings, &statuses).unwrap());
        let columns: Vec<_> = findings_columns().collect();
        assert_eq!(rows[0][..columns.len()], columns);
        assert_eq!(rows[0].last().unwrap(), STATUS_COLUMN);
        let plain = parse(&findings_csv(&findings).unwrap());
        for (with_status, without) in rows.iter().zip(&plain).skip(1) {
            assert_eq!(with_status[..columns.len()], without[..]);
        }
        let status: Vec<_> = rows[1..]
            .iter()
            .map(|r| r.last().unwrap().as_str())
            .collect();
        assert_eq!(status, ["new", "open"]);
    }

    #[test]
    fn empty_files_still_have_a_header() {
        let rows = parse(&findings_csv(&[]).unwrap());
        assert_eq!(
            rows,
            vec![findings_columns().map(str::to_owned).collect::<Vec<_>>()]
        );
        let rows = parse(&identities_csv(&[]).unwrap());
        assert_eq!(rows, vec![IDENTITIES_COLUMNS.map(str::to_owned).to_vec()]);
    }

    #[test]
    fn identities_csv_joins_lists_and_neutralises_client_info() {
        let row = IdentityRow {
            principal_id: None,
            display_name: "unauthenticated callers".into(),
            kind: "unauthenticated".into(),
            credentials: vec![],
            app_id: None,
            upn: None,
            managed_identity: None,
            vaults: vec!["kv-a".into(), "kv-b".into()],
            operations: vec!["Authentication".into()],
            clients: vec![
                "=HYPERLINK(\"http://x\")".into(),
                "Mozilla/5.0 (X11; Linux)".into(),
            ],
            first_seen: "2026-11-20T10:00:00.000000Z".into(),
            last_seen: "2026-11-20T10:00:00.000000Z".into(),
            events: 4,
            failures: 0,
        };
        let rows = parse(&identities_csv(&[row]).unwrap());
        assert_eq!(rows[0], IDENTITIES_COLUMNS);
        assert_eq!(rows[1][0], "");
        assert_eq!(rows[1][7], "kv-a;kv-b");
        assert_eq!(
            rows[1][9],
            "'=HYPERLINK(\"http://x\") | Mozilla/5.0 (X11; Linux)"
        );
        assert_eq!(rows[1][12], "4");
    }

    #[test]
    fn unused_permissions_are_one_row_each_and_guarded() {
        let row = UnusedPermission {
            vault: "kv-web-prod".into(),
            permission_model: "access-policy",
            principal: "oid-1".into(),
            principal_name: "=HYPERLINK(\"http://x\")".into(),
            principal_kind: "managed-identity".into(),
            permission: "secrets:list".into(),
            granted_by: "access policy".into(),
            status: "unused",
            observed_from: "2026-11-16T00:00:00.000000Z".into(),
            observed_to: "2026-11-22T23:59:00.000000Z".into(),
            observed_days: 6.99,
            provisional: true,
            recommendation: "az keyvault set-policy --name kv-web-prod".into(),
            finding_rule: "unused-permission",
        };
        let text = String::from_utf8(unused_permissions_csv(&[row]).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), UNUSED_PERMISSIONS_COLUMNS.join(","));
        let line = lines.next().unwrap();
        assert!(
            line.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
            "{line}"
        );
        assert!(line.contains(",7.0,true,"), "{line}");
        assert!(lines.next().is_none());
    }
}
