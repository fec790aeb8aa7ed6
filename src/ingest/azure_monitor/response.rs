//! Query API response bodies: the result tables, the OneAPI error object
//! (in error responses, and beside the tables of a partial result), and the
//! rows decoded into normalised events.
//!
//! Rows are not normalised here: each becomes the column-name → text record
//! a JSON export of its table would give ([`Row`]), and the export parsers
//! (`formats/table.rs`) take it from there, so a pulled event and an exported
//! one normalise identically.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::ingest::formats::Batch;
use crate::ingest::formats::table::Row;
use crate::ingest::rejections::RejectReason;
use crate::ingest::schema::{Cow, SourceFormat};

/// A `200` body: result tables and, for a partial result, an error.
#[derive(Debug, Deserialize)]
pub struct QueryResults<'a> {
    /// Absent from a 200 that carries only an `error`.
    #[serde(borrow, default)]
    pub tables: Vec<ResultTable<'a>>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

#[derive(Debug, Deserialize)]
pub struct ResultTable<'a> {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    #[serde(borrow)]
    pub rows: Vec<Vec<&'a RawValue>>,
}

#[derive(Debug, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The body of an error response: `{"error": {...}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorInfo,
}

/// A OneAPI error. The useful text is often in `details[].innererror` or
/// nested `innererror`s, not in `message` ("There were some errors...").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
    #[serde(rename = "correlationId")]
    pub correlation_id: Option<String>,
    pub details: Vec<ErrorInfo>,
    pub innererror: Option<Box<InnerError>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InnerError {
    #[serde(deserialize_with = "code_text")]
    pub code: Option<String>,
    pub message: Option<String>,
    pub line: Option<u32>,
    pub pos: Option<u32>,
    pub token: Option<String>,
    pub innererror: Option<Box<InnerError>>,
}

/// Inner codes are strings (`SYN0002`) or numbers in strings (`"-2133196797"`);
/// accept a bare number too.
fn code_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(crate::ingest::lenient::text(d)?.map(Cow::into_owned))
}

impl ErrorInfo {
    /// Every inner error, outermost first, of this error and its details.
    pub fn inner_errors(&self) -> Vec<&InnerError> {
        let mut out = Vec::new();
        let mut roots: Vec<&InnerError> = self.innererror.as_deref().into_iter().collect();
        roots.extend(self.details.iter().filter_map(|d| d.innererror.as_deref()));
        for root in roots {
            let mut next = Some(root);
            while let Some(inner) = next {
                out.push(inner);
                next = inner.innererror.as_deref();
            }
        }
        out
    }

    /// The most specific message: the innermost one that says something.
    pub fn best_message(&self) -> String {
        self.inner_errors()
            .iter()
            .rev()
            .find_map(|i| i.message.clone().filter(|m| !m.is_empty()))
            .or_else(|| {
                self.details
                    .iter()
                    .find_map(|d| Some(d.message.clone()).filter(|m| !m.is_empty()))
            })
            .unwrap_or_else(|| self.message.clone())
    }

    /// Where in the query text the service located the problem, if it did.
    pub fn position(&self) -> Option<(u32, u32, Option<String>)> {
        self.inner_errors()
            .into_iter()
            .rev()
            .find_map(|i| Some((i.line?, i.pos?, i.token.clone())))
    }

    /// Every code in the error, outermost first (`BadArgumentError`, `SemanticError`, `SEM0100`).
    pub fn codes(&self) -> Vec<String> {
        let mut codes = vec![self.code.clone()];
        codes.extend(self.details.iter().map(|d| d.code.clone()));
        codes.extend(self.inner_errors().iter().filter_map(|i| i.code.clone()));
        codes.retain(|c| !c.is_empty());
        codes
    }

    /// Whether a partial result was cut at the size, row or time limit,
    /// which a shorter slice avoids (`E_QUERY_RESULT_SET_TOO_LARGE`,
    /// `E_QUERY_EXECUTION_TIMEOUT`).
    pub fn is_result_too_large(&self) -> bool {
        let text = |s: &str| {
            s.contains("E_QUERY_RESULT_SET_TOO_LARGE")
                || s.contains("record count limit")
                || s.contains("data size limit")
                || s.contains("E_QUERY_EXECUTION_TIMEOUT")
                || s.contains("timed out")
        };
        text(&self.message)
            || self.details.iter().any(|d| text(&d.message))
            || self
                .inner_errors()
                .iter()
                .any(|i| i.message.as_deref().is_some_and(text))
    }
}

