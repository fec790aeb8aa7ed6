//! Trends: a finding's life across the scheduled job's runs, and the counts
//! of each run for the history chart.
//!
//! Findings are compared by id, which is stable across runs (a hash of rule,
//! principal, vault and object), so a finding keeps its identity while its
//! event counts and times change.
//!
//! A finding is `new` on the run that first raises it and `open` on every
//! later run until one of these ends it:
//!
//! - **fixed**: the condition is verifiably over. Findings about the present
//!   state (grants from the inventory, rotation judged over the job's
//!   history) are judged afresh on every run: when such a finding is no
//!   longer raised, the state it was about has changed.
//! - **quiet**: an event finding (a rate, a sequence, an operation) that was
//!   not raised again over `resolve-after-days` complete days of logs read
//!   after its last event. Absence of new evidence is not evidence of a fix:
//!   only days of logs actually read count, not runs.
//! - **aged out**: not raised for `open-days` days of runs.
//! - **acknowledged**: a live suppression covers it (reported as suppressed,
//!   never as resolved).
//!
//! A run that completes no new day of logs (it read nothing, or only part of
//! a day it had already begun) resolves nothing: a rerun, a cron double-fire
//! or a broken source leave every finding open, so the gate stays shut.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::policy::{Category, Finding, Severity};
use super::privilege;
use super::suppressions::{Applied, Subject, SuppressedFinding, Suppressions};

/// Complete days of logs without a recurrence after which an event finding
/// is resolved (`resolve-after-days`).
pub const DEFAULT_RESOLVE_AFTER_DAYS: u32 = 7;
/// Days after its last raising at which an open finding ages out (`open-days`).
pub const DEFAULT_OPEN_DAYS: u32 = 30;

/// How long findings stay open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub resolve_after_days: u32,
    pub open_days: u32,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            resolve_after_days: DEFAULT_RESOLVE_AFTER_DAYS,
            open_days: DEFAULT_OPEN_DAYS,
        }
    }
}

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
    /// Absent in states written before it was kept.
    #[serde(default)]
    pub principal_kind: String,
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
            principal_kind: finding.principal_kind.clone(),
            vault: finding.vault.clone(),
            object: finding.object.clone(),
            first_seen: finding.first_seen.clone(),
            last_seen: finding.last_seen.clone(),
            event_count: finding.event_count,
        }
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            id: &self.id,
            rule: &self.rule,
            vault: &self.vault,
            object: self.object.as_deref(),
            principal: self.principal.as_deref(),
            principal_name: self.principal_name.as_deref(),
            principal_kind: &self.principal_kind,
        }
    }

    /// The UTC day of its last event.
    fn last_day(&self) -> Option<NaiveDate> {
        self.last_seen.get(..10)?.parse().ok()
    }
}

/// A finding the job tracks from run to run: new or open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedFinding {
    #[serde(flatten)]
    pub finding: FindingSnapshot,
    /// The start of the run that first raised it (RFC 3339); absent in
    /// states written before findings were tracked.
    #[serde(default)]
    pub raised_first: Option<String>,
    /// The start of the last run that raised it.
    #[serde(default)]
    pub raised_last: Option<String>,
}

/// What a finding is judged on, which decides how it can be over: grants
/// and rotation are judged afresh on every run (from the inventory, over
/// the history), so their absence is a fix; the other rules judge the
/// events a run newly read, so their absence is only a quiet day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JudgedOn {
    Inventory,
    History,
    NewEvents,
}

impl JudgedOn {
    fn of(finding: &FindingSnapshot) -> JudgedOn {
        if privilege::RULES.contains(&finding.rule.as_str()) {
            JudgedOn::Inventory
        } else if finding.category == Category::Rotation {
            JudgedOn::History
        } else {
            JudgedOn::NewEvents
        }
    }
}

/// The days of logs the job has read: records analysed per UTC day.
///
/// A day is complete once the logs read reach a later day; only complete
/// days count towards resolving a finding, so part of a day never does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub days: BTreeMap<NaiveDate, u64>,
}

impl Coverage {
    /// Counts records of these event times (nanoseconds since the epoch, UTC).
    pub fn add(&mut self, times_ns: impl IntoIterator<Item = i64>) {
        const DAY_NS: i64 = 86_400 * 1_000_000_000;
        // Counted by day number first: a run's events fall on a few days,
        // so each record costs one small-map update, not a date conversion.
        let mut by_day: BTreeMap<i64, u64> = BTreeMap::new();
        for ns in times_ns {
            *by_day.entry(ns.div_euclid(DAY_NS)).or_default() += 1;
        }
        for (day, records) in by_day {
            if let Some(day) = DateTime::from_timestamp(day * 86_400, 0) {
                *self.days.entry(day.date_naive()).or_default() += records;
            }
        }
    }

