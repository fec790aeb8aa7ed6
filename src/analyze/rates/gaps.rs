//! Logging gaps: a vault whose audit records stop for far longer than its
//! usual quiet spells. Removing a vault's diagnostic setting is what an
//! attacker does before reading its secrets (MITRE ATT&CK T1562.008, impair
//! defenses: disable cloud logs) and what a broken deployment does; the logs
//! alone show it as a silence.
//!
//! Each vault's silences are the times between its consecutive records
//! (every record counts, the Authentication challenge and Key Vault's own
//! notifications too: they show the logs were flowing), plus one open
//! silence from its last record to the end of the data (the newest record of
//! any vault). A silence of [`CANDIDATE_NS`] or more is a [`LoggingGap`],
//! with the vault's own rhythm before it (its longest earlier silence and
//! its volume over `--baseline-days`); `policies/logging.cedar` decides which
//! gaps are findings.

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;

use super::windows::{DAY_NS, HOUR_NS};
use crate::analyze::columns::{integers, is_success, strings};

/// Silences shorter than this never reach Cedar.
pub const CANDIDATE_NS: i64 = 2 * HOUR_NS;

/// A successful `VaultDelete` at most this long before a vault's last
/// record means the vault was deleted, not that its logging stopped.
pub const DELETE_WINDOW_NS: i64 = HOUR_NS;

/// One silence of a vault.
#[derive(Debug, Clone, Serialize)]
pub struct LoggingGap {
    pub vault: String,
    /// The last record before the silence, ns since the epoch.
    pub start: i64,
    /// The first record after it; `None` when the silence lasts to the end
    /// of the data.
    pub end: Option<i64>,
    /// The silence's length, ns (to the end of the data when open).
    pub length: i64,
    /// The vault's longest silence that ended before this one began, within
    /// the baseline days before it, ns (0 when it has no earlier record pair).
    pub usual_longest: i64,
    /// The vault's records per day over the baseline days before the gap.
    pub records_per_day: i64,
    /// Whole days of the vault's records before the gap.
    pub history_days: i64,
    /// Operation of the last record before the gap.
    pub last_operation: String,
    /// A successful `VaultDelete` within [`DELETE_WINDOW_NS`] before the gap.
    pub deleted: bool,
    /// Rows of the last record before the gap and the first after it.
    pub rows: Vec<IdxSize>,
}

impl LoggingGap {
    /// Whole hours of the silence (rounded down).
    pub fn hours(&self) -> i64 {
        self.length / HOUR_NS
    }

    /// Whole hours of the usual longest silence, rounded up: a rule that
    /// compares with a multiple of it errs towards not flagging.
    pub fn usual_longest_hours(&self) -> i64 {
        (self.usual_longest + HOUR_NS - 1).div_euclid(HOUR_NS)
    }

    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }
}

/// Per vault and hour of the record that ends it: records, and the longest
/// silence ending in that hour.
#[derive(Debug, Clone, Copy)]
struct Hour {
    hour: i64,
    records: i64,
    longest: i64,
}

fn rows_of(column: &Column) -> PolarsResult<Vec<Option<IdxSize>>> {
    let rows = column.cast(&IDX_DTYPE)?;
    Ok(rows.idx()?.iter().collect())
}

