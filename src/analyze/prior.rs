//! What earlier runs saw that the events frame no longer holds.
//!
//! The scheduled job keeps only its recent events (enough for the rate
//! baselines) and folds older ones into these aggregates, so that first
//! sightings, learning periods, quiet-window baselines and permission use
//! are judged as if the whole history had been read. A plain `audit` has no
//! prior: [`Prior::default`] changes nothing.

use std::collections::HashMap;

use polars::prelude::*;

use crate::analyze::privilege::usage::UsageTable;
use crate::analyze::rates::events;
use crate::analyze::rates::expiry;
use crate::analyze::rates::first_seen::{self, Sighting};

/// Aggregates of the events older than the frame.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Each vault's first and last event time.
    pub spans: HashMap<String, (i64, i64)>,
    /// When each fact was first seen.
    pub sightings: HashMap<Sighting, i64>,
    /// Permission use per principal and vault.
    pub usage: UsageTable,
    /// The events the rotation analysis reads from all history (see
    /// [`expiry::rotation_history`]), in the events frame's schema.
    pub rotation: Option<DataFrame>,
    /// Learning periods run `learning_days` from a vault's first event,
    /// without the audit's cap at a quarter of the logged span: the job's
    /// span grows every run, and a learning period that grew with it would
    /// call the same fact new on one day and learnt on the next.
    pub fixed_learning: bool,
}

impl Prior {
    /// The aggregates of `events` (normalised events of any period).
    pub fn of_events(events: &DataFrame) -> PolarsResult<Prior> {
        if events.height() == 0 {
            return Ok(Prior::default());
        }
        let authenticated = events::authenticated(events);
        Ok(Prior {
            spans: events::spans_of_vaults(events)?,
            sightings: first_seen::sightings_of(&authenticated)?,
            usage: UsageTable::from_events(events)?,
            rotation: Some(expiry::rotation_history(events)?),
            fixed_learning: false,
        })
    }

    /// Folds `later` (the aggregates of later events) into these.
    pub fn absorb(&mut self, later: Prior) -> PolarsResult<()> {
        self.rotation = match (self.rotation.take(), later.rotation) {
            (Some(mut mine), Some(later)) => {
                mine.vstack_mut_owned(later)?;
                Some(expiry::rotation_history(&mine)?)
            }
            (mine, later) => mine.or(later),
        };
        merge_spans(&mut self.spans, &later.spans);
        for (key, time) in later.sightings {
            self.sightings
                .entry(key)
                .and_modify(|t| *t = (*t).min(time))
                .or_insert(time);
        }
        self.usage.absorb(&later.usage);
        Ok(())
    }

    /// `frame`'s vault spans widened by what came before.
    pub fn spans_with(&self, frame: &HashMap<String, (i64, i64)>) -> HashMap<String, (i64, i64)> {
        let mut spans = self.spans.clone();
        merge_spans(&mut spans, frame);
        spans
    }

    /// When each (principal, vault) was first seen, from the identity sightings.
    pub fn arrivals(&self) -> HashMap<(String, String), i64> {
        first_seen::arrivals(&self.sightings)
    }

    /// Drops permission use last seen before `cutoff_ns` (the job keeps 90 days).
    pub fn forget_usage_before(&mut self, cutoff_ns: i64) {
        for uses in self.usage.by_principal.values_mut() {
            uses.retain(|_, u| u.last_ns >= cutoff_ns);
        }
        self.usage.by_principal.retain(|_, uses| !uses.is_empty());
    }
}

fn merge_spans(into: &mut HashMap<String, (i64, i64)>, other: &HashMap<String, (i64, i64)>) {
    for (vault, &(first, last)) in other {
        into.entry(vault.clone())
            .and_modify(|(f, l)| {
                *f = (*f).min(first);
                *l = (*l).max(last);
            })
            .or_insert((first, last));
    }
}