    /// Complete days read: every day but the newest.
    pub fn complete(&self) -> usize {
        self.days.len().saturating_sub(1)
    }

    /// Complete days read after `day`.
    pub fn complete_after(&self, day: NaiveDate) -> u32 {
        let newest = self.days.keys().next_back().copied();
        self.days
            .keys()
            .filter(|d| **d > day && Some(**d) != newest)
            .count() as u32
    }

    /// Keeps the newest `keep` days.
    pub fn keep_newest(&mut self, keep: usize) {
        while self.days.len() > keep {
            self.days.pop_first();
        }
    }
}

/// Whether a principal (object id) holds a grant on a vault in the run's inventory.
pub type HoldsGrant<'a> = &'a dyn Fn(&str, &str) -> bool;

/// What a run knows beyond its findings, to decide what is over.
pub struct RunFacts<'a> {
    /// When the run started.
    pub run_at: DateTime<Utc>,
    /// The days of logs read, this run's included.
    pub coverage: &'a Coverage,
    /// Whether this run completed a day of logs not complete before; when
    /// false nothing is resolved.
    pub read_a_day: bool,
    /// Whether `principal` holds a grant on `vault` in this run's inventory;
    /// `None` when the run has no inventory (grant findings then stay open).
    pub holds_grant: Option<HoldsGrant<'a>>,
    pub suppressions: &'a Suppressions,
    pub lifecycle: Lifecycle,
}

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Raised now, not open before (or there was no run before).
    New,
    /// Open before and not over: raised again now, or carried.
    Open,
    /// Open before, over now (see [`Resolution`]).
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

/// Why an open finding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// The state it was about changed (grant removed, secret rotated).
    Fixed,
    /// Not raised again over `resolve-after-days` complete days of logs.
    Quiet,
    /// Not raised for `open-days` days.
    AgedOut,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Quiet => "quiet",
            Self::AgedOut => "aged-out",
        }
    }
}

/// A finding this run resolved, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedFinding {
    #[serde(flatten)]
    pub finding: FindingSnapshot,
    pub resolution: Resolution,
    /// The reason in words, for the reports.
    pub reason: String,
}

/// An open finding this run did not raise again, carried until it is over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarriedFinding {
    #[serde(flatten)]
    pub tracked: TrackedFinding,
    /// Complete days of logs read since its last event.
    pub quiet_days: u32,
    /// Why it is still open, in words.
    pub open_because: String,
}

/// This run against the ones before it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trends {
    /// No previous run to compare with: every active finding is new.
    pub first_run: bool,
    /// Status of every open finding (raised now or carried), by id.
    pub statuses: BTreeMap<String, Status>,
    /// Open from earlier runs, not raised by this one, and not over: they
    /// count towards the exit code like the raised ones. Most severe first.
    pub carried: Vec<CarriedFinding>,
    /// Open before, over now, most severe first.
    pub resolved: Vec<ResolvedFinding>,
    /// Open before and acknowledged by a live suppression now, most severe first.
    pub newly_suppressed: Vec<FindingSnapshot>,
    /// Why this run resolved nothing, when it could not.
    pub resolving_held: Option<String>,
    /// The lifecycle's settings this run judged by.
    pub resolve_after_days: u32,
    pub open_days: u32,
    /// What the state keeps for the next run: every open finding.
    #[serde(skip)]
    pub tracked: Vec<TrackedFinding>,
}

impl Trends {
    /// Open findings with this status, or resolved ones.
    pub fn count(&self, status: Status) -> u64 {
        match status {
            Status::Resolved => self.resolved.len() as u64,
            _ => self.statuses.values().filter(|s| **s == status).count() as u64,
        }
    }

    /// Severities of the findings the gate counts: the raised ones that are
    /// new (and, unless `new_only`, open) and, unless `new_only`, the carried ones.
    pub fn gated(&self, raised: &[Finding], new_only: bool) -> Vec<Severity> {
        let counted = |id: &str| match self.statuses.get(id) {
            Some(Status::New) => true,
            Some(Status::Open) => !new_only,
            _ => false,
        };
        let carried = self
            .carried
            .iter()
            .filter(|_| !new_only)
            .map(|c| c.tracked.finding.severity);
        raised
            .iter()
            .filter(|f| counted(&f.id))
            .map(|f| f.severity)
            .chain(carried)
            .collect()
    }
}

