//! Window statistics: per identity and vault, counts over 1-minute,
//! 5-minute, 1-hour and 1-day windows (polars), each against the identity's
//! own history in the same time-of-day slot, and the filter that keeps quiet
//! windows away from Cedar.

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;

use super::baseline::Metric;
use super::events::{CALLER, caller_columns, callers};
use crate::analyze::columns::UNKNOWN_VAULT;
use crate::analyze::columns::{integers, strings};

pub const MINUTE_NS: i64 = 60 * 1_000_000_000;
pub const HOUR_NS: i64 = 60 * MINUTE_NS;
pub const DAY_NS: i64 = 24 * HOUR_NS;

/// A window length and the request count below which its windows are not
/// judged on volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
    pub label: &'static str,
    pub minutes: i64,
    pub request_floor: i64,
}

impl WindowSize {
    pub fn nanos(self) -> i64 {
        self.minutes * MINUTE_NS
    }
}

pub const WINDOW_SIZES: [WindowSize; 4] = [
    WindowSize {
        label: "1m",
        minutes: 1,
        request_floor: 30,
    },
    WindowSize {
        label: "5m",
        minutes: 5,
        request_floor: 100,
    },
    WindowSize {
        label: "1h",
        minutes: 60,
        request_floor: 100,
    },
    WindowSize {
        label: "1d",
        minutes: 24 * 60,
        request_floor: 500,
    },
];

/// The counts of a window, in this order everywhere (Cedar context, CSV).
pub const COUNTS: [&str; 6] = [
    "requests",
    "secret_reads",
    "distinct_secrets",
    "denied",
    "throttled",
    "distinct_ips",
];

/// Floors of the other counts: a window is judged when a count reaches its
/// floor and is above the identity's usual (see [`Metric::above_usual`]).
const DISTINCT_SECRETS_FLOOR: i64 = 5;
const DENIED_FLOOR: i64 = 5;
const THROTTLED_FLOOR: i64 = 10;

/// One identity's traffic to one vault in one window.
#[derive(Debug, Clone, Serialize)]
pub struct RateWindow {
    pub principal: String,
    pub vault: String,
    pub window: &'static str,
    pub minutes: i64,
    /// Window start, ns since the epoch.
    pub start: i64,
    pub history_days: i64,
    /// In [`COUNTS`] order.
    pub metrics: [Metric; 6],
}

impl RateWindow {
    pub fn end(&self) -> i64 {
        self.start + self.minutes * MINUTE_NS
    }

    pub fn metric(&self, name: &str) -> Option<&Metric> {
        COUNTS
            .iter()
            .position(|c| *c == name)
            .map(|i| &self.metrics[i])
    }

    /// Whether any count reaches its floor while above the identity's usual.
    fn worth_judging(&self, size: WindowSize) -> bool {
        self.metrics
            .iter()
            .zip(floors(size))
            .any(|(m, floor)| m.value >= floor && m.above_usual())
    }
}

/// The floor of each count, in [`COUNTS`] order (`i64::MAX`: never judged on its own).
fn floors(size: WindowSize) -> [i64; 6] {
    [
        size.request_floor,
        i64::MAX,
        DISTINCT_SECRETS_FLOOR,
        DENIED_FLOOR,
        THROTTLED_FLOOR,
        i64::MAX,
    ]
}

/// What [`rate_windows`] computed and kept.
#[derive(Debug, Default)]
pub struct Windows {
    /// Windows worth a Cedar evaluation.
    pub judged: Vec<RateWindow>,
    /// Non-empty windows counted, all sizes.
    pub counted: u64,
}

/// Counts of every non-empty window of `size`, sorted by caller, then start.
fn counts(authenticated: &LazyFrame, size: WindowSize) -> PolarsResult<DataFrame> {
    let mut keys = caller_columns();
    keys.push(col("start"));
    let mut order: Vec<&str> = CALLER.to_vec();
    order.push("start");
    authenticated
        .clone()
        .with_column((col("t") - col("t") % lit(size.nanos())).alias("start"))
        .group_by(keys)
        .agg([
            len().cast(DataType::Int64).alias("requests"),
            col("secret_read")
                .cast(DataType::Int64)
                .sum()
                .alias("secret_reads"),
            col("object")
                .filter(col("secret_read").and(col("object").is_not_null()))
                .n_unique()
                .cast(DataType::Int64)
                .alias("distinct_secrets"),
            col("denied").cast(DataType::Int64).sum().alias("denied"),
            col("throttled")
                .cast(DataType::Int64)
                .sum()
                .alias("throttled"),
            col("ip")
                .drop_nulls()
                .n_unique()
                .cast(DataType::Int64)
                .alias("distinct_ips"),
        ])
        .sort(order, SortMultipleOptions::default())
        .collect()
}

