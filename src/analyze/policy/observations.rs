//! The rate analyses' facts as Cedar requests (`observations.cedarschema`),
//! judged by the observation rules and grouped into findings whose messages
//! state the observed figure and the baseline it was judged against.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use cedar_policy::{Context, Request, RestrictedExpression as E};
use chrono::{DateTime, Datelike, Timelike};
use polars::prelude::IdxSize;
use rayon::prelude::*;
use serde::Serialize;

use super::evaluate::{EvidenceColumns, Outcome, Prepared, evaluate_observation};
use super::findings::{Evidence, Finding, MAX_EVIDENCE, RuleInfo, Who, finding_id, sort_findings};
use super::model::{
    IDENTITY, NO_IDENTITY, SECRET, VAULT, datetime_expression, ip_expression, uid, weekday_name,
};
use super::pack::LoadedPolicies;
use crate::analyze::rates::expiry::{Expiry, ExpiryEvent};
use crate::analyze::rates::first_seen::Fact;
use crate::analyze::rates::windows::HOUR_NS;
use crate::analyze::rates::{
    AddressWindow, COUNTS, FirstSeen, LoggingGap, Metric, ObjectReadWindow, Observations,
    RateWindow, Sequence,
};
use crate::ingest::time::format_time;

/// One fact to judge.
#[derive(Debug, Clone, Copy)]
pub enum Observation<'a> {
    Window(&'a RateWindow),
    ObjectReads(&'a ObjectReadWindow),
    Address(&'a AddressWindow),
    FirstSeen(&'a FirstSeen),
    Sequence(&'a Sequence),
    Expiry(&'a Expiry),
    Gap(&'a LoggingGap),
}

impl Observations {
    /// Every fact, in a fixed order.
    pub fn all(&self) -> Vec<Observation<'_>> {
        let mut all: Vec<Observation<'_>> = Vec::with_capacity(self.len());
        all.extend(self.windows.iter().map(Observation::Window));
        all.extend(self.object_windows.iter().map(Observation::ObjectReads));
        all.extend(self.address_windows.iter().map(Observation::Address));
        all.extend(self.first_seen.iter().map(Observation::FirstSeen));
        all.extend(self.sequences.iter().map(Observation::Sequence));
        all.extend(self.expiries.iter().map(Observation::Expiry));
        all.extend(self.gaps.iter().map(Observation::Gap));
        all
    }
}

/// `start`, `hour` and `weekday` of a time.
fn when(name: &str, nanos: i64) -> Vec<(String, E)> {
    let t = DateTime::from_timestamp_nanos(nanos);
    vec![
        (name.to_owned(), datetime_expression(nanos)),
        ("hour".to_owned(), E::new_long(i64::from(t.hour()))),
        (
            "weekday".to_owned(),
            E::new_string(weekday_name(t.weekday().num_days_from_monday()).to_owned()),
        ),
    ]
}

fn metric(m: &Metric) -> anyhow::Result<E> {
    Ok(E::new_record([
        ("value".to_owned(), E::new_long(m.value)),
        ("median".to_owned(), E::new_long(m.cedar_median())),
        ("p90".to_owned(), E::new_long(m.p90)),
        ("max".to_owned(), E::new_long(m.max)),
        ("score".to_owned(), E::new_long(m.cedar_score())),
    ])?)
}

fn text(name: &str, value: &str) -> (String, E) {
    (name.to_owned(), E::new_string(value.to_owned()))
}

fn long(name: &str, value: i64) -> (String, E) {
    (name.to_owned(), E::new_long(value))
}

impl Observation<'_> {
    pub fn action(&self) -> &'static str {
        match self {
            Self::Window(_) => "RateWindow",
            Self::ObjectReads(_) => "ObjectReadWindow",
            Self::Address(_) => "AddressWindow",
            Self::FirstSeen(_) => "FirstSeen",
            Self::Sequence(_) => "AccessSequence",
            Self::Expiry(_) => "ObjectExpiry",
            Self::Gap(_) => "LoggingGap",
        }
    }

    pub fn principal(&self) -> &str {
        match self {
            Self::Window(w) => &w.principal,
            Self::ObjectReads(w) => &w.principal,
            Self::Address(w) => &w.principal,
            Self::FirstSeen(f) => &f.principal,
            Self::Sequence(s) => &s.principal,
            Self::Expiry(e) => &e.principal,
            Self::Gap(_) => NO_IDENTITY,
        }
    }

    pub fn vault(&self) -> &str {
        match self {
            Self::Window(w) => &w.vault,
            Self::ObjectReads(w) => &w.vault,
            Self::Address(w) => &w.vault,
            Self::FirstSeen(f) => &f.vault,
            Self::Sequence(s) => &s.vault,
            Self::Expiry(e) => &e.vault,
            Self::Gap(g) => &g.vault,
        }
    }

    /// The object a finding is about, if any.
    pub fn object(&self) -> Option<&str> {
        match self {
            Self::ObjectReads(w) => Some(&w.object),
            Self::FirstSeen(f) if f.fact == Fact::Secret => Some(&f.value),
            Self::Expiry(e) => Some(&e.object),
            _ => None,
        }
    }

    fn resource(&self) -> (&'static str, String) {
        match self {
            Self::ObjectReads(w) => (SECRET, format!("{}/{}", w.vault, w.object)),
            Self::FirstSeen(f) if f.fact == Fact::Secret => {
                (SECRET, format!("{}/{}", f.vault, f.value))
            }
            Self::Expiry(e) => (e.entity_type, format!("{}/{}", e.vault, e.object)),
            _ => (VAULT, self.vault().to_owned()),
        }
    }

    /// The time span whose events are the observation's evidence.
    fn span(&self) -> (i64, i64) {
        match self {
            Self::Window(w) => (w.start, w.end()),
            Self::ObjectReads(w) => (w.start, w.start + HOUR_NS),
            Self::Address(w) => (w.start, w.end()),
            Self::FirstSeen(f) => (f.time, f.time + 1),
            Self::Sequence(s) => (s.start, s.end + 1),
            Self::Expiry(e) => (e.time, e.time + 1),
            Self::Gap(g) => (g.start, g.start + g.length + 1),
        }
    }

    fn context(&self) -> anyhow::Result<Context> {
        let mut pairs: Vec<(String, E)> = Vec::new();
        match self {
            Self::Window(w) => {
                pairs.push(text("window", w.window));
                pairs.push(long("minutes", w.minutes));
                pairs.extend(when("start", w.start));
                pairs.push(long("history_days", w.history_days));
                for (name, m) in COUNTS.iter().zip(&w.metrics) {
                    pairs.push(((*name).to_owned(), metric(m)?));
                }
            }
            Self::ObjectReads(w) => {
                pairs.push(text("window", "1h"));
                pairs.extend(when("start", w.start));
                pairs.push(long("reads", w.reads));
                pairs.push(long("run_hours", w.run_hours));
            }
            Self::Address(w) => {
                pairs.push(text("window", "5m"));
                pairs.extend(when("start", w.start));
                pairs.push(text("address", &w.address));
                if let Some(ip) = ip_expression(&w.address) {
                    pairs.push(("ip".to_owned(), ip));
                }
                pairs.push(long("requests", w.requests));
                pairs.push(long("denied", w.denied));
                pairs.push(long("identities", w.identities));
            }
            Self::FirstSeen(f) => {
                pairs.push(text("fact", f.fact.as_str()));
                pairs.push(text("value", &f.value));
                pairs.extend(when("time", f.time));
                if matches!(f.fact, Fact::Ip | Fact::Identity)
                    && let Some(ip) = f.address.as_deref().and_then(ip_expression)
                {
                    pairs.push(("ip".to_owned(), ip));
                }
                pairs.push(text("operation", &f.operation));
                pairs.push(("success".to_owned(), E::new_bool(f.success)));
                pairs.push(long("events", f.events));
                pairs.push(long("days_logged_before", f.days_logged_before));
            }
            Self::Sequence(s) => {
                pairs.push(text("sequence", s.kind.as_str()));
                pairs.extend(when("start", s.start));
                pairs.push(long("minutes", (s.end - s.start) / (60 * 1_000_000_000)));
                pairs.push(long("reads", s.reads));
                pairs.push(long("distinct_secrets", s.distinct_secrets));
            }
            Self::Expiry(e) => {
                pairs.push(text("event", e.event.as_str()));
                pairs.push(("time".to_owned(), datetime_expression(e.time)));
                if let Some(expires) = e.expires {
                    pairs.push(("expires".to_owned(), datetime_expression(expires)));
                }
                pairs.push(long("days_left", days_left(e)));
                pairs.push(("renewed".to_owned(), E::new_bool(e.renewed)));
                pairs.push(long("logged_days", e.logged_days));
            }
            Self::Gap(g) => {
                pairs.push(("start".to_owned(), datetime_expression(g.start)));
                if let Some(end) = g.end {
                    pairs.push(("end".to_owned(), datetime_expression(end)));
                }
                pairs.push(("open".to_owned(), E::new_bool(g.is_open())));
                pairs.push(long("hours", g.hours()));
                pairs.push(long("usual_longest_hours", g.usual_longest_hours()));
                pairs.push(long("records_per_day", g.records_per_day));
                pairs.push(long("history_days", g.history_days));
                pairs.push(text("last_operation", &g.last_operation));
                pairs.push(("deleted".to_owned(), E::new_bool(g.deleted)));
            }
        }
        Context::from_pairs(pairs).context("building an observation context")
    }

    /// The Cedar request, checked against the schema (observations are few).
    pub fn request(&self, policies: &LoadedPolicies) -> anyhow::Result<Request> {
        let (resource_type, resource_id) = self.resource();
        Ok(Request::new(
            uid(IDENTITY, self.principal()),
            uid("Action", self.action()),
            uid(resource_type, &resource_id),
            self.context()?,
            Some(&policies.schema),
        )?)
    }
}

fn days_left(e: &Expiry) -> i64 {
    e.expires
        .map_or(0, |x| (x - e.time).div_euclid(24 * HOUR_NS))
}

/// The window statistics behind one finding (`rates.csv`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RateRow {
    pub finding_id: String,
    pub rule: String,
    pub principal: String,
    pub principal_name: Option<String>,
    pub vault: String,
    pub object: Option<String>,
    pub window: String,
    /// The count the finding's message quotes (the rule's `@metric`).
    pub metric: String,
    pub start: i64,
    pub end: i64,
    pub history_days: Option<i64>,
    /// Per count of [`COUNTS`]: the window's metric (object windows fill
    /// `secret_reads` only).
    pub metrics: Vec<Option<Metric>>,
    pub run_hours: Option<i64>,
}

impl RateRow {
    /// Whether the row is a rate window's (identity and vault over 1m, 5m,
    /// 1h or 1d), not an object window's: only rate windows have a history.
    pub fn is_rate_window(&self) -> bool {
        self.history_days.is_some()
    }
}

/// What judging the observations produced.
#[derive(Debug, Default)]
pub struct Judged {
    pub findings: Vec<Finding>,
    pub rate_rows: Vec<RateRow>,
    pub evaluated: u64,
    pub decisions: u64,
    pub exempted: u64,
    pub errors: u64,
}

/// Judges every observation and groups the matches into findings.
pub fn judge(
    observations: &Observations,
    policies: &LoadedPolicies,
    prepared: &Prepared,
    evidence: &EvidenceColumns,
) -> anyhow::Result<Judged> {
    let all = observations.all();
    let outcomes: Vec<Outcome> = all
        .par_iter()
        .map(|o| -> anyhow::Result<Outcome> {
            let request = o.request(policies).with_context(|| {
                format!("{} of {} in vault {}", o.action(), o.principal(), o.vault())
            })?;
            Ok(evaluate_observation(policies, &prepared.entities, &request))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut judged = Judged {
        evaluated: all.len() as u64,
        ..Judged::default()
    };
    let mut groups: BTreeMap<(String, String, String, Option<String>), Vec<Observation<'_>>> =
        BTreeMap::new();
    for (o, outcome) in all.iter().zip(&outcomes) {
        judged.decisions += outcome.decisions;
        judged.errors += outcome.errors.len() as u64;
        if outcome.exempted_by.is_some() {
            judged.exempted += 1;
            continue;
        }
        for rule in &outcome.rules {
            groups
                .entry((
                    rule.clone(),
                    o.principal().to_owned(),
                    o.vault().to_owned(),
                    o.object().map(str::to_owned),
                ))
                .or_default()
                .push(*o);
        }
    }
    for ((rule_id, principal, vault, object), matched) in groups {
        let Some((rule, _)) = policies.rule(&rule_id) else {
            continue;
        };
        let who = prepared.who_of(&principal);
        let id = finding_id(&rule_id, &principal, &vault, object.as_deref());
        let finding = finding(
            rule,
            &who,
            &id,
            &vault,
            object.as_deref(),
            &matched,
            policies.metric_of(&rule_id),
            observations,
            evidence,
        );
        let metric = policies.metric_of(&rule_id);
        judged.rate_rows.extend(
            matched.iter().filter_map(|o| {
                rate_row(o, &id, &rule_id, metric, &who, &vault, object.as_deref())
            }),
        );
        judged.findings.push(finding);
    }
    sort_findings(&mut judged.findings);
    Ok(judged)
}

fn rate_row(
    o: &Observation<'_>,
    id: &str,
    rule: &str,
    metric: &str,
    who: &Who,
    vault: &str,
    object: Option<&str>,
) -> Option<RateRow> {
    let base = RateRow {
        finding_id: id.to_owned(),
        rule: rule.to_owned(),
        principal: who.key.clone(),
        principal_name: who.name.clone(),
        vault: vault.to_owned(),
        object: object.map(str::to_owned),
        ..RateRow::default()
    };
    match o {
        Observation::Window(w) => Some(RateRow {
            window: w.window.to_owned(),
            metric: metric.to_owned(),
            start: w.start,
            end: w.end(),
            history_days: Some(w.history_days),
            metrics: w.metrics.iter().copied().map(Some).collect(),
            ..base
        }),
        Observation::ObjectReads(w) => {
            let mut metrics = vec![None; COUNTS.len()];
            metrics[1] = Some(Metric::without_history(w.reads));
            Some(RateRow {
                window: "1h".to_owned(),
                metric: "secret_reads".to_owned(),
                start: w.start,
                end: w.start + HOUR_NS,
                metrics,
                run_hours: Some(w.run_hours),
                ..base
            })
        }
        _ => None,
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one part of the finding being built"
)]
fn finding(
    rule: &RuleInfo,
    who: &Who,
    id: &str,
    vault: &str,
    object: Option<&str>,
    matched: &[Observation<'_>],
    metric_name: &str,
    observations: &Observations,
    evidence: &EvidenceColumns,
) -> Finding {
    let mut rows: BTreeSet<IdxSize> = BTreeSet::new();
    for o in matched {
        let (start, end) = o.span();
        let object = match o {
            Observation::ObjectReads(w) => Some(w.object.as_str()),
            _ => None,
        };
        rows.extend(
            observations
                .index
                .rows(o.principal(), o.vault(), start, end, object),
        );
        if let Observation::Expiry(e) = o
            && let Some(row) = e.row
        {
            rows.insert(row);
        }
        if let Observation::Address(w) = o {
            rows.extend(w.rows.iter().copied());
        }
        if let Observation::Gap(g) = o {
            rows.extend(g.rows.iter().copied());
        }
    }
    let mut operations: BTreeMap<String, u64> = BTreeMap::new();
    for &r in &rows {
        if let Some(op) = evidence.operation(r) {
            *operations.entry(op.to_owned()).or_default() += 1;
        }
    }
    // Only the earliest events become evidence; the rest are only counted.
    let mut by_time: Vec<(i64, IdxSize)> = rows.iter().map(|&r| (evidence.time(r), r)).collect();
    by_time.sort_unstable();
    let spans = matched.iter().map(Observation::span);
    let first = by_time
        .first()
        .map(|e| e.0)
        .or_else(|| spans.clone().map(|s| s.0).min())
        .unwrap_or(0);
    let last = by_time
        .last()
        .map(|e| e.0)
        .or_else(|| spans.map(|s| s.1).max())
        .unwrap_or(0);
    let event_count = match matched.first() {
        Some(Observation::FirstSeen(_)) => matched
            .iter()
            .map(|o| match o {
                Observation::FirstSeen(f) => f.events as u64,
                _ => 0,
            })
            .sum(),
        // A notification from the job's older history has no row left in
        // the frame; it is still an event behind the finding.
        _ => {
            let unlocated = matched
                .iter()
                .filter(|o| matches!(o, Observation::Expiry(e) if e.row.is_none() && e.event != ExpiryEvent::Stale))
                .count();
            (rows.len() + unlocated) as u64
        }
    };
    let evidence_events = by_time
        .iter()
        .take(MAX_EVIDENCE)
        .map(|&(_, r)| evidence.event(r));
    Finding {
        id: id.to_owned(),
        rule: rule.id.clone(),
        category: rule.category,
        severity: rule.severity,
        title: rule.title.clone(),
        principal: who.object_id.clone(),
        principal_name: who.name.clone(),
        principal_kind: who.kind.clone(),
        vault: vault.to_owned(),
        object: object.map(str::to_owned),
        operations: operations.into_keys().collect(),
        first_seen: format_time(first),
        last_seen: format_time(last),
        event_count,
        evidence: evidence_events.map(Evidence::from).collect(),
        message: message(who, vault, matched, metric_name),
        remediation: rule.remediation.clone(),
    }
}

fn thousands(n: i64) -> String {
    crate::text::thousands(n.max(0) as u64)
}

/// `2026-11-20 03:00–04:00 UTC`, or both dates when the span crosses midnight.
pub fn span_text(start: i64, end: i64) -> String {
    let s = DateTime::from_timestamp_nanos(start);
    let e = DateTime::from_timestamp_nanos(end);
    let last_instant = DateTime::from_timestamp_nanos(end - 1);
    if end - start == 24 * HOUR_NS && s.hour() == 0 && s.minute() == 0 {
        format!("{} (UTC day)", s.format("%Y-%m-%d"))
    } else if s.date_naive() == last_instant.date_naive() {
        format!("{}–{} UTC", s.format("%Y-%m-%d %H:%M"), e.format("%H:%M"))
    } else {
        format!(
            "{} – {} UTC",
            s.format("%Y-%m-%d %H:%M"),
            e.format("%Y-%m-%d %H:%M")
        )
    }
}

/// How a message names a count.
fn count_label(count: &str) -> &'static str {
    match count {
        "secret_reads" => "secret reads",
        "distinct_secrets" => "distinct secrets",
        "denied" => "refused calls",
        "throttled" => "throttled calls",
        "distinct_ips" => "caller addresses",
        _ => "requests",
    }
}

fn minute(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

fn window_unit(window: &str) -> &str {
    match window {
        "1m" => "min",
        "5m" => "5 min",
        "1h" => "h",
        "1d" => "day",
        other => other,
    }
}

fn message(who: &Who, vault: &str, matched: &[Observation<'_>], metric_name: &str) -> String {
    let name = who
        .name
        .clone()
        .or_else(|| who.object_id.clone())
        .unwrap_or_else(|| who.key.clone());
    let caller = format!("{name} ({})", who.kind);
    let n = matched.len();
    match matched.first() {
        Some(Observation::Window(_)) => {
            let column = COUNTS.iter().position(|c| *c == metric_name).unwrap_or(0);
            let label = count_label(metric_name);
            let peak = matched
                .iter()
                .filter_map(|o| match o {
                    Observation::Window(w) => Some(*w),
                    _ => None,
                })
                .max_by_key(|w| (w.metrics[column].value, std::cmp::Reverse(w.start)));
            let Some(w) = peak else {
                return caller;
            };
            let m = &w.metrics[column];
            let usual = if w.history_days == 0 {
                "no earlier activity in this vault to compare with".to_owned()
            } else {
                let range = if m.p10 == m.p90 {
                    thousands(m.p90)
                } else {
                    format!("{}–{}", thousands(m.p10), thousands(m.p90))
                };
                format!(
                    "usual {range}/{} (median {}) at this time of day over {} day{}",
                    window_unit(w.window),
                    thousands(m.cedar_median()),
                    w.history_days,
                    if w.history_days == 1 { "" } else { "s" }
                )
            };
            let more = if n > 1 {
                format!(" ({n} windows flagged)")
            } else {
                String::new()
            };
            format!(
                "{caller} in vault `{vault}`: {} {label} in {}; {usual}{more}",
                thousands(m.value),
                span_text(w.start, w.end()),
            )
        }
        Some(Observation::ObjectReads(first)) => {
            let windows: Vec<&ObjectReadWindow> = matched
                .iter()
                .filter_map(|o| match o {
                    Observation::ObjectReads(w) => Some(*w),
                    _ => None,
                })
                .collect();
            let total: i64 = windows.iter().map(|w| w.reads).sum();
            let peak = windows
                .iter()
                .max_by_key(|w| (w.reads, std::cmp::Reverse(w.start)))
                .copied()
                .unwrap_or(first);
            // One read per 5 minutes per process is what a cache with a
            // 5-minute lifetime needs.
            let cached: i64 = windows.iter().map(|w| w.reads.min(12)).sum();
            let saved = if total > 0 {
                100 * (total - cached) / total
            } else {
                0
            };
            format!(
                "{caller} read secret `{}` in vault `{vault}` {} times in {} hours of at least 30 reads each (peak {} in {}); caching the value for 5 minutes would need about 12 reads an hour per instance: {saved}% fewer reads",
                first.object,
                thousands(total),
                windows.len(),
                thousands(peak.reads),
                span_text(peak.start, peak.start + HOUR_NS),
            )
        }
        Some(Observation::Address(_)) => {
            let windows: Vec<&AddressWindow> = matched
                .iter()
                .filter_map(|o| match o {
                    Observation::Address(w) => Some(*w),
                    _ => None,
                })
                .collect();
            let peak = windows
                .iter()
                .max_by_key(|w| (w.denied, std::cmp::Reverse(w.start)))
                .copied();
            let Some(w) = peak else {
                return caller;
            };
            let who = match w.identities {
                0 => "callers without a token".to_owned(),
                1 => "one identity".to_owned(),
                n => format!("{n} identities"),
            };
            format!(
                "{} made {} refused calls (of {}) to vault `{vault}` in {}, by {who}{}",
                w.address,
                thousands(w.denied),
                thousands(w.requests),
                span_text(w.start, w.end()),
                if windows.len() > 1 {
                    format!(" ({} windows flagged)", windows.len())
                } else {
                    String::new()
                }
            )
        }
        Some(Observation::FirstSeen(f)) => {
            let values: Vec<String> = matched
                .iter()
                .filter_map(|o| match o {
                    Observation::FirstSeen(f) => Some(format!(
                        "{} at {} ({}{}{} day{} into the logs)",
                        f.value,
                        minute(f.time),
                        if f.fact == Fact::Operation {
                            String::new()
                        } else {
                            format!("{}, ", f.operation)
                        },
                        if f.success { "" } else { "refused, " },
                        f.days_logged_before,
                        if f.days_logged_before == 1 { "" } else { "s" }
                    )),
                    _ => None,
                })
                .collect();
            match f.fact {
                Fact::Identity => format!(
                    "{caller} called vault `{vault}` for the first time at {}{} ({}{}) after {} day{} of logs without it",
                    minute(f.time),
                    match &f.address {
                        Some(address) => format!(" from {address}"),
                        None => String::new(),
                    },
                    f.operation,
                    if f.success { "" } else { ", refused" },
                    f.days_logged_before,
                    if f.days_logged_before == 1 { "" } else { "s" }
                ),
                Fact::Ip => format!(
                    "{caller} called vault `{vault}` from an address it had not called the vault from before: {}",
                    values.join("; ")
                ),
                Fact::Operation => format!(
                    "{caller} ran operations it had never run on vault `{vault}`: {}",
                    values.join("; ")
                ),
                Fact::Secret => format!(
                    "{caller} read secrets of vault `{vault}` it had never read: {}",
                    values.join("; ")
                ),
            }
        }
        Some(Observation::Sequence(_)) => {
            let parts: Vec<String> = matched
                .iter()
                .filter_map(|o| match o {
                    Observation::Sequence(s) => Some(format!(
                        "{} at {}, then {} read{} of {} distinct secret{} by {}",
                        match s.kind {
                            crate::analyze::rates::sequences::SequenceKind::PolicyChangeThenRead => "access-policy change",
                            crate::analyze::rates::sequences::SequenceKind::ListThenRead => "secret listing",
                        },
                        minute(s.start),
                        thousands(s.reads),
                        if s.reads == 1 { "" } else { "s" },
                        s.distinct_secrets,
                        if s.distinct_secrets == 1 { "" } else { "s" },
                        minute(s.end),
                    )),
                    _ => None,
                })
                .collect();
            format!("{caller} in vault `{vault}`: {}", parts.join("; "))
        }
        Some(Observation::Expiry(e)) => {
            let expires = e
                .expires
                .map(|x| format!(", expiry {}", minute(x)))
                .unwrap_or_default();
            match e.event {
                crate::analyze::rates::expiry::ExpiryEvent::Stale => format!(
                    "{} `{}` in vault `{vault}` has no new version in {} days of logs (last read {} by {caller})",
                    e.entity_type.to_lowercase(),
                    e.object,
                    e.logged_days,
                    minute(e.time)
                ),
                event => format!(
                    "{} `{}` in vault `{vault}`: Key Vault reported it {} at {}{expires}{}; no new version was written afterwards in the logs",
                    e.entity_type.to_lowercase(),
                    e.object,
                    if event == crate::analyze::rates::expiry::ExpiryEvent::Expired {
                        "expired"
                    } else {
                        "near expiry"
                    },
                    minute(e.time),
                    if e.expires.is_some() {
                        format!(" ({} days later)", days_left(e))
                    } else {
                        String::new()
                    },
                ),
            }
        }
        Some(Observation::Gap(_)) => gap_message(vault, matched),
        None => caller,
    }
}

/// `72 h`, or minutes under an hour.
fn duration_text(nanos: i64) -> String {
    if nanos >= HOUR_NS {
        format!("{} h", thousands(nanos / HOUR_NS))
    } else {
        format!("{} min", nanos / (60 * 1_000_000_000))
    }
}

fn gap_message(vault: &str, matched: &[Observation<'_>]) -> String {
    let gaps: Vec<&LoggingGap> = matched
        .iter()
        .filter_map(|o| match o {
            Observation::Gap(g) => Some(*g),
            _ => None,
        })
        .collect();
    let Some(g) = gaps
        .iter()
        .max_by_key(|g| (g.length, std::cmp::Reverse(g.start)))
        .copied()
    else {
        return format!("vault `{vault}`");
    };
    let until = match g.end {
        Some(end) => format!("to {}", minute(end)),
        None => "still open at the end of the data".to_owned(),
    };
    let before = if g.usual_longest > 0 {
        format!(
            "its longest silence before: {}",
            duration_text(g.usual_longest)
        )
    } else {
        "no earlier silence to compare with".to_owned()
    };
    let more = if gaps.len() > 1 {
        format!(" ({} gaps flagged)", gaps.len())
    } else {
        String::new()
    };
    format!(
        "vault `{vault}` wrote no audit record for {} from {} {until} ({before}; usually {} record{} a day); last record before it: {}{more}",
        duration_text(g.length),
        minute(g.start),
        thousands(g.records_per_day),
        if g.records_per_day == 1 { "" } else { "s" },
        if g.last_operation.is_empty() {
            "(unknown operation)"
        } else {
            &g.last_operation
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logging_gap_is_judged_without_cedar_errors() {
        use crate::analyze::policy::pack::Source;
        use crate::analyze::policy::tests_runner::{TestEvent, frame_of};
        let hourly = |time: &str, repeat| TestEvent {
            time: time.into(),
            repeat,
            every: 3600.0,
            ..TestEvent::default()
        };
        let frame = frame_of(&[
            hourly("2026-11-01T00:00:00Z", 72),
            hourly("2026-11-04T09:00:00Z", 10),
        ])
        .unwrap();
        let policies = LoadedPolicies::from_sources(&Source::default_pack()).unwrap();
        let observations =
            crate::analyze::rates::observe(&frame, &crate::analyze::rates::RateOptions::default())
                .unwrap();
        assert_eq!(observations.gaps.len(), 1);
        let evaluation = super::super::evaluate(&frame, &observations, &policies).unwrap();
        // The exemption reads principal.kind: Identity::"none" exists.
        assert_eq!(evaluation.evaluation_errors, 0);
        let gap = evaluation
            .findings
            .iter()
            .find(|f| f.rule == "kv-logging-gap")
            .unwrap();
        assert_eq!(gap.principal, None);
        assert_eq!(gap.principal_kind, "none");
    }

    #[test]
    fn spans_read_well() {
        let three = 1_763_607_600_000_000_000; // 2025-11-20T03:00:00Z
        assert_eq!(
            span_text(three, three + HOUR_NS),
            "2025-11-20 03:00–04:00 UTC"
        );
        let midnight = three - 3 * HOUR_NS;
        assert_eq!(
            span_text(midnight, midnight + 24 * HOUR_NS),
            "2025-11-20 (UTC day)"
        );
        assert_eq!(
            span_text(
                three + 20 * HOUR_NS + 59 * 60_000_000_000,
                three + 21 * HOUR_NS
            ),
            "2025-11-20 23:59–00:00 UTC"
        );
    }
}
