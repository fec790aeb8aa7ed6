//! Abnormal access rates: the facts Cedar policies judge beyond single
//! events. Polars counts; the policies in `policies/abnormal-rate.cedar` and
//! `policies/rotation.cedar` decide what is abnormal, so every threshold is
//! visible and editable.
//!
//! - [`windows`]: per identity and vault, counts over 1m/5m/1h/1d windows
//!   with the identity's own baseline ([`baseline`]);
//! - [`objects`]: hourly reads of one secret by one identity (caching);
//! - [`addresses`]: refused calls per caller address;
//! - [`first_seen`]: identities, addresses, operations and secrets new to a vault;
//! - [`sequences`]: policy change then reads, list then reads;
//! - [`expiry`]: near-expiry and expired objects not rotated, stale secrets;
//! - [`gaps`]: vaults whose records stop for longer than their usual silences.
//!
//! Quiet windows never reach Cedar: each analysis keeps only what reaches
//! its floors (documented beside each), so the Cedar cost follows the
//! number of unusual windows, not the number of events.

pub mod addresses;
pub mod baseline;
pub mod events;
pub mod expiry;
pub mod first_seen;
pub mod gaps;
pub mod objects;
pub mod sequences;
pub mod windows;

use polars::prelude::*;
use serde::Serialize;

use crate::analyze::prior::Prior;

pub use addresses::AddressWindow;
pub use baseline::Metric;
pub use expiry::Expiry;
pub use first_seen::FirstSeen;
pub use gaps::LoggingGap;
pub use objects::ObjectReadWindow;
pub use sequences::Sequence;
pub use windows::{COUNTS, RateWindow};

/// How much history the rate analyses use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateOptions {
    /// At most this many days before a window form its baseline.
    pub baseline_days: i64,
    /// Nothing seen in a vault's first days is "first seen" (capped at a
    /// quarter of the vault's logged span).
    pub learning_days: i64,
    /// A secret read in logs spanning more than this many days without a
    /// new version is stale.
    pub max_secret_age_days: i64,
}

/// `--baseline-days` and `rates.baseline-days` when not given.
pub const DEFAULT_BASELINE_DAYS: u32 = 30;
/// `--learning-days` and `rates.learning-days` when not given.
pub const DEFAULT_LEARNING_DAYS: u32 = 7;
/// `--max-secret-age` and `rates.max-secret-age` when not given.
pub const DEFAULT_MAX_SECRET_AGE_DAYS: u32 = 365;

impl Default for RateOptions {
    fn default() -> Self {
        RateOptions {
            baseline_days: i64::from(DEFAULT_BASELINE_DAYS),
            learning_days: i64::from(DEFAULT_LEARNING_DAYS),
            max_secret_age_days: i64::from(DEFAULT_MAX_SECRET_AGE_DAYS),
        }
    }
}

/// Everything the rate analyses found worth judging.
#[derive(Debug, Default)]
pub struct Observations {
    pub windows: Vec<RateWindow>,
    pub object_windows: Vec<ObjectReadWindow>,
    pub address_windows: Vec<AddressWindow>,
    pub first_seen: Vec<FirstSeen>,
    pub sequences: Vec<Sequence>,
    pub expiries: Vec<Expiry>,
    pub gaps: Vec<LoggingGap>,
    pub stats: RateStats,
    /// Rows of each caller's events, for evidence.
    pub index: events::EventIndex,
}

/// What the rate stage counted, for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RateStats {
    /// Non-empty (identity, vault, window) counts computed, all sizes.
    pub windows_counted: u64,
    /// Wall time of each analysis, for `--timings` and the benchmark.
    pub seconds: Vec<(&'static str, f64)>,
}