/// The windows worth judging, every size, each with its baseline.
/// `arrivals` holds when callers were first seen before the frame (the
/// job's older history), so their quiet days before the frame still count.
pub fn rate_windows(
    authenticated: &LazyFrame,
    baseline_days: i64,
    arrivals: &HashMap<(String, String), i64>,
) -> PolarsResult<Windows> {
    let mut result = Windows::default();
    for size in WINDOW_SIZES {
        let frame = counts(authenticated, size)?;
        let callers = callers(&frame)?;
        judge_counts(&frame, callers, size, baseline_days, arrivals, &mut result)?;
    }
    Ok(result)
}

/// [`rate_windows`] over counts made elsewhere: the `--pushdown` table of
/// `queries/pushdown-windows.kql` (`caller`, `vault`, `minutes`, `start` in
/// ns, the [`COUNTS`]), sorted by caller, vault, minutes, start. From here on
/// both take the same path, so the baselines and floors are the same code.
pub fn rate_windows_from_counts(
    counted: &DataFrame,
    baseline_days: i64,
    arrivals: &HashMap<(String, String), i64>,
) -> PolarsResult<Windows> {
    let mut result = Windows::default();
    for size in WINDOW_SIZES {
        let frame = counted
            .clone()
            .lazy()
            .filter(col("minutes").eq(lit(size.minutes)))
            .sort(["caller", "vault", "start"], SortMultipleOptions::default())
            .collect()?;
        let caller = strings(frame.column("caller")?)?;
        let vault = strings(frame.column("vault")?)?;
        let callers = caller
            .into_iter()
            .zip(vault)
            .map(|(c, v)| {
                (
                    c.unwrap_or_else(|| "unknown".to_owned()),
                    // An empty vault is what the KQL makes of kvaudit's missing one.
                    v.filter(|v| !v.is_empty())
                        .unwrap_or_else(|| UNKNOWN_VAULT.to_owned()),
                )
            })
            .collect();
        judge_counts(&frame, callers, size, baseline_days, arrivals, &mut result)?;
    }
    Ok(result)
}

/// Judges every window of one size: `frame` holds `start` and the
/// [`COUNTS`], one row per window, `callers` the (principal, vault) of each
/// row; rows of a caller are contiguous and in time order.
fn judge_counts(
    frame: &DataFrame,
    callers: Vec<(String, String)>,
    size: WindowSize,
    baseline_days: i64,
    arrivals: &HashMap<(String, String), i64>,
    result: &mut Windows,
) -> PolarsResult<()> {
    result.counted += frame.height() as u64;
    let start: Vec<i64> = integers(frame.column("start")?)?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let values: Vec<Vec<i64>> = COUNTS
        .iter()
        .map(|c| {
            Ok(integers(frame.column(c)?)?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect())
        })
        .collect::<PolarsResult<_>>()?;
    let mut from = 0;
    while from < frame.height() {
        let to = (from..frame.height())
            .find(|&i| callers[i] != callers[from])
            .unwrap_or(frame.height());
        let first = start[from].min(arrivals.get(&callers[from]).copied().unwrap_or(i64::MAX));
        let series = Series {
            first_day: first - first.rem_euclid(DAY_NS),
            start: &start[from..to],
            values: values.iter().map(|v| &v[from..to]).collect(),
        };
        let floors = floors(size);
        for i in 0..series.start.len() {
            // Baselines cost a sort each: skip windows no count can be judged on.
            if !(0..COUNTS.len()).any(|c| series.values[c][i] >= floors[c]) {
                continue;
            }
            let (principal, vault) = &callers[from];
            let window = series.judge(i, size, baseline_days, principal, vault);
            if window.worth_judging(size) {
                result.judged.push(window);
            }
        }
        from = to;
    }
    Ok(())
}

/// One (principal, vault)'s windows of one size, in time order.
struct Series<'a> {
    /// The day the identity was first seen in the vault.
    first_day: i64,
    start: &'a [i64],
    /// Per count, per window.
    values: Vec<&'a [i64]>,
}