fn most_severe_first(s: &FindingSnapshot) -> (Reverse<Severity>, String, String, String) {
    (
        Reverse(s.severity),
        s.rule.clone(),
        s.vault.clone(),
        s.id.clone(),
    )
}

/// Days between two RFC 3339 times (`from` earlier), or `None` if either is unreadable.
fn days_since(from: Option<&str>, to: DateTime<Utc>) -> Option<i64> {
    let from = DateTime::parse_from_rfc3339(from?).ok()?;
    Some((to - from.with_timezone(&Utc)).num_days())
}

/// What an open finding that this run did not raise has become.
enum Fate {
    StillOpen(CarriedFinding),
    Over(ResolvedFinding),
}

/// Decides the [`Fate`] of an open finding that this run did not raise.
fn judge_carried(tracked: &TrackedFinding, facts: &RunFacts<'_>) -> Fate {
    let finding = &tracked.finding;
    let quiet_days = finding
        .last_day()
        .map_or(0, |day| facts.coverage.complete_after(day));
    let resolved = |resolution, reason: String| {
        Fate::Over(ResolvedFinding {
            finding: finding.clone(),
            resolution,
            reason,
        })
    };
    let carried = |open_because: String| {
        Fate::StillOpen(CarriedFinding {
            tracked: tracked.clone(),
            quiet_days,
            open_because,
        })
    };
    if !facts.read_a_day {
        return carried("this run completed no new day of logs, so it resolves nothing".into());
    }
    let lifecycle = facts.lifecycle;
    let judged_on = JudgedOn::of(finding);
    let over = match judged_on {
        // Without an inventory this run, a grant cannot be checked.
        JudgedOn::Inventory => facts.holds_grant.map(|holds| {
            let principal = finding.principal.as_deref().unwrap_or_default();
            let reason = if holds(principal, &finding.vault) {
                "no longer raised: the inventory's grant was narrowed, or the logs now show the permission used"
            } else {
                "fixed: the grant is no longer in the inventory"
            };
            (Resolution::Fixed, reason.to_owned())
        }),
        JudgedOn::History => Some((
            Resolution::Fixed,
            "fixed: no longer raised over the job's history (a new version or a later expiry was logged)".to_owned(),
        )),
        JudgedOn::NewEvents => (quiet_days >= lifecycle.resolve_after_days).then(|| {
            (
                Resolution::Quiet,
                format!("not raised again in {quiet_days} complete days of logs since its last event"),
            )
        }),
    };
    if let Some((resolution, reason)) = over {
        return resolved(resolution, reason);
    }
    let idle = days_since(tracked.raised_last.as_deref(), facts.run_at);
    if let Some(days) = idle
        && days >= i64::from(lifecycle.open_days)
    {
        return resolved(
            Resolution::AgedOut,
            format!(
                "aged out: not raised for {days} days (open-days {})",
                lifecycle.open_days
            ),
        );
    }
    carried(match judged_on {
        JudgedOn::NewEvents => format!(
            "{quiet_days} of {} complete days of logs without a recurrence",
            lifecycle.resolve_after_days
        ),
        _ => "no inventory in this run to check the grant against".to_owned(),
    })
}

