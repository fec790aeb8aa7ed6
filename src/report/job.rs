//! The scheduled job's part of a report: what changed since the last run,
//! the trend over the run history, and the suppressions.
//!
//! A plain `kvaudit audit` has none of it (`ReportContext::job` is `None`)
//! and its reports are unchanged. With a [`JobReport`], report.html gains
//! the sections *Since the last run* (with the trend chart), *Suppressed
//! findings* and *Expired suppressions*, each finding in the findings table
//! is labelled `new` or `open`, `findings.csv` gains a `status` column, and
//! [`write_job_reports`] writes:
//!
//! - `suppressed.csv`: the columns of `findings.csv`, then
//!   `suppression_reason`, `suppression_owner`, `suppression_expires` and
//!   `suppression_source` (`file:line`), formula-guarded like every CSV;
//! - `suppressions.json`: `{today, suppressed: [{finding, suppression}],
//!   expired: [{suppression, findings}], unused: [suppression]}`;
//! - `trends.json`: `{first_run, statuses: {id: new|open}, carried,
//!   resolved (each with `resolution` fixed|quiet|aged-out and `reason`),
//!   newly_suppressed, resolving_held, history}`.
//!
//! Reasons, owners and patterns come from the suppressions file and finding
//! values from the logs: the page shows them through minijinja's
//! auto-escaping like everything else.

use std::path::Path;

use serde::Serialize;

use crate::analyze::policy::Finding;
use crate::analyze::suppressions::{Applied, Suppression, Suppressions};
use crate::analyze::trends::{
    CarriedFinding, FindingSnapshot, ResolvedFinding, RunRecord, Status, Trends,
};
use crate::files::write_atomically;
use crate::report::charts::{self, Chart};
use crate::report::csv::suppressed_csv;
use crate::report::findings::ShownFinding;

pub const SUPPRESSED_CSV: &str = "suppressed.csv";
pub const SUPPRESSIONS_JSON: &str = "suppressions.json";
pub const TRENDS_JSON: &str = "trends.json";

/// A live suppression this close to its expiry is flagged on the page, so
/// that its owner reviews it before its findings come back.
pub const EXPIRES_SOON_DAYS: i64 = 14;

/// What the scheduled job adds to a run's report.
///
/// The report's `findings` must be [`Applied::findings`] (the active ones);
/// the suppressed ones are reported from here.
#[derive(Debug, Clone, Copy)]
pub struct JobReport<'a> {
    pub suppressions: &'a Suppressions,
    pub applied: &'a Applied,
    pub trends: &'a Trends,
    /// The run history including this run, oldest first.
    pub history: &'a [RunRecord],
}

/// A suppression as the reports show it: the entry as written (its
/// patterns, reason, owner, `expires` as `YYYY-MM-DD`, `file` and `line`),
/// and how it stands on the run's day.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressionView {
    #[serde(flatten)]
    pub entry: Suppression,
    /// Days from the run's day to `expires`: negative once expired.
    pub expires_in_days: i64,
    /// `file:line` of the entry.
    pub source: String,
}