impl Series<'_> {
    /// Window `i` with its baseline: the windows of the same slot (the same
    /// UTC hour of day for windows up to an hour, the whole day for daily
    /// windows) on each earlier day since the identity's first activity, up
    /// to `baseline_days`; quiet windows in those slots count as zeros.
    fn judge(
        &self,
        i: usize,
        size: WindowSize,
        baseline_days: i64,
        principal: &str,
        vault: &str,
    ) -> RateWindow {
        let start = self.start[i];
        let day = start - start.rem_euclid(DAY_NS);
        let history_from = self.first_day.max(day - baseline_days * DAY_NS);
        let history_days = ((day - history_from) / DAY_NS).max(0);
        let (slot_offset, slot_len) = if size.nanos() >= DAY_NS {
            (0, DAY_NS)
        } else {
            let offset = start - day;
            (offset - offset.rem_euclid(HOUR_NS), HOUR_NS)
        };
        let slots_per_day = (slot_len / size.nanos()).max(1) as usize;
        let mut present: Vec<Vec<i64>> = vec![Vec::new(); COUNTS.len()];
        for d in 0..history_days {
            let slot_start = history_from + d * DAY_NS + slot_offset;
            let lo = self.start.partition_point(|&s| s < slot_start);
            let hi = self.start.partition_point(|&s| s < slot_start + slot_len);
            for (c, values) in self.values.iter().enumerate() {
                present[c].extend_from_slice(&values[lo..hi]);
            }
        }
        let total = history_days as usize * slots_per_day;
        let metrics = std::array::from_fn(|c| {
            let zeros = total.saturating_sub(present[c].len());
            Metric::against(self.values[c][i], &present[c], zeros)
        });
        RateWindow {
            principal: principal.to_owned(),
            vault: vault.to_owned(),
            window: size.label,
            minutes: size.minutes,
            start,
            history_days,
            metrics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_window_table_has_the_counts_kvaudit_judges() {
        use crate::ingest::azure_monitor::pushdown::window_counts;
        let counts: Vec<&str> = window_counts().collect();
        assert_eq!(counts, COUNTS);
    }

    fn series_of(starts: &[i64], requests: &[i64]) -> (Vec<i64>, Vec<Vec<i64>>) {
        let zeros = vec![0; starts.len()];
        let mut values = vec![requests.to_vec()];
        values.extend((1..COUNTS.len()).map(|_| zeros.clone()));
        (starts.to_vec(), values)
    }

    #[test]
    fn hourly_baseline_uses_the_same_hour_on_earlier_days() {
        // A nightly job: 1,000 requests at 02:00 every day, nothing else.
        let starts: Vec<i64> = (0..5).map(|d| d * DAY_NS + 2 * HOUR_NS).collect();
        let (start, values) = series_of(&starts, &[1_000, 1_010, 990, 1_005, 1_000]);
        let series = Series {
            first_day: start[0] - start[0].rem_euclid(DAY_NS),
            start: &start,
            values: values.iter().map(Vec::as_slice).collect(),
        };
        let hour = WINDOW_SIZES[2];
        let w = series.judge(4, hour, 30, "p", "v");
        assert_eq!(w.history_days, 4);
        assert_eq!(w.metrics[0].history, 4);
        assert!(w.metrics[0].score.abs() < 2.0, "{:?}", w.metrics[0]);
        assert!(!w.worth_judging(hour));
    }

    #[test]
    fn sub_hour_windows_count_the_quiet_minutes_of_the_slot() {
        // One 1-minute window of 40 requests at 02:00 on each of 3 days.
        let starts: Vec<i64> = (0..3).map(|d| d * DAY_NS + 2 * HOUR_NS).collect();
        let (start, values) = series_of(&starts, &[40, 40, 40]);
        let series = Series {
            first_day: start[0] - start[0].rem_euclid(DAY_NS),
            start: &start,
            values: values.iter().map(Vec::as_slice).collect(),
        };
        let minute = WINDOW_SIZES[0];
        let w = series.judge(2, minute, 30, "p", "v");
        // Two earlier days x 60 minutes in the 02:00 hour.
        assert_eq!(w.metrics[0].history, 120);
        assert_eq!(w.metrics[0].median, 0.0);
        assert_eq!(w.metrics[0].p90, 0);
        assert!(w.worth_judging(minute));
    }

    #[test]
    fn baseline_days_bound_the_history() {
        let starts: Vec<i64> = (0..40).map(|d| d * DAY_NS).collect();
        let requests: Vec<i64> = (0..40).map(|d| if d < 20 { 5_000 } else { 600 }).collect();
        let (start, values) = series_of(&starts, &requests);
        let series = Series {
            first_day: start[0] - start[0].rem_euclid(DAY_NS),
            start: &start,
            values: values.iter().map(Vec::as_slice).collect(),
        };
        let day = WINDOW_SIZES[3];
        let w = series.judge(39, day, 7, "p", "v");
        assert_eq!(w.history_days, 7);
        assert_eq!(w.metrics[0].median, 600.0);
    }
}
