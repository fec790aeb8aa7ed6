//! Trends: what changed since the scheduled job's previous run, and the
//! counts of each run for the history chart.
//!
//! Findings are compared by id, which is stable across runs (a hash of rule,
//! principal, vault and object), so a finding keeps its identity while its
//! event counts and times change.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::policy::{Category, Finding, Severity};
use super::suppressions::{Applied, SuppressedFinding};

/// What the job's state keeps of each finding of a run: enough to list a
/// resolved finding the next day without the logs it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingSnapshot {
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub category: Category,
    pub title: String,
    pub principal: Option<String>,
    pub principal_name: Option<String>,
    pub vault: String,
    pub object: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub event_count: u64,
}

impl FindingSnapshot {
    pub fn of(finding: &Finding) -> FindingSnapshot {
        FindingSnapshot {
            id: finding.id.clone(),
            rule: finding.rule.clone(),
            severity: finding.severity,
            category: finding.category,
            title: finding.title.clone(),
            principal: finding.principal.clone(),
            principal_name: finding.principal_name.clone(),
            vault: finding.vault.clone(),
            object: finding.object.clone(),
            first_seen: finding.first_seen.clone(),
            last_seen: finding.last_seen.clone(),
            event_count: finding.event_count,
        }
    }
}

/// Where a finding stands against the previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Active now, not active in the previous run (or there was none).
    New,
    /// Active now and in the previous run.
    Open,
    /// Active in the previous run, gone now (neither active nor suppressed).
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

/// This run against the previous one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trends {
    /// No previous run to compare with: every active finding is new.
    pub first_run: bool,
    /// Status of every active finding of this run, by id.
    pub statuses: BTreeMap<String, Status>,
    /// Active in the previous run and gone from this one, most severe first.
    pub resolved: Vec<FindingSnapshot>,
    /// Active in the previous run and suppressed in this one, most severe first.
    pub newly_suppressed: Vec<FindingSnapshot>,
}

impl Trends {
    /// Active findings with this status (resolved ones are counted from [`Trends::resolved`]).
    pub fn count(&self, status: Status) -> u64 {
        match status {
            Status::Resolved => self.resolved.len() as u64,
            _ => self.statuses.values().filter(|s| **s == status).count() as u64,
        }
    }
}

/// Compares this run's findings with the previous run's.
///
/// `previous` is what the state stored of the previous run's *active*
/// findings ([`FindingSnapshot::of`] each of [`Applied::findings`]), `None`
/// on the first run. `current` are this run's active findings, `suppressed`
/// the ones a live suppression took.
///
/// A previous finding that is suppressed now is not resolved: the behaviour
/// goes on, only someone accepted it. Counting it as resolved would let a
/// suppression pass for a fix in the history; it is listed in
/// [`Trends::newly_suppressed`] instead. The other way round, a finding that
/// was suppressed in the previous run and is active now (its suppression
/// expired) is `new`: it is new on the list someone has to act on, which is
/// what the status is for.
pub fn compare(
    previous: Option<&[FindingSnapshot]>,
    current: &[Finding],
    suppressed: &[SuppressedFinding],
) -> Trends {
    let before: BTreeSet<&str> = previous
        .unwrap_or_default()
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let statuses = current
        .iter()
        .map(|f| {
            let status = if before.contains(f.id.as_str()) {
                Status::Open
            } else {
                Status::New
            };
            (f.id.clone(), status)
        })
        .collect::<BTreeMap<_, _>>();
    let suppressed_ids: BTreeSet<&str> = suppressed.iter().map(|s| s.finding.id.as_str()).collect();
    let mut resolved = Vec::new();
    let mut newly_suppressed = Vec::new();
    for snapshot in previous.unwrap_or_default() {
        if statuses.contains_key(&snapshot.id) {
            continue;
        }
        if suppressed_ids.contains(snapshot.id.as_str()) {
            newly_suppressed.push(snapshot.clone());
        } else {
            resolved.push(snapshot.clone());
        }
    }
    let order = |s: &FindingSnapshot| {
        (
            Reverse(s.severity),
            s.rule.clone(),
            s.vault.clone(),
            s.id.clone(),
        )
    };
    resolved.sort_by_key(order);
    newly_suppressed.sort_by_key(order);
    Trends {
        first_run: previous.is_none(),
        statuses,
        resolved,
        newly_suppressed,
    }
}

/// The counts of one run, as the job's state keeps them for the trend chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// When the run started, RFC 3339 UTC.
    pub run_at: String,
    pub new: u64,
    pub open: u64,
    pub resolved: u64,
    pub suppressed: u64,
    /// Active findings (new and open) per severity; every severity present.
    pub by_severity: BTreeMap<String, u64>,
}

impl RunRecord {
    pub fn of(run_at: DateTime<Utc>, applied: &Applied, trends: &Trends) -> RunRecord {
        let mut by_severity: BTreeMap<String, u64> = Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        for finding in &applied.findings {
            *by_severity
                .entry(finding.severity.as_str().to_owned())
                .or_default() += 1;
        }
        RunRecord {
            run_at: run_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            new: trends.count(Status::New),
            open: trends.count(Status::Open),
            resolved: trends.count(Status::Resolved),
            suppressed: applied.suppressed.len() as u64,
            by_severity,
        }
    }

    /// Active findings of the run (new and open).
    pub fn active(&self) -> u64 {
        self.new + self.open
    }
}