impl SuppressionView {
    fn of(suppression: &Suppression, applied: &Applied) -> SuppressionView {
        SuppressionView {
            entry: suppression.clone(),
            expires_in_days: (suppression.expires - applied.today).num_days(),
            source: suppression.source(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SuppressedView<'a> {
    pub finding: ShownFinding<'a>,
    pub suppression: SuppressionView,
}

#[derive(Debug, Serialize)]
pub struct ExpiredView {
    pub suppression: SuppressionView,
    /// Findings of this run it matches, active again.
    pub findings: usize,
}

/// What the job's sections of report.html read.
#[derive(Debug, Serialize)]
pub struct JobView<'a> {
    pub first_run: bool,
    pub new: u64,
    /// Open findings raised again and carried.
    pub open: u64,
    /// Open from earlier runs and not raised by this one.
    pub carried: Vec<CarriedFinding>,
    pub resolved: Vec<ResolvedFinding>,
    pub newly_suppressed: Vec<FindingSnapshot>,
    /// Why nothing could be resolved, when so.
    pub resolving_held: Option<String>,
    pub resolve_after_days: u32,
    pub open_days: u32,
    /// Runs in the history, this one included.
    pub runs: usize,
    /// From the second run on.
    pub trend: Option<Chart>,
    pub suppressed: Vec<SuppressedView<'a>>,
    pub expired: Vec<ExpiredView>,
    pub unused: Vec<SuppressionView>,
    pub expires_soon_days: i64,
}

impl JobReport<'_> {
    fn suppression(&self, index: usize) -> SuppressionView {
        SuppressionView::of(&self.suppressions.entries[index], self.applied)
    }

    fn expired(&self) -> Vec<ExpiredView> {
        self.applied
            .expired
            .iter()
            .map(|e| ExpiredView {
                suppression: self.suppression(e.suppression),
                findings: e.findings,
            })
            .collect()
    }

    fn unused(&self) -> Vec<SuppressionView> {
        self.applied
            .unused
            .iter()
            .map(|&i| self.suppression(i))
            .collect()
    }
}

/// Builds what the job's sections read.
pub fn job_view<'a>(job: &JobReport<'a>) -> anyhow::Result<JobView<'a>> {
    let trend = match job.history.len() {
        0 | 1 => None,
        _ => Some(charts::findings_trend(job.history)?),
    };
    Ok(JobView {
        first_run: job.trends.first_run,
        new: job.trends.count(Status::New),
        open: job.trends.count(Status::Open),
        carried: job.trends.carried.clone(),
        resolved: job.trends.resolved.clone(),
        newly_suppressed: job.trends.newly_suppressed.clone(),
        resolving_held: job.trends.resolving_held.clone(),
        resolve_after_days: job.trends.resolve_after_days,
        open_days: job.trends.open_days,
        runs: job.history.len(),
        trend,
        suppressed: job
            .applied
            .suppressed
            .iter()
            .map(|s| SuppressedView {
                finding: ShownFinding {
                    finding: &s.finding,
                    status: None,
                },
                suppression: job.suppression(s.suppression),
            })
            .collect(),
        expired: job.expired(),
        unused: job.unused(),
        expires_soon_days: EXPIRES_SOON_DAYS,
    })
}

#[derive(Serialize)]
struct SuppressedJson<'a> {
    finding: &'a Finding,
    suppression: SuppressionView,
}

#[derive(Serialize)]
struct SuppressionsJson<'a> {
    today: String,
    suppressed: Vec<SuppressedJson<'a>>,
    expired: Vec<ExpiredView>,
    unused: Vec<SuppressionView>,
}

#[derive(Serialize)]
struct TrendsJson<'a> {
    #[serde(flatten)]
    trends: &'a Trends,
    history: &'a [RunRecord],
}

fn pretty(value: &impl Serialize) -> anyhow::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(value)?;
    json.push(b'\n');
    Ok(json)
}

/// `suppressions.json`.
pub fn suppressions_json(job: &JobReport) -> anyhow::Result<Vec<u8>> {
    pretty(&SuppressionsJson {
        today: job.applied.today.format("%Y-%m-%d").to_string(),
        suppressed: job
            .applied
            .suppressed
            .iter()
            .map(|s| SuppressedJson {
                finding: &s.finding,
                suppression: job.suppression(s.suppression),
            })
            .collect(),
        expired: job.expired(),
        unused: job.unused(),
    })
}

/// `trends.json`.
pub fn trends_json(job: &JobReport) -> anyhow::Result<Vec<u8>> {
    pretty(&TrendsJson {
        trends: job.trends,
        history: job.history,
    })
}

/// Writes `suppressed.csv`, `suppressions.json` and `trends.json` into `out`
/// (atomically, creating `out`). `findings.csv` gets its `status` column from
/// [`crate::report::csv::write_csv`] when the context has a job report.
pub fn write_job_reports(out: &Path, job: &JobReport) -> anyhow::Result<()> {
    let suppressed: Vec<(&Finding, &Suppression)> = job
        .applied
        .suppressed
        .iter()
        .map(|s| (&s.finding, &job.suppressions.entries[s.suppression]))
        .collect();
    write_atomically(&out.join(SUPPRESSED_CSV), &suppressed_csv(&suppressed)?)?;
    write_atomically(&out.join(SUPPRESSIONS_JSON), &suppressions_json(job)?)?;
    write_atomically(&out.join(TRENDS_JSON), &trends_json(job)?)
}

/// A second run of the job, for the tests of its reports.
#[cfg(test)]
pub(crate) mod fixture {
    use std::path::Path;

    use chrono::{TimeZone, Utc};

    use super::JobReport;
    use crate::analyze::sample_findings::{
        a_day, client_secret_credential, dana, finding, legacy_app, purge,
    };
    use crate::analyze::suppressions::{Applied, Suppressions};
    use crate::analyze::trends::{
        Coverage, FindingSnapshot, Lifecycle, RunFacts, RunRecord, TrackedFinding, Trends,
        append_history, compare,
    };

