//! Small shared readers of polars results, and the expressions every
//! analysis classifies events with.

use polars::prelude::*;

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

/// The routine 401 that precedes every token: normal traffic, not a failure.
pub fn is_challenge() -> Expr {
    col("operation")
        .cast(DataType::String)
        .eq(lit("Authentication"))
        .and(col("http_status").eq(lit(401)))
        .fill_null(lit(false))
}
