//! The events the rate analyses count: every authenticated call, with the
//! caller as its Cedar principal id and the flags each count needs.

use std::collections::HashMap;

use polars::prelude::*;

use crate::analyze::columns::{integers, is_challenge, strings};
use crate::analyze::policy::model::UNKNOWN_VAULT;

/// The caller's `Identity` id, as [`crate::analyze::policy::model::principal_key`]
/// computes it for one event (a unit test holds the two equal).
pub fn principal_key_expr() -> Expr {
    let principal = col("principal_id").cast(DataType::String);
    let app = col("app_id").cast(DataType::String);
    let kind = col("identity_kind").cast(DataType::String);
    when(principal.clone().str().len_bytes().gt(lit(0)))
        .then(principal)
        .when(app.clone().str().len_bytes().gt(lit(0)))
        .then(lit("app:") + app)
        .when(kind.clone().str().len_bytes().gt(lit(0)))
        .then(kind)
        .otherwise(lit("unknown"))
}

/// Whether a string column equals one of `values`.
pub fn one_of(column: &str, values: &[&str]) -> Expr {
    values
        .iter()
        .map(|v| col(column).eq(lit(*v)))
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

fn operation() -> Expr {
    col("operation").cast(DataType::String)
}

fn success() -> Expr {
    col("http_status")
        .gt_eq(lit(200))
        .and(col("http_status").lt(lit(300)))
        .fill_null(lit(false))
}

/// A successful read of a secret's value.
pub fn is_secret_read() -> Expr {
    operation().eq(lit("SecretGet")).and(success())
}

/// A refused call (the routine challenge is filtered out before this is used).
pub fn is_denied() -> Expr {
    col("http_status")
        .eq(lit(401))
        .or(col("http_status").eq(lit(403)))
        .fill_null(lit(false))
}

pub fn is_throttled() -> Expr {
    col("http_status").eq(lit(429)).fill_null(lit(false))
}

/// Authenticated calls, in time order, with the columns the analyses use:
/// `t` (ns), `principal`, `vault`, `operation`, `object_type`, `object`,
/// `http_status`, `success`, `ip`, `row` (the row in the events frame).
pub fn authenticated(events: &DataFrame) -> LazyFrame {
    events
        .clone()
        .lazy()
        .with_row_index("row", None)
        .filter(
            is_challenge().not().and(
                col("identity_kind")
                    .cast(DataType::String)
                    .neq(lit("unauthenticated"))
                    .fill_null(lit(true)),
            ),
        )
        .select([
            col("time").cast(DataType::Int64).alias("t"),
            principal_key_expr().alias("principal"),
            col("vault")
                .cast(DataType::String)
                .fill_null(lit(UNKNOWN_VAULT))
                .alias("vault"),
            operation().alias("operation"),
            col("object_type")
                .cast(DataType::String)
                .alias("object_type"),
            col("object_name").cast(DataType::String).alias("object"),
            col("http_status")
                .cast(DataType::Int64)
                .alias("http_status"),
            success().alias("success"),
            col("caller_ip").cast(DataType::String).alias("ip"),
            col("row"),
        ])
        .sort(
            ["t"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
}

/// The first and last event time of each vault (every event, challenges and
/// notifications included: they show the logs were flowing).
pub fn vault_spans(events: &DataFrame) -> PolarsResult<HashMap<String, (i64, i64)>> {
    let spans = events
        .clone()
        .lazy()
        .group_by([col("vault")
            .cast(DataType::String)
            .fill_null(lit(UNKNOWN_VAULT))])
        .agg([
            col("time").cast(DataType::Int64).min().alias("first"),
            col("time").cast(DataType::Int64).max().alias("last"),
        ])
        .collect()?;
    let vaults = strings(spans.column("vault")?)?;
    let first = integers(spans.column("first")?)?;
    let last = integers(spans.column("last")?)?;
    Ok(vaults
        .into_iter()
        .zip(first.into_iter().zip(last))
        .filter_map(|(v, (f, l))| Some((v?, (f?, l?))))
        .collect())
}

/// Row indices of each (principal, vault)'s authenticated events in time
/// order, to find the events behind a window for a finding's evidence.
#[derive(Debug, Default)]
pub struct EventIndex {
    by_caller: HashMap<(String, String), Vec<(i64, Option<String>, IdxSize)>>,
}

impl EventIndex {
    pub fn build(authenticated: &DataFrame) -> PolarsResult<EventIndex> {
        let principal = strings(authenticated.column("principal")?)?;
        let vault = strings(authenticated.column("vault")?)?;
        let object = strings(authenticated.column("object")?)?;
        let time = integers(authenticated.column("t")?)?;
        let rows = authenticated.column("row")?.cast(&IDX_DTYPE)?;
        let rows = rows.idx()?;
        let mut by_caller: HashMap<(String, String), Vec<_>> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let (Some(p), Some(v), Some(t), Some(row)) = (&principal[i], &vault[i], time[i], row)
            else {
                continue;
            };
            by_caller
                .entry((p.clone(), v.clone()))
                .or_default()
                .push((t, object[i].clone(), row));
        }
        Ok(EventIndex { by_caller })
    }

    /// Rows of the caller's events in `[start, end)`, on `object` when given.
    pub fn rows(
        &self,
        principal: &str,
        vault: &str,
        start: i64,
        end: i64,
        object: Option<&str>,
    ) -> Vec<IdxSize> {
        let Some(events) = self
            .by_caller
            .get(&(principal.to_owned(), vault.to_owned()))
        else {
            return Vec::new();
        };
        let from = events.partition_point(|e| e.0 < start);
        events[from..]
            .iter()
            .take_while(|e| e.0 < end)
            .filter(|e| object.is_none_or(|o| e.1.as_deref() == Some(o)))
            .map(|e| e.2)
            .collect()
    }
}