/// The value of one cell as the text an export would hold; `None` for null.
/// `dynamic` cells arrive as JSON text inside a JSON string and stay JSON text.
fn cell_text<'a>(kind: &str, raw: &'a RawValue) -> Result<Option<Cow<'a, str>>, String> {
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    if text.starts_with('"') {
        let value = match serde_json::from_str::<&'a str>(text) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(serde_json::from_str::<String>(text).map_err(|e| e.to_string())?),
        };
        return Ok(Some(value));
    }
    let fits = match kind {
        "long" | "int" | "real" | "decimal" => text.parse::<f64>().is_ok(),
        "bool" => text == "true" || text == "false",
        "dynamic" => true,
        // datetime, string, guid, timespan: the service sends strings.
        "datetime" | "string" | "guid" | "timespan" => false,
        // A type this version does not know: keep the JSON text.
        _ => true,
    };
    if fits {
        Ok(Some(Cow::Borrowed(text)))
    } else {
        Err(format!("a {kind} column holds {text}"))
    }
}

/// Adds every row of `table` to `batch`; rows are located by 1-based number.
pub fn add_rows(batch: &mut Batch<'_>, table: &ResultTable<'_>) {
    for (index, cells) in table.rows.iter().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if cells.len() != table.columns.len() {
            batch.reject(
                line,
                (
                    RejectReason::InvalidField,
                    format!(
                        "the row has {} values for {} columns",
                        cells.len(),
                        table.columns.len()
                    ),
                ),
            );
            continue;
        }
        let mut row = Row::default();
        let mut bad = None;
        for (column, raw) in table.columns.iter().zip(cells) {
            match cell_text(&column.kind, raw) {
                Ok(Some(value)) => row.push(Cow::Borrowed(column.name.as_str()), value),
                Ok(None) => {}
                Err(e) => {
                    bad = Some(format!("column {}: {e}", column.name));
                    break;
                }
            }
        }
        match bad {
            Some(detail) => batch.reject(line, (RejectReason::InvalidField, detail)),
            None => batch.add_row(&row, line, |_| SourceFormat::LogAnalytics),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        // Bodies from shared/reference/api-samples (sources in its MANIFEST.json),
        // copied into tests/data/api-samples.
        std::fs::read_to_string(format!(
            "{}/tests/data/api-samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn every_declared_type_decodes_to_export_text() {
        // Azure SDK for Java recording (MIT): one column of every type.
        let body = sample("200-all-types-with-statistics.json");
        let results: QueryResults = serde_json::from_str(&body).unwrap();
        let table = &results.tables[0];
        let row = &table.rows[0];
        let texts: Vec<_> = table
            .columns
            .iter()
            .zip(row)
            .map(|(c, v)| (c.name.as_str(), cell_text(&c.kind, v).unwrap()))
            .collect();
        let get = |name: &str| {
            texts
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, v)| v.as_deref().map(str::to_owned))
        };
        assert_eq!(get("DateTime").as_deref(), Some("2015-12-31T23:59:59.9Z"));
        assert_eq!(get("Bool").as_deref(), Some("false"));
        assert_eq!(get("Long").as_deref(), Some("1"));
        assert_eq!(get("Double").as_deref(), Some("12345.6789"));
        assert_eq!(get("Decimal").as_deref(), Some("0.10101"));
        assert_eq!(
            get("Dynamic").as_deref(),
            Some(r#"{"a":123,"b":"hello","c":[1,2,3],"d":{}}"#)
        );
        assert!(results.error.is_none());
    }

    #[test]
    fn a_number_where_a_string_belongs_is_named() {
        let raw: &RawValue = serde_json::from_str("17").unwrap();
        assert_eq!(
            cell_text("datetime", raw).unwrap_err(),
            "a datetime column holds 17"
        );
    }

    #[test]
    fn partial_errors_say_why_and_whether_a_shorter_slice_helps() {
        // Azure SDK for Java recording (MIT) of a result over the data size limit.
        let body = sample("200-partial-error-data-size.json");
        let results: QueryResults = serde_json::from_str(&body).unwrap();
        let error = results.error.unwrap();
        assert_eq!(error.code, "PartialError");
        assert!(error.is_result_too_large());
        assert!(
            error
                .best_message()
                .contains("internal data size limit 64000000")
        );
    }

    #[test]
    fn syntax_errors_carry_their_position() {
        // Azure SDK for .NET troubleshooting guide (MIT).
        let body = sample("400-syntax-error.json");
        let response: ErrorResponse = serde_json::from_str(&body).unwrap();
        let error = response.error;
        assert_eq!(
            error.codes(),
            ["BadArgumentError", "SyntaxError", "SYN0002"]
        );
        assert_eq!(error.position(), Some((1, 3, Some("Not".into()))));
        assert_eq!(
            error.best_message(),
            "Query could not be parsed at 'Not' on line [1,3]"
        );
        assert!(!error.is_result_too_large());
    }
}