    pub struct Job {
        pub suppressions: Suppressions,
        pub applied: Applied,
        pub trends: Trends,
        pub history: Vec<RunRecord>,
    }

    impl Job {
        pub fn report(&self) -> JobReport<'_> {
            JobReport {
                suppressions: &self.suppressions,
                applied: &self.applied,
                trends: &self.trends,
                history: &self.history,
            }
        }
    }

    /// 2026-11-21: yesterday's open findings were [`a_day`] and a legacy
    /// app's client secret on kv-prod-web, last seen on 2026-11-19. Today the
    /// batch job's `db-password` reads are suppressed (for `reason`, until
    /// 2026-11-30), the sandbox purge suppression expired on 2026-11-01, a
    /// vault-delete suppression matches nothing, Dana's production reads
    /// (last on 2026-11-12) are quiet for 8 complete days of logs and so
    /// resolved, the legacy app is not seen today (carried) and Dana purged
    /// another object.
    pub fn second_run(reason: &str) -> Job {
        let text = format!(
            r#"[[suppress]]
rule = "kv-secret-read-without-caching"
principal = "0c2d*"
object = "db-password"
reason = "{reason}"
owner = "alice@contoso.com"
expires = 2026-11-30

[[suppress]]
rule = "kv-purge"
vault = "kv-dev-*"
reason = "sandbox clean-up"
owner = "bob@contoso.com"
expires = 2026-11-01

[[suppress]]
rule = "kv-vault-delete"
reason = "decommissioning kv-old"
owner = "bob@contoso.com"
expires = 2027-03-31
"#
        );
        let suppressions = Suppressions::parse(&text, Path::new("suppressions.toml")).unwrap();
        let tracked = |finding: &crate::analyze::policy::Finding| TrackedFinding {
            finding: FindingSnapshot::of(finding),
            raised_first: Some("2026-11-12T02:00:00Z".into()),
            raised_last: Some("2026-11-20T02:00:00Z".into()),
        };
        let mut yesterday: Vec<TrackedFinding> = a_day().iter().map(tracked).collect();
        yesterday[4].finding.last_seen = "2026-11-12T09:00:00.000000Z".into();
        let mut legacy = tracked(&finding(
            &client_secret_credential(),
            &legacy_app(),
            "kv-prod-web",
            None,
            "SecretGet",
            4,
        ));
        legacy.finding.last_seen = "2026-11-19T10:00:00.000000Z".into();
        yesterday.push(legacy);
        let mut today = a_day();
        today.remove(4);
        today.push(finding(
            &purge(),
            &dana(),
            "kv-dev-sandbox",
            Some("api-key"),
            "KeyPurge",
            1,
        ));
        let applied = suppressions.apply(today, "2026-11-21".parse().unwrap());
        let mut coverage = Coverage::default();
        for day in 12..=21 {
            let noon = Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap();
            coverage.add([noon.timestamp_nanos_opt().unwrap()]);
        }
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap();
        let facts = RunFacts {
            run_at: now,
            coverage: &coverage,
            read_a_day: true,
            holds_grant: None,
            suppressions: &suppressions,
            lifecycle: Lifecycle::default(),
        };
        let trends = compare(
            Some(&yesterday),
            &applied.findings,
            &applied.suppressed,
            &facts,
        );
        let mut history = Vec::new();
        for (day, new, high) in [(19, 5, 2), (20, 0, 2)] {
            let record = RunRecord {
                run_at: format!("2026-11-{day}T02:00:00Z"),
                new,
                open: 5 - new,
                resolved: 0,
                suppressed: 0,
                by_severity: [("high".to_owned(), high), ("medium".to_owned(), 3)].into(),
            };
            append_history(&mut history, record, 90);
        }
        append_history(&mut history, RunRecord::of(now, &applied, &trends), 90);
        Job {
            suppressions,
            applied,
            trends,
            history,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::csv::{SUPPRESSION_COLUMNS, findings_columns};

    #[test]
    fn the_view_counts_changes_and_lists_every_suppression() {
        let job = fixture::second_run("Legacy batch job, replaced in Q1");
        let view = job_view(&job.report()).unwrap();
        assert!(!view.first_run);
        assert_eq!((view.new, view.open), (1, 4));
        assert_eq!(view.resolved.len(), 1);
        assert_eq!(view.resolved[0].finding.rule, "kv-human-prod-secret-read");
        assert_eq!(view.carried.len(), 1);
        assert_eq!(view.carried[0].tracked.finding.vault, "kv-prod-web");
        assert_eq!(view.carried[0].quiet_days, 1);
        assert_eq!(view.newly_suppressed.len(), 1);
        assert_eq!(view.runs, 3);
        assert!(view.trend.is_some());

        assert_eq!(view.suppressed.len(), 1);
        let suppressed = &view.suppressed[0];
        assert_eq!(
            suppressed.finding.finding.object.as_deref(),
            Some("db-password")
        );
        assert_eq!(suppressed.suppression.source, "suppressions.toml:1");
        assert_eq!(
            suppressed.suppression.entry.expires.to_string(),
            "2026-11-30"
        );
        assert_eq!(suppressed.suppression.expires_in_days, 9);

        assert_eq!(view.expired.len(), 1);
        assert_eq!(view.expired[0].suppression.source, "suppressions.toml:9");
        assert_eq!(view.expired[0].suppression.expires_in_days, -20);
        assert_eq!(view.expired[0].findings, 2, "both purges are active again");
        assert_eq!(view.unused.len(), 1);
        assert_eq!(view.unused[0].entry.rule, "kv-vault-delete");
    }

    #[test]
    fn one_run_has_no_trend_chart() {
        let mut job = fixture::second_run("r");
        job.history.drain(..2);
        assert!(job_view(&job.report()).unwrap().trend.is_none());
    }

    #[test]
    fn writes_suppressed_csv_and_the_json_files() {
        let job = fixture::second_run("=HYPERLINK(\\\"http://x\\\") accepted");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("reports");
        write_job_reports(&out, &job.report()).unwrap();

        let csv = std::fs::read(out.join(SUPPRESSED_CSV)).unwrap();
        let mut reader = ::csv::Reader::from_reader(csv.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let expected: Vec<&str> = findings_columns().chain(SUPPRESSION_COLUMNS).collect();
        assert_eq!(header, expected);
        let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        let cell = |name: &str| &rows[0][expected.iter().position(|c| *c == name).unwrap()];
        assert_eq!(cell("object"), "db-password");
        assert_eq!(
            cell("suppression_reason"),
            "'=HYPERLINK(\"http://x\") accepted"
        );
        assert_eq!(cell("suppression_owner"), "alice@contoso.com");
        assert_eq!(cell("suppression_expires"), "2026-11-30");
        assert_eq!(cell("suppression_source"), "suppressions.toml:1");

        let read = |name: &str| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(out.join(name)).unwrap()).unwrap()
        };
        let suppressions = read(SUPPRESSIONS_JSON);
        assert_eq!(suppressions["today"], "2026-11-21");
        assert_eq!(
            suppressions["suppressed"][0]["finding"]["object"],
            "db-password"
        );
        assert_eq!(
            suppressions["suppressed"][0]["suppression"]["owner"],
            "alice@contoso.com"
        );
        let expired = &suppressions["expired"][0]["suppression"];
        assert_eq!(expired["rule"], "kv-purge");
        assert_eq!(expired["vault"], "kv-dev-*");
        assert_eq!(expired["expires"], "2026-11-01");
        assert_eq!(expired["expires_in_days"], -20);
        assert_eq!(expired["source"], "suppressions.toml:9");
        assert_eq!(suppressions["expired"][0]["findings"], 2);
        assert_eq!(suppressions["unused"][0]["rule"], "kv-vault-delete");

        let trends = read(TRENDS_JSON);
        assert_eq!(trends["first_run"], false);
        let statuses = trends["statuses"].as_object().unwrap();
        assert_eq!(statuses.len(), 5);
        assert_eq!(statuses.values().filter(|s| *s == "new").count(), 1);
        assert_eq!(trends["resolved"][0]["rule"], "kv-human-prod-secret-read");
        assert_eq!(trends["resolved"][0]["resolution"], "quiet");
        assert!(
            trends["resolved"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("8 complete days")
        );
        assert_eq!(trends["carried"][0]["vault"], "kv-prod-web");
        assert_eq!(trends["carried"][0]["quiet_days"], 1);
        assert_eq!(trends["carried"][0]["raised_first"], "2026-11-12T02:00:00Z");
        assert_eq!(trends["resolving_held"], serde_json::Value::Null);
        assert_eq!(trends["newly_suppressed"][0]["object"], "db-password");
        assert_eq!(trends["history"].as_array().unwrap().len(), 3);
        assert_eq!(trends["history"][2]["run_at"], "2026-11-21T02:00:00Z");
        assert_eq!(trends["history"][2]["suppressed"], 1);
    }
}
