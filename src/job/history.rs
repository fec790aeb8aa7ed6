//! The history a run analyses besides the logs it newly read: the recent
//! events (one Parquet file per UTC day, enough days for the rate
//! baselines) and the [`Prior`] aggregates of every older day.
//!
//! A day leaves the event files once it is older than the baseline needs;
//! it is then folded into the aggregates (first sightings, vault spans,
//! permission use), which is all the analyses still ask of it.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, NaiveDate};
use polars::prelude::*;

use super::state::{Generation, Manifest, StateDir};
use crate::analyze::columns::{integers, strings};
use crate::analyze::prior::{Prior, Sighting};
use crate::analyze::rates::first_seen::Fact;
use crate::analyze::rates::windows::DAY_NS;
use crate::ingest::{self, Input};

const EVENTS: &str = "events/";
const SIGHTINGS: &str = "prior/sightings";
const USAGE: &str = "prior/usage";
const USAGE_WINDOWS: &str = "prior/usage-windows";
const SPANS: &str = "prior/spans";
const ROTATION: &str = "prior/rotation";

/// What the state holds of earlier runs' events.
pub struct History {
    /// The recent events, in time order.
    pub events: DataFrame,
    pub prior: Prior,
}

/// How long the history keeps what.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Days of events kept before the newest event's day.
    pub event_days: i64,
    /// Days of permission use kept (by last use).
    pub usage_days: i64,
}

impl Retention {
    /// Enough days for a window on the day after the newest to have its full
    /// baseline, plus one for windows that straddle midnight.
    pub fn for_baseline(baseline_days: i64, usage_days: i64) -> Retention {
        Retention {
            event_days: baseline_days + 1,
            usage_days,
        }
    }
}

fn day_of(nanos: i64) -> i64 {
    nanos.div_euclid(DAY_NS)
}

fn day_role(day: i64) -> String {
    let date = DateTime::from_timestamp(day * 86_400, 0)
        .map_or_else(|| format!("day-{day}"), |t| t.date_naive().to_string());
    format!("{EVENTS}{date}")
}

fn role_day(role: &str) -> Option<i64> {
    let date: NaiveDate = role.strip_prefix(EVENTS)?.parse().ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() / 86_400)
}

/// Reads the history of the committed generation (empty without one).
pub fn load(state: &StateDir, manifest: Option<&Manifest>) -> anyhow::Result<History> {
    let Some(manifest) = manifest else {
        return Ok(History {
            events: crate::ingest::schema::empty_frame()?,
            prior: Prior::default(),
        });
    };
    let mut frames = Vec::new();
    for role in manifest.documents.keys().filter(|r| r.starts_with(EVENTS)) {
        frames.push(read_events(state, manifest, role)?);
    }
    Ok(History {
        events: ingest::combine(frames)?,
        prior: load_prior(state, manifest)?,
    })
}

fn read_events(state: &StateDir, manifest: &Manifest, role: &str) -> anyhow::Result<DataFrame> {
    let path = state
        .document_path(manifest, role)
        .with_context(|| format!("the state names no {role}"))?;
    let read = ingest::parquet::read(&Input::File(path.clone()))?;
    match read.frame {
        Some(frame) if read.rejections.is_empty() => Ok(frame),
        _ => anyhow::bail!(
            "{} is damaged; move the state directory aside to start afresh",
            path.display()
        ),
    }
}

/// Writes the next generation's history: the days `new` touches are
/// rewritten with its events added, days past the retention are folded
/// into the aggregates, the other days are carried over.
pub fn save(
    state: &StateDir,
    previous: Option<&Manifest>,
    mut prior: Prior,
    new: &DataFrame,
    retention: Retention,
    next: &mut Generation,
) -> anyhow::Result<()> {
    let mut days: BTreeMap<i64, Option<String>> = previous
        .map(|m| {
            m.documents
                .keys()
                .filter_map(|role| Some((role_day(role)?, Some(role.clone()))))
                .collect()
        })
        .unwrap_or_default();
    let by_day = split_by_day(new)?;
    for day in by_day.keys() {
        days.entry(*day).or_insert(None);
    }
    let Some(&newest) = days.keys().next_back() else {
        write_prior(&prior, next)?;
        return Ok(());
    };
    let oldest_kept = newest - retention.event_days;
    for (day, old_role) in days {
        let added = by_day.get(&day);
        let old = match (&old_role, added.is_some() || day < oldest_kept) {
            (Some(role), true) => Some(read_events(
                state,
                previous.expect("roles come from it"),
                role,
            )?),
            _ => None,
        };
        if day < oldest_kept {
            let frames: Vec<DataFrame> = old.into_iter().chain(added.cloned()).collect();
            prior.absorb(Prior::of_events(&ingest::combine(frames)?)?)?;
        } else if let Some(added) = added {
            let frames: Vec<DataFrame> = old.into_iter().chain([added.clone()]).collect();
            next.write_parquet(&day_role(day), &mut ingest::combine(frames)?)?;
        } else if let (Some(role), Some(previous)) = (&old_role, previous) {
            next.keep(previous, role);
        }
    }
    prior.forget_usage_before((newest + 1 - retention.usage_days) * DAY_NS);
    write_prior(&prior, next)
}

