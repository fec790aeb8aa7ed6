//! Small shared readers of polars results, and the expressions every
//! analysis classifies events with.

use std::collections::HashMap;

use polars::prelude::*;

/// The vault of events that name none.
pub const UNKNOWN_VAULT: &str = "(unknown)";

/// Each vault's event count and first and last event time (every event,
/// challenges and notifications included: they show the logs were
/// flowing), one row per vault, events without a vault in a null row:
/// columns `vault`, `events`, `first`, `last` (nanoseconds).
pub fn vault_windows(events: &DataFrame) -> PolarsResult<DataFrame> {
    events
        .clone()
        .lazy()
        .group_by([col("vault")])
        .agg([
            len().alias("events"),
            col("time").min().cast(DataType::Int64).alias("first"),
            col("time").max().cast(DataType::Int64).alias("last"),
        ])
        .collect()
}

/// Each vault's first and last event time from a frame with `vault`,
/// `first` and `last` columns ([`vault_windows`], the workspace's vault
/// usage under `--pushdown`, the job's saved spans); the null vault is
/// [`UNKNOWN_VAULT`].
pub fn vault_spans(windows: &DataFrame) -> PolarsResult<HashMap<String, (i64, i64)>> {
    let vaults = strings(windows.column("vault")?)?;
    let first = integers(windows.column("first")?)?;
    let last = integers(windows.column("last")?)?;
    Ok(vaults
        .into_iter()
        .zip(first.into_iter().zip(last))
        .filter_map(|(v, (f, l))| {
            let vault = v.unwrap_or_else(|| UNKNOWN_VAULT.to_owned());
            Some((vault, (f?, l?)))
        })
        .collect())
}

/// A column as optional strings (categoricals decoded).
pub fn strings(column: &Column) -> PolarsResult<Vec<Option<String>>> {
    let column = column.cast(&DataType::String)?;
    Ok(column.str()?.iter().map(|v| v.map(str::to_owned)).collect())
}

/// A count column; nulls read as 0.
pub fn counts(column: &Column) -> PolarsResult<Vec<u64>> {
    let column = column.cast(&DataType::UInt64)?;
    Ok(column.u64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

/// An integer (or datetime, as nanoseconds) column.
pub fn integers(column: &Column) -> PolarsResult<Vec<Option<i64>>> {
    let column = column.cast(&DataType::Int64)?;
    Ok(column.i64()?.iter().collect())
}

/// A 2xx response (a missing status is not one).
pub fn is_success() -> Expr {
    col("http_status")
        .gt_eq(lit(200))
        .and(col("http_status").lt(lit(300)))
        .fill_null(lit(false))
}

/// The routine 401 that precedes every token: normal traffic, not a failure.
pub fn is_challenge() -> Expr {
    // Categoricals compare with text directly; a cast would copy the column.
    col("operation")
        .eq(lit("Authentication"))
        .and(col("http_status").eq(lit(401)))
        .fill_null(lit(false))
}

/// A categorical column read row by row without decoding it: each row's
/// code, and the mapping that turns a code into its text.
#[derive(Clone)]
pub struct CategoricalText {
    codes: UInt32Chunked,
    mapping: std::sync::Arc<CategoricalMapping>,
}

impl CategoricalText {
    pub fn of(frame: &DataFrame, name: &str) -> PolarsResult<CategoricalText> {
        let column = frame.column(name)?.cat32()?;
        Ok(CategoricalText {
            codes: column.physical().rechunk().into_owned(),
            mapping: column.get_mapping().clone(),
        })
    }

    pub fn get(&self, row: usize) -> Option<&str> {
        self.text(self.code(row)?)
    }

    /// A row's code: equal codes, equal text.
    pub fn code(&self, row: usize) -> Option<u32> {
        self.codes.get(row)
    }

    pub fn text(&self, code: u32) -> Option<&str> {
        self.mapping.cat_to_str(code)
    }

    pub fn mapping(&self) -> &std::sync::Arc<CategoricalMapping> {
        &self.mapping
    }
}