/// Every silence of [`CANDIDATE_NS`] or more, in time order. `spans` holds
/// each vault's first and last event, including what came before the frame
/// (the job's history), for `history_days`.
pub fn logging_gaps(
    events: &DataFrame,
    spans: &HashMap<String, (i64, i64)>,
    baseline_days: i64,
) -> PolarsResult<Vec<LoggingGap>> {
    if events.height() == 0 {
        return Ok(Vec::new());
    }
    let vault = col("vault");
    // The vault's previous record's value (the frame is sorted by vault and time).
    let previous = |column: &str, name: &str| -> PolarsResult<Expr> {
        Ok(col(column).shift(lit(1)).over([col("vault")])?.alias(name))
    };
    let records = events
        .clone()
        .lazy()
        .with_row_index("row", None)
        .filter(col("vault").is_not_null().and(col("time").is_not_null()))
        .select([
            vault.clone(),
            col("time").cast(DataType::Int64).alias("t"),
            col("operation"),
            is_success().alias("success"),
            col("row"),
        ])
        .sort(
            ["vault", "t"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_columns([
            previous("t", "prev_t")?,
            previous("row", "prev_row")?,
            previous("operation", "prev_operation")?,
        ])
        .with_column((col("t") - col("prev_t")).alias("silence"));

    let hourly = records
        .clone()
        .group_by([vault.clone(), (col("t") / lit(HOUR_NS)).alias("hour")])
        .agg([
            len().cast(DataType::Int64).alias("records"),
            col("silence").max().fill_null(lit(0)).alias("longest"),
        ])
        .sort(["vault", "hour"], SortMultipleOptions::default())
        .collect()?;
    let candidates = records
        .clone()
        .filter(col("silence").gt_eq(lit(CANDIDATE_NS)))
        .select([
            vault.clone().cast(DataType::String),
            col("prev_t").alias("start"),
            col("t").alias("end"),
            col("prev_operation").cast(DataType::String),
            col("prev_row"),
            col("row"),
        ])
        .collect()?;
    let last = records
        .clone()
        .group_by([vault.clone()])
        .agg([
            col("t").last().alias("t"),
            col("row").last().alias("row"),
            col("operation")
                .last()
                .cast(DataType::String)
                .alias("operation"),
        ])
        .collect()?;
    let deletes = records
        .filter(
            col("operation")
                .cast(DataType::String)
                .eq(lit("VaultDelete"))
                .and(col("success")),
        )
        .select([vault.cast(DataType::String), col("t")])
        .collect()?;

    let mut hours: HashMap<String, Vec<Hour>> = HashMap::new();
    {
        let vaults = strings(hourly.column("vault")?)?;
        let hour = integers(hourly.column("hour")?)?;
        let count = integers(hourly.column("records")?)?;
        let longest = integers(hourly.column("longest")?)?;
        for i in 0..hourly.height() {
            let (Some(v), Some(h)) = (&vaults[i], hour[i]) else {
                continue;
            };
            hours.entry(v.clone()).or_default().push(Hour {
                hour: h,
                records: count[i].unwrap_or(0),
                longest: longest[i].unwrap_or(0),
            });
        }
    }
    let mut deleted_at: HashMap<String, Vec<i64>> = HashMap::new();
    {
        let vaults = strings(deletes.column("vault")?)?;
        let t = integers(deletes.column("t")?)?;
        for (v, t) in vaults.into_iter().zip(t) {
            if let (Some(v), Some(t)) = (v, t) {
                deleted_at.entry(v).or_default().push(t);
            }
        }
    }

    let gap = |vault: &str, start: i64, end: Option<i64>, length: i64, op: String, rows| {
        let buckets = hours.get(vault).map_or(&[][..], Vec::as_slice);
        let to = buckets.partition_point(|b| b.hour <= start.div_euclid(HOUR_NS));
        let from_ns = start - baseline_days * DAY_NS;
        let from = buckets.partition_point(|b| b.hour < from_ns.div_euclid(HOUR_NS));
        let before = &buckets[from.min(to)..to];
        let usual_longest = before.iter().map(|b| b.longest).max().unwrap_or(0);
        let count: i64 = before.iter().map(|b| b.records).sum();
        let first = spans.get(vault).map_or(start, |s| s.0).min(start);
        let counted_from = first.max(from_ns);
        // Over at least an hour: a vault's first records are not a rate.
        let span = (start - counted_from).max(HOUR_NS);
        let records_per_day = (i128::from(count) * i128::from(DAY_NS) / i128::from(span)) as i64;
        let deleted = deleted_at.get(vault).is_some_and(|ts| {
            ts.iter()
                .any(|&t| t <= start && start - t <= DELETE_WINDOW_NS)
        });
        LoggingGap {
            vault: vault.to_owned(),
            start,
            end,
            length,
            usual_longest,
            records_per_day,
            history_days: (start - first) / DAY_NS,
            last_operation: op,
            deleted,
            rows,
        }
    };

    let mut found = Vec::new();
    {
        let vaults = strings(candidates.column("vault")?)?;
        let start = integers(candidates.column("start")?)?;
        let end = integers(candidates.column("end")?)?;
        let op = strings(candidates.column("prev_operation")?)?;
        let prev_row = rows_of(candidates.column("prev_row")?)?;
        let row = rows_of(candidates.column("row")?)?;
        for i in 0..candidates.height() {
            let (Some(v), Some(s), Some(e)) = (&vaults[i], start[i], end[i]) else {
                continue;
            };
            let rows = [prev_row[i], row[i]].into_iter().flatten().collect();
            found.push(gap(
                v,
                s,
                Some(e),
                e - s,
                op[i].clone().unwrap_or_default(),
                rows,
            ));
        }
    }
    {
        let vaults = strings(last.column("vault")?)?;
        let t = integers(last.column("t")?)?;
        let op = strings(last.column("operation")?)?;
        let row = rows_of(last.column("row")?)?;
        let data_end = t.iter().flatten().copied().max().unwrap_or(0);
        for i in 0..last.height() {
            let (Some(v), Some(s)) = (&vaults[i], t[i]) else {
                continue;
            };
            if data_end - s >= CANDIDATE_NS {
                let rows = row[i].into_iter().collect();
                found.push(gap(
                    v,
                    s,
                    None,
                    data_end - s,
                    op[i].clone().unwrap_or_default(),
                    rows,
                ));
            }
        }
    }
    found.sort_by(|a, b| (a.start, &a.vault).cmp(&(b.start, &b.vault)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::tests_runner::{TestEvent, frame_of};

    fn at(time: &str, vault: &str, repeat: u32, every: f64) -> TestEvent {
        TestEvent {
            time: time.into(),
            vault: Some(vault.into()),
            repeat,
            every,
            ..TestEvent::default()
        }
    }

    fn gaps(events: &[TestEvent]) -> Vec<LoggingGap> {
        let frame = frame_of(events).unwrap();
        let spans = super::super::events::spans_of_vaults(&frame).unwrap();
        logging_gaps(&frame, &spans, 30).unwrap()
    }

    #[test]
    fn a_silence_is_measured_against_the_vault_s_own_rhythm() {
        // kv-a: hourly for three days, silent for 10 hours, hourly again;
        // kv-b: hourly throughout, to the end of the data.
        let hourly = 3600.0;
        let gaps = gaps(&[
            at("2026-11-01T00:00:00Z", "kv-a", 72, hourly),
            at("2026-11-04T09:00:00Z", "kv-a", 10, hourly),
            at("2026-11-01T00:30:00Z", "kv-b", 90, hourly),
        ]);
        assert_eq!(gaps.len(), 1, "{gaps:#?}");
        let g = &gaps[0];
        assert_eq!(g.vault, "kv-a");
        assert_eq!(
            g.start,
            crate::ingest::time::parse_time("2026-11-03T23:00:00Z").unwrap()
        );
        assert_eq!(
            g.end,
            Some(crate::ingest::time::parse_time("2026-11-04T09:00:00Z").unwrap())
        );
        assert_eq!(g.hours(), 10);
        assert_eq!(g.usual_longest_hours(), 1);
        assert_eq!(g.history_days, 2);
        assert_eq!(g.records_per_day, 24);
        assert_eq!(g.last_operation, "SecretGet");
        assert_eq!(g.rows.len(), 2);
        assert!(!g.deleted);
    }

    #[test]
    fn a_vault_that_stops_before_the_end_of_the_data_has_an_open_gap() {
        let hourly = 3600.0;
        let gaps = gaps(&[
            at("2026-11-01T00:00:00Z", "kv-a", 48, hourly),
            at("2026-11-01T00:30:00Z", "kv-b", 96, hourly),
        ]);
        assert_eq!(gaps.len(), 1, "{gaps:#?}");
        assert!(gaps[0].is_open());
        assert_eq!(gaps[0].vault, "kv-a");
        assert_eq!(gaps[0].hours(), 48);
        assert_eq!(gaps[0].rows.len(), 1);
    }

    #[test]
    fn a_deleted_vault_is_marked() {
        let hourly = 3600.0;
        let mut delete = at("2026-11-02T23:30:00Z", "kv-a", 1, 1.0);
        delete.operation = "VaultDelete".into();
        delete.object_type = Some("vault".into());
        delete.object_name = None;
        let gaps = gaps(&[
            at("2026-11-01T00:00:00Z", "kv-a", 48, hourly),
            delete,
            at("2026-11-01T00:30:00Z", "kv-b", 96, hourly),
        ]);
        assert_eq!(gaps.len(), 1, "{gaps:#?}");
        assert!(gaps[0].deleted);
        assert_eq!(gaps[0].last_operation, "VaultDelete");
    }
}
