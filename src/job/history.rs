//! The history a run analyses besides the logs it newly read: the recent
//! events (one Parquet file per UTC day, enough days for the rate
//! baselines) and the [`Prior`] aggregates of every older day.
//!
//! A day leaves the event files once it is older than the baseline needs;
//! it is then folded into the aggregates (first sightings, vault spans,
//! permission use), which is all the analyses still ask of it.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::DateTime;
use polars::prelude::*;

use super::state::{Generation, Manifest, StateDir};
use crate::analyze::columns::{integers, strings};
use crate::analyze::prior::Prior;
use crate::analyze::rates::first_seen::Fact;
use crate::analyze::rates::first_seen::Sighting;
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

/// Writes the next generation's history from `events` (the run's whole
/// frame: history and new rows): the days `new` touches are rewritten, days
/// past the retention are folded into the aggregates, the other days'
/// files are carried over unread.
pub fn save(
    previous: Option<&Manifest>,
    mut prior: Prior,
    events: &DataFrame,
    new: &DataFrame,
    retention: Retention,
    next: &mut Generation,
) -> anyhow::Result<()> {
    let touched = days_of(new)?;
    let days = days_of(events)?;
    let Some(&newest) = days.last() else {
        write_prior(&prior, next)?;
        return Ok(());
    };
    let oldest_kept = newest - retention.event_days;
    let rewritten = |day: i64| day < oldest_kept || touched.binary_search(&day).is_ok();
    let frames = split_by_day(events, &rewritten)?;
    for day in days {
        let role = day_role(day);
        match frames.get(&day) {
            Some(frame) if day < oldest_kept => prior.absorb(Prior::of_events(frame)?)?,
            Some(frame) => next.write_parquet(&role, &mut frame.clone())?,
            None => {
                if let Some(previous) = previous {
                    next.keep(previous, &role);
                }
            }
        }
    }
    prior.forget_usage_before((newest + 1 - retention.usage_days) * DAY_NS);
    write_prior(&prior, next)
}

/// The UTC day of each event, as day numbers since the epoch.
fn day_column(events: &DataFrame) -> anyhow::Result<Vec<i64>> {
    let time = events.column("time")?.cast(&DataType::Int64)?;
    Ok(time.i64()?.iter().map(|t| day_of(t.unwrap_or(0))).collect())
}

/// The distinct days of the events, sorted.
fn days_of(events: &DataFrame) -> anyhow::Result<Vec<i64>> {
    let mut days = day_column(events)?;
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// The events of each day `wanted` selects.
fn split_by_day(
    events: &DataFrame,
    wanted: &dyn Fn(i64) -> bool,
) -> anyhow::Result<BTreeMap<i64, DataFrame>> {
    let days = day_column(events)?;
    let column = Column::new("__day".into(), &days);
    let mut out = BTreeMap::new();
    for day in days_of(events)?.into_iter().filter(|d| wanted(*d)) {
        let mask = column.as_materialized_series().equal(day)?;
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
    fn a_day_file_is_named_by_its_utc_date() {
        // 2026-11-20T23:59:59Z and the next second fall on different days.
        let last_second = 1_795_219_199 * 1_000_000_000;
        assert_eq!(day_role(day_of(last_second)), "events/2026-11-20");
        assert_eq!(
            day_role(day_of(last_second + 1_000_000_000)),
            "events/2026-11-21"
        );
    }
}