fn split_by_day(events: &DataFrame) -> anyhow::Result<BTreeMap<i64, DataFrame>> {
    let mut out = BTreeMap::new();
    if events.height() == 0 {
        return Ok(out);
    }
    let time = events.column("time")?.cast(&DataType::Int64)?;
    let days: Vec<i64> = time.i64()?.iter().map(|t| day_of(t.unwrap_or(0))).collect();
    let day_column = Column::new("__day".into(), &days);
    let mut distinct = days.clone();
    distinct.dedup();
    distinct.sort_unstable();
    distinct.dedup();
    for day in distinct {
        let mask = day_column.as_materialized_series().equal(day)?;
        out.insert(day, events.filter(&mask)?);
    }
    Ok(out)
}

fn write_prior(prior: &Prior, next: &mut Generation) -> anyhow::Result<()> {
    let mut sightings: Vec<(&Sighting, &i64)> = prior.sightings.iter().collect();
    sightings.sort();
    let mut frame = df!(
        "vault" => sightings.iter().map(|(k, _)| k.vault.as_str()).collect::<Vec<_>>(),
        "fact" => sightings.iter().map(|(k, _)| k.fact.as_str()).collect::<Vec<_>>(),
        "principal" => sightings.iter().map(|(k, _)| k.principal.as_str()).collect::<Vec<_>>(),
        "value" => sightings.iter().map(|(k, _)| k.value.as_str()).collect::<Vec<_>>(),
        "first" => sightings.iter().map(|(_, t)| **t).collect::<Vec<_>>(),
    )?;
    next.write_parquet(SIGHTINGS, &mut frame)?;

    let (mut uses, mut windows) = prior.usage.to_frames()?;
    next.write_parquet(USAGE, &mut uses)?;
    next.write_parquet(USAGE_WINDOWS, &mut windows)?;

    let mut spans: Vec<(&String, &(i64, i64))> = prior.spans.iter().collect();
    spans.sort();
    let mut frame = df!(
        "vault" => spans.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(),
        "first" => spans.iter().map(|(_, s)| s.0).collect::<Vec<_>>(),
        "last" => spans.iter().map(|(_, s)| s.1).collect::<Vec<_>>(),
    )?;
    next.write_parquet(SPANS, &mut frame)?;
    if let Some(rotation) = &prior.rotation {
        next.write_parquet(ROTATION, &mut rotation.clone())?;
    }
    Ok(())
}

fn load_prior(state: &StateDir, manifest: &Manifest) -> anyhow::Result<Prior> {
    let mut prior = Prior::default();
    let missing = |role: &str| {
        anyhow::anyhow!("the state has no {role}; move the state directory aside to start afresh")
    };
    let frame = state
        .read_parquet(manifest, SIGHTINGS)?
        .ok_or_else(|| missing(SIGHTINGS))?;
    let (vaults, facts, principals, values, firsts) = (
        strings(frame.column("vault")?)?,
        strings(frame.column("fact")?)?,
        strings(frame.column("principal")?)?,
        strings(frame.column("value")?)?,
        integers(frame.column("first")?)?,
    );
    for i in 0..frame.height() {
        let fact = facts[i].as_deref().and_then(Fact::parse);
        if let (Some(vault), Some(fact), Some(principal), Some(value), Some(first)) = (
            vaults[i].clone(),
            fact,
            principals[i].clone(),
            values[i].clone(),
            firsts[i],
        ) {
            let key = Sighting {
                vault,
                fact,
                principal,
                value,
            };
            prior.sightings.insert(key, first);
        }
    }

    let uses = state
        .read_parquet(manifest, USAGE)?
        .ok_or_else(|| missing(USAGE))?;
    prior.usage.add_uses(&uses)?;
    let windows = state
        .read_parquet(manifest, USAGE_WINDOWS)?
        .ok_or_else(|| missing(USAGE_WINDOWS))?;
    prior.usage.add_windows(&windows)?;

    let frame = state
        .read_parquet(manifest, SPANS)?
        .ok_or_else(|| missing(SPANS))?;
    let vaults = strings(frame.column("vault")?)?;
    let (firsts, lasts) = (
        integers(frame.column("first")?)?,
        integers(frame.column("last")?)?,
    );
    let spans: HashMap<String, (i64, i64)> = (0..frame.height())
        .filter_map(|i| Some((vaults[i].clone()?, (firsts[i]?, lasts[i]?))))
        .collect();
    prior.spans = spans;
    if manifest.documents.contains_key(ROTATION) {
        prior.rotation = Some(read_events(state, manifest, ROTATION)?);
    }
    Ok(prior)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_roles_round_trip() {
        let day = day_of(1_795_000_000 * 1_000_000_000);
        assert_eq!(role_day(&day_role(day)), Some(day));
        assert!(day_role(day).starts_with("events/2026-"));
    }
}
