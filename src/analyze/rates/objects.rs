//! Hourly reads of one secret by one identity: the evidence that an
//! application fetches a secret on every request instead of caching it.

use polars::prelude::*;
use serde::Serialize;

use super::events::{caller_columns, callers};
use super::windows::HOUR_NS;
use crate::analyze::columns::{integers, strings};

/// Reads of one secret in one hour below which the hour is not judged.
pub const READS_FLOOR: i64 = 30;

/// One identity's reads of one secret in one hour.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectReadWindow {
    pub principal: String,
    pub vault: String,
    pub object: String,
    /// Hour start, ns since the epoch.
    pub start: i64,
    pub reads: i64,
    /// Consecutive hours at or above [`READS_FLOOR`] in the run this hour belongs to.
    pub run_hours: i64,
}

/// Every hour in which an identity read one secret [`READS_FLOOR`] times or more.
pub fn object_read_windows(authenticated: &LazyFrame) -> PolarsResult<Vec<ObjectReadWindow>> {
    let mut keys = caller_columns();
    keys.extend([col("object"), col("start")]);
    let frame = authenticated
        .clone()
        .filter(col("secret_read").and(col("object").is_not_null()))
        .with_column((col("t") - col("t") % lit(HOUR_NS)).alias("start"))
        .group_by(keys)
        .agg([len().cast(DataType::Int64).alias("reads")])
        .filter(col("reads").gt_eq(lit(READS_FLOOR)))
        .collect()?;
    let callers = callers(&frame)?;
    let object = strings(frame.column("object")?)?;
    let start = integers(frame.column("start")?)?;
    let reads = integers(frame.column("reads")?)?;
    let mut windows: Vec<ObjectReadWindow> = (0..frame.height())
        .map(|i| ObjectReadWindow {
            principal: callers[i].0.clone(),
            vault: callers[i].1.clone(),
            object: object[i].clone().unwrap_or_default(),
            start: start[i].unwrap_or_default(),
            reads: reads[i].unwrap_or_default(),
            run_hours: 1,
        })
        .collect();
    windows.sort_by(|a, b| {
        (&a.principal, &a.vault, &a.object, a.start).cmp(&(
            &b.principal,
            &b.vault,
            &b.object,
            b.start,
        ))
    });
    mark_runs(&mut windows);
    Ok(windows)
}

/// Sets each window's `run_hours` (windows sorted by key, then start).
fn mark_runs(windows: &mut [ObjectReadWindow]) {
    let mut from = 0;
    while from < windows.len() {
        let mut to = from + 1;
        while to < windows.len()
            && windows[to].principal == windows[from].principal
            && windows[to].vault == windows[from].vault
            && windows[to].object == windows[from].object
            && windows[to].start == windows[to - 1].start + HOUR_NS
        {
            to += 1;
        }
        for w in &mut windows[from..to] {
            w.run_hours = (to - from) as i64;
        }
        from = to;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(object: &str, hour: i64) -> ObjectReadWindow {
        ObjectReadWindow {
            principal: "p".into(),
            vault: "v".into(),
            object: object.into(),
            start: hour * HOUR_NS,
            reads: 40,
            run_hours: 1,
        }
    }

    #[test]
    fn runs_are_consecutive_hours_of_one_secret() {
        let mut windows = vec![w("a", 1), w("a", 2), w("a", 3), w("a", 5), w("b", 6)];
        mark_runs(&mut windows);
        let runs: Vec<i64> = windows.iter().map(|w| w.run_hours).collect();
        assert_eq!(runs, [3, 3, 3, 1, 1]);
    }
}