/// Appends `record` and keeps the last `keep` records (oldest dropped first).
pub fn append_history(history: &mut Vec<RunRecord>, record: RunRecord, keep: usize) {
    history.push(record);
    let excess = history.len().saturating_sub(keep);
    history.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::sample_findings::a_day;
    use crate::analyze::suppressions::Suppressions;
    use chrono::TimeZone;

    fn snapshots(findings: &[Finding]) -> Vec<FindingSnapshot> {
        findings.iter().map(FindingSnapshot::of).collect()
    }

    fn status_of(trends: &Trends, finding: &Finding) -> Status {
        trends.statuses[&finding.id]
    }

    #[test]
    fn the_first_run_makes_every_finding_new() {
        let today = a_day();
        let trends = compare(None, &today, &[]);
        assert!(trends.first_run);
        assert_eq!(trends.statuses.len(), 5);
        assert!(trends.statuses.values().all(|s| *s == Status::New));
        assert!(trends.resolved.is_empty());
        assert_eq!(
            (trends.count(Status::New), trends.count(Status::Open)),
            (5, 0)
        );
    }

    #[test]
    fn findings_are_new_open_or_resolved_by_id() {
        let day = a_day();
        let yesterday = snapshots(&day[..3]);
        let mut today = day[1..].to_vec();
        // The same finding with more events and a later time is still open.
        today[0].event_count += 100;
        today[0].last_seen = "2026-11-21T09:00:00.000000Z".into();
        let trends = compare(Some(&yesterday), &today, &[]);
        assert!(!trends.first_run);
        assert_eq!(status_of(&trends, &day[1]), Status::Open);
        assert_eq!(status_of(&trends, &day[2]), Status::Open);
        assert_eq!(status_of(&trends, &day[3]), Status::New);
        assert_eq!(status_of(&trends, &day[4]), Status::New);
        assert_eq!(trends.resolved, snapshots(&day[..1]));
        assert_eq!(
            (
                trends.count(Status::New),
                trends.count(Status::Open),
                trends.count(Status::Resolved)
            ),
            (2, 2, 1)
        );
    }

    #[test]
    fn a_finding_moved_into_suppression_is_not_resolved() {
        let day = a_day();
        let yesterday = snapshots(&day);
        let suppressions = Suppressions::parse(
            "[[suppress]]\nrule = \"kv-purge\"\nreason = \"sandbox clean-up\"\nowner = \"dana.admin@contoso.com\"\nexpires = 2027-01-31\n",
            std::path::Path::new("s.toml"),
        )
        .unwrap();
        let mut today = day.clone();
        today.remove(4); // Dana stopped reading production secrets.
        let applied = suppressions.apply(today, "2026-11-21".parse().unwrap());
        let trends = compare(Some(&yesterday), &applied.findings, &applied.suppressed);
        let purge = FindingSnapshot::of(&day[2]);
        assert_eq!(trends.newly_suppressed, std::slice::from_ref(&purge));
        assert!(!trends.resolved.contains(&purge));
        assert_eq!(trends.resolved, [FindingSnapshot::of(&day[4])]);
        assert!(
            !trends.statuses.contains_key(&day[2].id),
            "statuses are of active findings"
        );
        assert_eq!(trends.count(Status::Open), 3);
    }

    #[test]
    fn resolved_findings_are_most_severe_first() {
        let day = a_day();
        let trends = compare(Some(&snapshots(&day)), &[], &[]);
        let severities: Vec<_> = trends.resolved.iter().map(|s| s.severity).collect();
        assert_eq!(
            severities,
            [
                Severity::High,
                Severity::High,
                Severity::Medium,
                Severity::Medium,
                Severity::Medium
            ]
        );
    }

    #[test]
    fn snapshots_and_records_round_trip_through_json() {
        let snapshot = FindingSnapshot::of(&a_day()[3]);
        let json = serde_json::to_string(&snapshot).unwrap();
        assert!(json.contains("\"severity\":\"medium\""), "{json}");
        assert!(json.contains("\"category\":\"best-practice\""), "{json}");
        assert_eq!(
            serde_json::from_str::<FindingSnapshot>(&json).unwrap(),
            snapshot
        );
        assert_eq!(
            serde_json::to_string(&Status::Resolved).unwrap(),
            "\"resolved\""
        );

        let applied = Suppressions::default().apply(a_day(), "2026-11-21".parse().unwrap());
        let trends = compare(None, &applied.findings, &applied.suppressed);
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap();
        let record = RunRecord::of(at, &applied, &trends);
        assert_eq!(record.run_at, "2026-11-21T02:00:00Z");
        assert_eq!(
            (record.new, record.open, record.resolved, record.suppressed),
            (5, 0, 0, 0)
        );
        assert_eq!(record.active(), 5);
        let by: Vec<_> = record
            .by_severity
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            by,
            [
                ("critical", 0),
                ("high", 2),
                ("info", 0),
                ("low", 0),
                ("medium", 3)
            ]
        );
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<RunRecord>(&json).unwrap(), record);
    }

    #[test]
    fn history_keeps_the_last_records() {
        let record = |day: u32| RunRecord {
            run_at: format!("2026-11-{day:02}T02:00:00Z"),
            new: 0,
            open: 0,
            resolved: 0,
            suppressed: 0,
            by_severity: BTreeMap::new(),
        };
        let mut history = Vec::new();
        for day in 1..=5 {
            append_history(&mut history, record(day), 3);
        }
        let days: Vec<_> = history.iter().map(|r| &r.run_at[8..10]).collect();
        assert_eq!(days, ["03", "04", "05"]);
        append_history(&mut history, record(6), 0);
        assert!(history.is_empty());
    }
}