/// Follows each finding's life into this run.
///
/// `previous` is what the state kept of the open findings (`None` on the
/// first run); `current` are this run's active findings, `suppressed` the
/// ones a live suppression took.
///
/// A previous finding that is suppressed now is not resolved: the behaviour
/// goes on, only someone accepted it. Counting it as resolved would let a
/// suppression pass for a fix in the history; it is listed in
/// [`Trends::newly_suppressed`] instead, and no longer tracked. The other way
/// round, a finding that was suppressed and is active now (its suppression
/// expired) is `new`: it is new on the list someone has to act on.
pub fn compare(
    previous: Option<&[TrackedFinding]>,
    current: &[Finding],
    suppressed: &[SuppressedFinding],
    facts: &RunFacts<'_>,
) -> Trends {
    let run_at = facts.run_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let before: BTreeMap<&str, &TrackedFinding> = previous
        .unwrap_or_default()
        .iter()
        .map(|t| (t.finding.id.as_str(), t))
        .collect();
    let mut statuses = BTreeMap::new();
    let mut tracked = Vec::new();
    for finding in current {
        let earlier = before.get(finding.id.as_str());
        statuses.insert(
            finding.id.clone(),
            if earlier.is_some() {
                Status::Open
            } else {
                Status::New
            },
        );
        tracked.push(TrackedFinding {
            finding: FindingSnapshot::of(finding),
            raised_first: earlier
                .and_then(|t| t.raised_first.clone())
                .or_else(|| Some(run_at.clone())),
            raised_last: Some(run_at.clone()),
        });
    }
    let suppressed_ids: BTreeSet<&str> = suppressed.iter().map(|s| s.finding.id.as_str()).collect();
    let today = facts.run_at.date_naive();
    let mut carried = Vec::new();
    let mut resolved = Vec::new();
    let mut newly_suppressed = Vec::new();
    for earlier in previous.unwrap_or_default() {
        let snapshot = &earlier.finding;
        if statuses.contains_key(&snapshot.id) {
            continue;
        }
        if suppressed_ids.contains(snapshot.id.as_str())
            || facts
                .suppressions
                .live_cover(&snapshot.subject(), today)
                .is_some()
        {
            newly_suppressed.push(snapshot.clone());
            continue;
        }
        match judge_carried(earlier, facts) {
            Fate::StillOpen(open) => {
                statuses.insert(snapshot.id.clone(), Status::Open);
                tracked.push(open.tracked.clone());
                carried.push(open);
            }
            Fate::Over(over) => resolved.push(over),
        }
    }
    carried.sort_by_key(|c| most_severe_first(&c.tracked.finding));
    resolved.sort_by_key(|r| most_severe_first(&r.finding));
    newly_suppressed.sort_by_key(most_severe_first);
    Trends {
        first_run: previous.is_none(),
        statuses,
        carried,
        resolved,
        newly_suppressed,
        resolving_held: (!facts.read_a_day && previous.is_some()).then(|| {
            "this run completed no new day of logs: nothing was resolved, every open finding stays open".to_owned()
        }),
        resolve_after_days: facts.lifecycle.resolve_after_days,
        open_days: facts.lifecycle.open_days,
        tracked,
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
    /// Open findings (new, open and carried) per severity; every severity present.
    pub by_severity: BTreeMap<String, u64>,
}

impl RunRecord {
    pub fn of(run_at: DateTime<Utc>, applied: &Applied, trends: &Trends) -> RunRecord {
        let mut by_severity: BTreeMap<String, u64> = Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        let carried = trends.carried.iter().map(|c| c.tracked.finding.severity);
        for severity in applied.findings.iter().map(|f| f.severity).chain(carried) {
            *by_severity.entry(severity.as_str().to_owned()).or_default() += 1;
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
    use crate::analyze::sample_findings::{a_day, batch_job, finding, unused_permission};
    use chrono::TimeZone;

    /// The run of 2026-11-22 02:00 UTC (the sample findings' events are on
    /// 2026-11-20 and 21).
    fn run_at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap()
    }

    /// Logs read on each day from 2026-11-20 to 2026-11-`last`.
    fn read_through(last: u32) -> Coverage {
        let mut coverage = Coverage::default();
        for day in 20..=last {
            let noon = Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap();
            coverage.add([noon.timestamp_nanos_opt().unwrap()]);
        }
        coverage
    }

    struct Run {
        at: DateTime<Utc>,
        coverage: Coverage,
        read_a_day: bool,
        suppressions: Suppressions,
        inventory: Option<bool>,
    }

    impl Run {
        fn on(day: u32) -> Run {
            Run {
                at: run_at(day),
                coverage: read_through(day),
                read_a_day: true,
                suppressions: Suppressions::default(),
                inventory: None,
            }
        }

        fn compare(&self, previous: Option<&[TrackedFinding]>, current: &[Finding]) -> Trends {
            let grant = self.inventory;
            let holds = move |_: &str, _: &str| grant.unwrap_or(false);
            let facts = RunFacts {
                run_at: self.at,
                coverage: &self.coverage,
                read_a_day: self.read_a_day,
                holds_grant: grant.map(|_| &holds as &dyn Fn(&str, &str) -> bool),
                suppressions: &self.suppressions,
                lifecycle: Lifecycle::default(),
            };
            compare(previous, current, &[], &facts)
        }
    }

    fn status_of(trends: &Trends, finding: &Finding) -> Option<Status> {
        trends.statuses.get(&finding.id).copied()
    }

    #[test]
    fn the_first_run_makes_every_finding_new() {
        let today = a_day();
        let trends = Run::on(22).compare(None, &today);
        assert!(trends.first_run);
        assert_eq!(trends.statuses.len(), 5);
        assert!(trends.statuses.values().all(|s| *s == Status::New));
        assert!(trends.resolved.is_empty() && trends.carried.is_empty());
        assert_eq!(trends.tracked.len(), 5);
        assert_eq!(
            trends.tracked[0].raised_first.as_deref(),
            Some("2026-11-22T02:00:00Z")
        );
        assert_eq!(trends.resolving_held, None);
    }

    #[test]
    fn an_event_finding_not_raised_again_stays_open_until_a_week_of_logs_is_quiet() {
        let day = a_day();
        let first = Run::on(22).compare(None, &day);
        // The next day only the last four are raised again.
        let second = Run::on(23).compare(Some(&first.tracked), &day[1..]);
        assert_eq!(status_of(&second, &day[0]), Some(Status::Open));
        assert_eq!(status_of(&second, &day[1]), Some(Status::Open));
        assert!(second.resolved.is_empty());
        assert_eq!(second.carried.len(), 1);
        let carried = &second.carried[0];
        assert_eq!(carried.tracked.finding.id, day[0].id);
        // Its last event was on the 21st; the 22nd is complete, the 23rd is not yet.
        assert_eq!(carried.quiet_days, 1);
        assert_eq!(
            carried.tracked.raised_last.as_deref(),
            Some("2026-11-22T02:00:00Z"),
            "carried, not raised again"
        );
        assert_eq!(second.count(Status::Open), 5);
        assert_eq!(second.tracked.len(), 5);

        // Six complete quiet days are not enough; seven are.
        let six = Run::on(28).compare(Some(&second.tracked), &day[1..]);
        assert_eq!(six.carried[0].quiet_days, 6);
        assert!(six.resolved.is_empty());
        let seven = Run::on(29).compare(Some(&six.tracked), &day[1..]);
        assert!(seven.carried.is_empty());
        assert_eq!(seven.resolved.len(), 1);
        assert_eq!(seven.resolved[0].resolution, Resolution::Quiet);
        assert_eq!(seven.resolved[0].finding.id, day[0].id);
        assert!(
            seven.resolved[0].reason.contains("7 complete days"),
            "{}",
            seven.resolved[0].reason
        );
        assert_eq!(status_of(&seven, &day[0]), None);
        assert_eq!(seven.tracked.len(), 4);
    }

    #[test]
    fn a_run_that_completes_no_new_day_resolves_nothing() {
        let grant = finding(
            &unused_permission(),
            &batch_job(),
            "kv-prod-payroll",
            None,
            "secrets/list",
            1,
        );
        let mut day = a_day();
        day.push(grant.clone());
        let first = Run::on(22).compare(None, &day);
        // A rerun a minute later, and a run a month later, read nothing new.
        for later in [22, 30] {
            let mut rerun = Run::on(later);
            rerun.coverage = read_through(22);
            rerun.read_a_day = false;
            rerun.inventory = Some(false);
            let trends = rerun.compare(Some(&first.tracked), &[]);
            assert!(trends.resolved.is_empty(), "{:?}", trends.resolved);
            assert_eq!(trends.carried.len(), 6);
            assert_eq!(trends.count(Status::Open), 6);
            assert!(trends.resolving_held.is_some());
            assert_eq!(trends.gated(&[], false).len(), 6);
        }
    }

    #[test]
    fn a_grant_finding_is_fixed_when_the_inventory_no_longer_shows_it() {
        let grant = finding(
            &unused_permission(),
            &batch_job(),
            "kv-prod-payroll",
            None,
            "secrets/list",
            1,
        );
        let first = Run::on(22).compare(None, std::slice::from_ref(&grant));
        // Without an inventory it cannot be checked and stays open.
        let unchecked = Run::on(23).compare(Some(&first.tracked), &[]);
        assert_eq!(unchecked.carried.len(), 1);
        assert!(unchecked.carried[0].open_because.contains("no inventory"));

        let mut removed = Run::on(23);
        removed.inventory = Some(false);
        let trends = removed.compare(Some(&first.tracked), &[]);
        assert_eq!(trends.resolved.len(), 1);
        assert_eq!(trends.resolved[0].resolution, Resolution::Fixed);
        assert_eq!(
            trends.resolved[0].reason,
            "fixed: the grant is no longer in the inventory"
        );

        let mut narrowed = Run::on(23);
        narrowed.inventory = Some(true);
        let trends = narrowed.compare(Some(&first.tracked), &[]);
        assert_eq!(trends.resolved[0].resolution, Resolution::Fixed);
        assert!(trends.resolved[0].reason.contains("narrowed"));
    }

    #[test]
    fn an_open_finding_ages_out_after_open_days() {
        let grant = finding(
            &unused_permission(),
            &batch_job(),
            "kv-prod-payroll",
            None,
            "secrets/list",
            1,
        );
        let first = Run::on(1).compare(None, std::slice::from_ref(&grant));
        // No inventory (the check is impossible) for 30 days.
        let mut later = Run::on(30);
        later.coverage = read_through(30);
        let trends = later.compare(Some(&first.tracked), &[]);
        assert_eq!(trends.carried.len(), 1, "29 days");
        let mut month = Run::on(1);
        month.at = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        let trends = month.compare(Some(&first.tracked), &[]);
        assert_eq!(trends.resolved.len(), 1);
        assert_eq!(trends.resolved[0].resolution, Resolution::AgedOut);
        assert!(trends.resolved[0].reason.contains("30 days"));
    }

    #[test]
    fn a_carried_finding_a_suppression_covers_is_acknowledged_not_resolved() {
        let day = a_day();
        let first = Run::on(22).compare(None, &day);
        let mut run = Run::on(23);
        run.suppressions = Suppressions::parse(
            "[[suppress]]\nrule = \"kv-purge\"\nreason = \"sandbox clean-up\"\nowner = \"dana.admin@contoso.com\"\nexpires = 2027-01-31\n",
            std::path::Path::new("s.toml"),
        )
        .unwrap();
        let trends = run.compare(Some(&first.tracked), &[]);
        assert_eq!(trends.newly_suppressed, [FindingSnapshot::of(&day[2])]);
        assert_eq!(status_of(&trends, &day[2]), None);
        assert_eq!(trends.carried.len(), 4);
        assert!(trends.tracked.iter().all(|t| t.finding.id != day[2].id));
    }

    #[test]
    fn the_gate_counts_new_and_open_findings_or_only_new_ones() {
        let day = a_day();
        let first = Run::on(22).compare(None, &day[..3]);
        let second = Run::on(23).compare(Some(&first.tracked), &day[1..]);
        // day[0] carried, day[1..3] open again, day[3..] new.
        assert_eq!(second.gated(&day[1..], false).len(), 5);
        let new_only = second.gated(&day[1..], true);
        assert_eq!(new_only, [day[3].severity, day[4].severity]);
    }

    #[test]
    fn coverage_counts_complete_days_only() {
        let coverage = read_through(25);
        assert_eq!(coverage.complete(), 5);
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(coverage.complete_after(day(20)), 4);
        assert_eq!(coverage.complete_after(day(24)), 0, "the 25th is not over");
        let mut kept = coverage.clone();
        kept.keep_newest(2);
        assert_eq!(kept.days.len(), 2);
        assert_eq!(Coverage::default().complete(), 0);
    }

    #[test]
    fn a_state_written_before_findings_were_tracked_is_read() {
        let old = r#"[{"id":"a1","rule":"kv-purge","severity":"high","category":"sensitive-operation","title":"t","principal":null,"principal_name":null,"vault":"kv","object":null,"first_seen":"2026-11-20T10:00:00.000000Z","last_seen":"2026-11-20T10:00:00.000000Z","event_count":1}]"#;
        let tracked: Vec<TrackedFinding> = serde_json::from_str(old).unwrap();
        assert_eq!(tracked[0].finding.id, "a1");
        assert_eq!(tracked[0].raised_first, None);
        let trends = Run::on(22).compare(Some(&tracked), &[]);
        assert_eq!(
            trends.carried.len(),
            1,
            "kept open, never aged out without a date"
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
        assert_eq!(
            serde_json::to_string(&Resolution::AgedOut).unwrap(),
            "\"aged-out\""
        );

        let applied = Suppressions::default().apply(a_day(), "2026-11-21".parse().unwrap());
        let trends = Run::on(21).compare(None, &applied.findings);
        let record = RunRecord::of(run_at(21), &applied, &trends);
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