impl Observations {
    pub fn len(&self) -> usize {
        self.windows.len()
            + self.object_windows.len()
            + self.address_windows.len()
            + self.first_seen.len()
            + self.sequences.len()
            + self.expiries.len()
            + self.gaps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the facts about events at or after `from_ns` (what a job run
    /// newly read): windows that end after it, sightings and sequences that
    /// reach it, logging gaps that end at or after it or are still open.
    /// Expiry facts describe the present state and are all kept.
    pub fn retain_from(&mut self, from_ns: i64) {
        use windows::{HOUR_NS, MINUTE_NS};
        self.windows
            .retain(|w| w.start + w.minutes * MINUTE_NS > from_ns);
        self.object_windows.retain(|w| w.start + HOUR_NS > from_ns);
        self.address_windows
            .retain(|w| w.start + addresses::MINUTES * MINUTE_NS > from_ns);
        self.first_seen.retain(|f| f.time >= from_ns);
        self.sequences.retain(|s| s.end >= from_ns);
        self.gaps.retain(|g| g.end.is_none_or(|end| end >= from_ns));
    }
}

/// Runs every rate analysis over the events frame.
pub fn observe(events: &DataFrame, options: &RateOptions) -> PolarsResult<Observations> {
    observe_after(events, options, &Prior::default())
}

/// [`observe`] over a frame whose older events `prior` summarises (the
/// scheduled job's history).
pub fn observe_after(
    events: &DataFrame,
    options: &RateOptions,
    prior: &Prior,
) -> PolarsResult<Observations> {
    observe_with(events, options, prior, None)
}

/// Under `--pushdown` the events frame holds only the events that matter
/// (`queries/pushdown-events.kql`) and those of the flagged rate windows
/// (`queries/pushdown-flagged.kql`). These analyses need every event and are
/// not run then, rather than report from a subset: a caller's routine reads
/// are missing, so first-seen would call known identities, addresses and
/// secrets new, the caching analysis would see no reads, and a sequence's
/// reads after a change would be missing, and a vault's routine records
/// would be missing from its silences (every quiet hour a logging gap).
pub const NEED_EVERY_EVENT: [&str; 4] = [
    "first-seen",
    "objects (caching)",
    "sequences",
    "logging gaps",
];

/// [`observe_after`], with the window counts of `--pushdown` (the table of
/// `queries/pushdown-windows.kql`) when given: the windows are judged from
/// them, the analyses in [`NEED_EVERY_EVENT`] are not run, and the others
/// (refusals per address, expiry) run on the events frame, which holds
/// every refusal, write and notification they read.
pub fn observe_with(
    events: &DataFrame,
    options: &RateOptions,
    prior: &Prior,
    pushdown_counts: Option<&DataFrame>,
) -> PolarsResult<Observations> {
    if events.height() == 0 && pushdown_counts.is_none() {
        return Ok(Observations::default());
    }
    let mut seconds = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        seconds.push((name, clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    let authenticated = events::authenticated(events).collect()?;
    let lazy = authenticated.clone().lazy();
    let spans = prior.spans_with(&events::spans_of_vaults(events)?);
    let learning_ends =
        first_seen::learning_ends(&spans, options.learning_days, prior.fixed_learning);
    lap("events");
    let windows = match pushdown_counts {
        Some(counted) => {
            windows::rate_windows_from_counts(counted, options.baseline_days, &prior.arrivals())?
        }
        None => windows::rate_windows(&lazy, options.baseline_days, &prior.arrivals())?,
    };
    lap("windows");
    let every_event = pushdown_counts.is_none();
    let object_windows = if every_event {
        objects::object_read_windows(&lazy)?
    } else {
        Vec::new()
    };
    lap("objects");
    let address_windows = addresses::address_windows(events)?;
    lap("addresses");
    let first_seen = if every_event {
        first_seen::first_seen(&lazy, &spans, &learning_ends, &prior.sightings)?
    } else {
        Vec::new()
    };
    lap("first-seen");
    let sequences = if every_event {
        sequences::sequences(&lazy)?
    } else {
        Vec::new()
    };
    lap("sequences");
    let expiries = expiry::expiries(
        events,
        prior.rotation.as_ref(),
        &spans,
        options.max_secret_age_days,
    )?;
    lap("expiry");
    let gaps = if every_event {
        gaps::logging_gaps(events, &spans, options.baseline_days)?
    } else {
        Vec::new()
    };
    lap("logging-gaps");
    let index = events::EventIndex::build(&authenticated)?;
    lap("index");
    let observations = Observations {
        object_windows,
        address_windows,
        first_seen,
        sequences,
        expiries,
        gaps,
        windows: windows.judged,
        index,
        stats: RateStats {
            windows_counted: windows.counted,
            seconds,
        },
    };
    Ok(observations)
}
