//! Refused calls per caller address: a burst from one address by several
//! identities, or by callers without a token at all, is invisible to the
//! per-identity windows.

use polars::prelude::*;
use serde::Serialize;

use super::events::{caller_columns, callers, is_denied};
use super::windows::MINUTE_NS;
use crate::analyze::columns::{integers, is_challenge, strings};

/// Refused calls from one address in five minutes below which it is not judged.
pub const DENIED_FLOOR: i64 = 10;

/// Window length, minutes.
pub const MINUTES: i64 = 5;

/// One address's calls to one vault in one 5-minute window.
#[derive(Debug, Clone, Serialize)]
pub struct AddressWindow {
    pub address: String,
    pub vault: String,
    /// The identity that made most of the calls (`unauthenticated` when none had a token).
    pub principal: String,
    /// Window start, ns since the epoch.
    pub start: i64,
    pub requests: i64,
    pub denied: i64,
    /// Distinct identities with a token among the callers.
    pub identities: i64,
    /// Rows of the first refused calls, for evidence.
    pub rows: Vec<IdxSize>,
}

impl AddressWindow {
    pub fn end(&self) -> i64 {
        self.start + MINUTES * MINUTE_NS
    }
}

/// Every 5-minute window in which an address made [`DENIED_FLOOR`] refused calls or more.
pub fn address_windows(events: &DataFrame) -> PolarsResult<Vec<AddressWindow>> {
    let window = MINUTES * MINUTE_NS;
    let calls = events
        .clone()
        .lazy()
        .with_row_index("row", None)
        .filter(is_challenge().not().and(col("caller_ip").is_not_null()))
        .with_columns([
            col("time").cast(DataType::Int64).alias("t"),
            is_denied().alias("denied"),
            col("identity_kind")
                .cast(DataType::String)
                .eq(lit("unauthenticated"))
                .fill_null(lit(false))
                .alias("anonymous"),
        ])
        .with_column((col("t") - col("t") % lit(window)).alias("start"));
    let busy = calls
        .clone()
        .group_by([col("vault"), col("caller_ip"), col("start")])
        .agg([
            len().cast(DataType::Int64).alias("requests"),
            col("denied").cast(DataType::Int64).sum().alias("denied"),
            col("principal_id")
                .filter(col("anonymous").not())
                .drop_nulls()
                .n_unique()
                .cast(DataType::Int64)
                .alias("identities"),
            col("row")
                .filter(col("denied"))
                .head(Some(super::super::policy::findings::MAX_EVIDENCE))
                .alias("rows"),
        ])
        .filter(col("denied").gt_eq(lit(DENIED_FLOOR)));
    // The busiest caller of each busy window names the finding.
    let mut keys = caller_columns();
    keys.extend([col("caller_ip"), col("start")]);
    let top = calls
        .join(
            busy.clone()
                .select([col("vault"), col("caller_ip"), col("start")]),
            [col("vault"), col("caller_ip"), col("start")],
            [col("vault"), col("caller_ip"), col("start")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by(keys)
        .agg([len().alias("calls")])
        .sort(
            ["calls"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .collect()?;
    let busy = busy
        .sort(["start"], SortMultipleOptions::default())
        .collect()?;
    let top_callers = callers(&top)?;
    let top_address = strings(top.column("caller_ip")?)?;
    let top_start = integers(top.column("start")?)?;
    let address = strings(busy.column("caller_ip")?)?;
    let vault = strings(busy.column("vault")?)?;
    let start = integers(busy.column("start")?)?;
    let requests = integers(busy.column("requests")?)?;
    let denied = integers(busy.column("denied")?)?;
    let identities = integers(busy.column("identities")?)?;
    let rows: Vec<Vec<IdxSize>> = busy
        .column("rows")?
        .list()?
        .amortized_iter()
        .map(|list| -> PolarsResult<Vec<IdxSize>> {
            match list {
                Some(series) => Ok(series
                    .as_ref()
                    .cast(&IDX_DTYPE)?
                    .idx()?
                    .into_no_null_iter()
                    .collect()),
                None => Ok(Vec::new()),
            }
        })
        .collect::<PolarsResult<_>>()?;
    Ok((0..busy.height())
        .filter_map(|i| {
            let (address, vault, start) = (address[i].clone()?, vault[i].clone()?, start[i]?);
            let principal = (0..top.height())
                .find(|&j| {
                    top_address[j].as_deref() == Some(address.as_str())
                        && top_start[j] == Some(start)
                        && top_callers[j].1 == vault
                })
                .map(|j| top_callers[j].0.clone())?;
            Some(AddressWindow {
                address,
                vault,
                principal,
                start,
                requests: requests[i].unwrap_or(0),
                denied: denied[i].unwrap_or(0),
                identities: identities[i].unwrap_or(0),
                rows: rows[i].clone(),
            })
        })
        .collect())
}
