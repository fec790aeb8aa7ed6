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
