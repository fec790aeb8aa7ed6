//! The activity overview: time range, vaults, principals, operations and
//! failure classes of the ingested events. Computed with polars.

use polars::prelude::*;

use super::activity::known_name;
use super::columns::{counts, integers, is_challenge, strings};
use serde::Serialize;

use crate::ingest::time::format_time;

/// How many operations the overview ranks.
pub const TOP_OPERATIONS: usize = 10;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VaultActivity {
    pub name: String,
    pub events: u64,
    pub time_from: String,
    pub time_to: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PrincipalActivity {
    /// Object id; `None` for calls without one (unauthenticated challenges).
    pub id: Option<String>,
    /// UPN for users, the resource name for managed identities.
    pub name: Option<String>,
    pub kind: String,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OperationCount {
    pub operation: String,
    pub events: u64,
    pub failures: u64,
}

/// Requests by outcome, the classes Key Vault Insights shows.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutcomeCounts {
    pub success: u64,
    /// 401 and 403, without the routine `Authentication` 401 challenge.
    pub denied: u64,
    /// The `Authentication` 401 challenge that precedes a token: normal traffic.
    pub authentication_challenges: u64,
    pub not_found: u64,
    pub throttled: u64,
    pub server_error: u64,
    pub other: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Overview {
    pub time_from: Option<String>,
    pub time_to: Option<String>,
    pub vaults: Vec<VaultActivity>,
    pub principals: Vec<PrincipalActivity>,
    pub top_operations: Vec<OperationCount>,
    pub outcomes: OutcomeCounts,
}

/// Whether a row is a failure: any status outside 2xx, routine challenges excluded.
fn is_failure() -> Expr {
    col("http_status").gt_eq(lit(300)).and(is_challenge().not())
}

impl Overview {
    pub fn of(events: &DataFrame) -> PolarsResult<Overview> {
        if events.height() == 0 {
            return Ok(Overview::default());
        }
        let lf = events.clone().lazy();
        let time = events.column("time")?.cast(&DataType::Int64)?;
        let time = time.i64()?;

        let vaults = lf
            .clone()
            .group_by([col("vault")])
            .agg([
                len().alias("events"),
                col("time").min().cast(DataType::Int64).alias("from"),
                col("time").max().cast(DataType::Int64).alias("to"),
            ])
            .with_column(col("vault").cast(DataType::String))
            .sort(
                ["vault"],
                SortMultipleOptions::default().with_nulls_last(true),
            )
            .collect()?;
        let vaults = strings(vaults.column("vault")?)?
            .into_iter()
            .zip(counts(vaults.column("events")?)?)
            .zip(
                integers(vaults.column("from")?)?
                    .into_iter()
                    .zip(integers(vaults.column("to")?)?),
            )
            .map(|((name, events), (from, to))| VaultActivity {
                name: name.unwrap_or_else(|| "(unknown)".to_owned()),
                events,
                time_from: from.map(format_time).unwrap_or_default(),
                time_to: to.map(format_time).unwrap_or_default(),
            })
            .collect();

        let principals = lf
            .clone()
            .group_by([col("principal_id"), col("identity_kind")])
            .agg([
                len().alias("events"),
                col("upn").drop_nulls().first().alias("name"),
                col("managed_identity")
                    .drop_nulls()
                    .first()
                    .alias("managed_identity_id"),
                col("app_id").drop_nulls().first().alias("app_id"),
            ])
            .with_column(col("principal_id").cast(DataType::String))
            .sort(
                ["events", "principal_id"],
                SortMultipleOptions::default()
                    .with_order_descending_multi([true, false])
                    .with_nulls_last(true),
            )
            .collect()?;
        let principals = strings(principals.column("principal_id")?)?
            .into_iter()
            .zip(strings(principals.column("identity_kind")?)?)
            .zip(
                strings(principals.column("name")?)?
                    .into_iter()
                    .zip(counts(principals.column("events")?)?),
            )
            .zip(strings(principals.column("managed_identity_id")?)?)
            .zip(strings(principals.column("app_id")?)?)
            .map(
                |((((id, kind), (upn, events)), managed_identity), app_id)| PrincipalActivity {
                    id,
                    name: known_name(
                        upn.as_deref(),
                        managed_identity.as_deref(),
                        app_id.as_deref(),
                    ),
                    kind: kind.unwrap_or_else(|| "unknown".to_owned()),
                    events,
                },
            )
            .collect();

        let operations = lf
            .clone()
            .group_by([col("operation")])
            .agg([len().alias("events"), is_failure().sum().alias("failures")])
            .with_column(col("operation").cast(DataType::String))
            .sort(
                ["events", "operation"],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .limit(TOP_OPERATIONS as IdxSize)
            .collect()?;
        let top_operations = strings(operations.column("operation")?)?
            .into_iter()
            .zip(counts(operations.column("events")?)?)
            .zip(counts(operations.column("failures")?)?)
            .map(|((operation, events), failures)| OperationCount {
                operation: operation.unwrap_or_default(),
                events,
                failures,
            })
            .collect();

        let status = col("http_status");
        let classes = lf
            .select([
                status.clone().lt(lit(300)).sum().alias("success"),
                status
                    .clone()
                    .eq(lit(401))
                    .or(status.clone().eq(lit(403)))
                    .and(is_challenge().not())
                    .sum()
                    .alias("denied"),
                is_challenge().sum().alias("challenges"),
                status.clone().eq(lit(404)).sum().alias("not_found"),
                status.clone().eq(lit(429)).sum().alias("throttled"),
                status.clone().gt_eq(lit(500)).sum().alias("server_error"),
                len().alias("all"),
            ])
            .collect()?;
        let get = |name: &str| -> PolarsResult<u64> {
            Ok(counts(classes.column(name)?)?.first().copied().unwrap_or(0))
        };
        let mut outcomes = OutcomeCounts {
            success: get("success")?,
            denied: get("denied")?,
            authentication_challenges: get("challenges")?,
            not_found: get("not_found")?,
            throttled: get("throttled")?,
            server_error: get("server_error")?,
            other: 0,
        };
        let classified = outcomes.success
            + outcomes.denied
            + outcomes.authentication_challenges
            + outcomes.not_found
            + outcomes.throttled
            + outcomes.server_error;
        outcomes.other = get("all")?.saturating_sub(classified);

        Ok(Overview {
            time_from: time.min().map(format_time),
            time_to: time.max().map(format_time),
            vaults,
            principals,
            top_operations,
            outcomes,
        })
    }
}
