//! Record formats: what one record looks like in each export, and how a file
//! is cut into records (lines, `{"records": [...]}` envelopes, arrays, CSV rows).

pub mod csv;
mod foreign;
pub mod raw;
pub mod split;
pub mod table;

use serde_json::error::Category;

use super::normalise::Rejected;
use super::rejections::{RejectReason, Rejection, RejectionLog};
use super::schema::{Event, EventColumns, Origin, SourceFormat};
pub use split::{DocumentItem, MAX_RECORD_BYTES, Splitter};
use table::{Row, Table};

pub(crate) fn json_error(e: serde_json::Error) -> Rejected {
    let reason = match e.classify() {
        Category::Eof => RejectReason::TruncatedRecord,
        Category::Syntax | Category::Io => RejectReason::InvalidJson,
        Category::Data => RejectReason::InvalidField,
    };
    (reason, e.to_string())
}

/// Parses one JSON object of any record shape, naming the format it was
/// read as. A record that is not an audit event but another log of a vault
/// (a metric, an Activity Log entry) is rejected as `not-audit-event`, saying
/// what it is, rather than as damaged or as no Key Vault record.
fn parse_object(
    json: &str,
    container: SourceFormat,
) -> (SourceFormat, Result<Event<'_>, Rejected>) {
    match parse_any_object(json, container) {
        (format, Err((reason, detail))) if reason.may_be_another_log() => {
            match foreign::describe(json) {
                Some(what) => (format, Err((RejectReason::NotAuditEvent, what))),
                None => (format, Err((reason, detail))),
            }
        }
        parsed => parsed,
    }
}

fn parse_any_object(
    json: &str,
    container: SourceFormat,
) -> (SourceFormat, Result<Event<'_>, Rejected>) {
    if !json.starts_with('{') {
        return (container, Err(not_an_object(json)));
    }
    if raw::looks_raw(json) {
        return (container, raw::parse(json));
    }
    let row = match Row::from_json(json) {
        Ok(row) => row,
        Err(rejected) => return (container, Err(rejected)),
    };
    match row.table() {
        Some(Table::AzureDiagnostics) => (
            SourceFormat::AzureDiagnosticsJson,
            row.normalise(Table::AzureDiagnostics),
        ),
        Some(Table::AzkvAuditLogs) => (
            SourceFormat::AzkvAuditLogsJson,
            row.normalise(Table::AzkvAuditLogs),
        ),
        None => (
            container,
            Err((
                RejectReason::NotKeyVaultRecord,
                "a JSON object without operationName or OperationName".into(),
            )),
        ),
    }
}

/// Why a JSON value that is not an object is not a record.
fn not_an_object(json: &str) -> Rejected {
    let what = match json.as_bytes().first() {
        Some(b'[') => "a JSON array that holds no records",
        Some(b'"') => "a JSON string",
        Some(b't' | b'f') => "a JSON boolean",
        Some(b'n') => "JSON null",
        _ => "a JSON number",
    };
    (
        RejectReason::NotKeyVaultRecord,
        format!("{what} where a record belongs"),
    )
}

/// Events and rejections of one piece of one file.
pub struct Batch<'f> {
    file: &'f str,
    pub columns: EventColumns,
    pub rejections: RejectionLog,
    /// Records seen, analysed or rejected.
    pub records: u64,
}

impl<'f> Batch<'f> {
    pub fn new(file: &'f str, capacity: usize) -> Self {
        Batch {
            file,
            columns: EventColumns::with_capacity(capacity),
            rejections: RejectionLog::default(),
            records: 0,
        }
    }

    pub fn reject(&mut self, line: u32, (reason, detail): Rejected) {
        self.records += 1;
        self.rejections.record(Rejection {
            reason,
            file: self.file.to_owned(),
            line,
            detail,
        });
    }

    fn accept(&mut self, event: &Event<'_>, format: SourceFormat, line: u32) {
        self.records += 1;
        self.columns.push(
            event,
            Origin {
                format,
                file: self.file,
                line,
            },
        );
    }

    /// Parses and adds one JSON record that starts on `line`.
    pub fn add_json(&mut self, json: &str, line: u32, container: SourceFormat) {
        match parse_object(json, container) {
            (format, Ok(event)) => self.accept(&event, format, line),
            (_, Err(rejected)) => self.reject(line, rejected),
        }
    }

    /// Adds a table row (from a CSV export).
    pub fn add_row(&mut self, row: &Row<'_>, line: u32, csv_of: fn(Table) -> SourceFormat) {
        match row.table() {
            Some(table) => match row.normalise(table) {
                Ok(event) => self.accept(&event, csv_of(table), line),
                Err(rejected) => self.reject(line, rejected),
            },
            None => self.reject(
                line,
                match row.get("MetricName") {
                    Some(metric) => (
                        RejectReason::NotAuditEvent,
                        foreign::metric(&metric, row.get("ResourceId").as_deref()),
                    ),
                    None => (
                        RejectReason::NotKeyVaultRecord,
                        "a row without an OperationName column".into(),
                    ),
                },
            ),
        }
    }

    /// Parses every line of `text`, the first being line `first_line`.
    pub fn add_lines(&mut self, text: &[u8], first_line: u32) {
        let mut start = 0;
        // memchr finds line ends a vector at a time; a byte predicate did not.
        let ends = memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len()));
        for (line_here, end) in (first_line..).zip(ends) {
            let line = &text[start..end];
            start = end + 1;
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.len() > MAX_RECORD_BYTES {
                self.reject(line_here, too_large_line());
                continue;
            }
            let Ok(json) = std::str::from_utf8(trimmed) else {
                // A document on one line (an Event Hub batch) loses only its bad record.
                if trimmed.starts_with(b"[") || split::envelope_array_start_bytes(trimmed).is_some()
                {
                    self.add_document(trimmed, line_here, SourceFormat::JsonLines);
                } else {
                    self.reject(
                        line_here,
                        (
                            RejectReason::InvalidUtf8,
                            "the line is not valid UTF-8".into(),
                        ),
                    );
                }
                continue;
            };
            if json.starts_with('{') && split::envelope_array_start(json).is_none() {
                self.add_json(json, line_here, SourceFormat::JsonLines);
            } else {
                self.add_document(trimmed, line_here, SourceFormat::JsonLines);
            }
        }
    }

    /// Parses a JSON document: one or more top-level values, each a record,
    /// a `{"records": [...]}` envelope or an array of records. Damage is
    /// located and stepped over (see [`split`]).
    pub fn add_document(&mut self, text: &[u8], first_line: u32, single: SourceFormat) {
        let items = split::split_document(text);
        let mut lines = LineCounter::over(text, first_line);
        for item in items {
            let line = lines.line_at(item.offset);
            self.add_item(item, line, single);
        }
    }

    /// Adds one item a splitter found, starting on `line`.
    pub fn add_item(&mut self, item: DocumentItem<'_>, line: u32, single: SourceFormat) {
        match item.content {
            Ok(json) => self.add_json(json, line, item.format.unwrap_or(single)),
            Err(rejected) => self.reject(line, rejected),
        }
    }

    pub fn finish(self) -> polars::prelude::PolarsResult<BatchOutcome> {
        Ok(BatchOutcome {
            frame: self.columns.finish()?,
            rejections: self.rejections,
            records: self.records,
        })
    }
}

/// Why a line was not read.
pub fn too_large_line() -> Rejected {
    (
        RejectReason::RecordTooLarge,
        format!(
            "a line longer than {} MiB (the limit of one record); not read",
            MAX_RECORD_BYTES >> 20
        ),
    )
}

/// What a batch produced.
pub struct BatchOutcome {
    pub frame: polars::prelude::DataFrame,
    pub rejections: RejectionLog,
    pub records: u64,
}

/// Counts lines up to increasing byte offsets, without rescanning.
pub struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: u32,
}

impl<'t> LineCounter<'t> {
    pub fn new(text: &'t str, first_line: u32) -> Self {
        Self::over(text.as_bytes(), first_line)
    }

    pub fn over(text: &'t [u8], first_line: u32) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: first_line,
        }
    }

    /// The line of `offset`; offsets must not decrease.
    pub fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        if offset > self.offset {
            let newlines = memchr::memchr_iter(b'\n', &self.text[self.offset..offset]).count();
            self.line += newlines as u32;
            self.offset = offset;
        }
        self.line
    }
}

/// Cuts a whole JSON document into records (see [`split`]).
pub fn split_document(text: &str) -> Vec<DocumentItem<'_>> {
    split::split_document(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets_and_results(text: &str) -> Vec<(u32, Result<String, RejectReason>)> {
        let mut lines = LineCounter::new(text, 1);
        split_document(text)
            .into_iter()
            .map(|item| {
                (
                    lines.line_at(item.offset),
                    item.content.map(str::to_owned).map_err(|(r, _)| r),
                )
            })
            .collect()
    }

    #[test]
    fn envelope_items_are_located() {
        let text = "{\n \"records\": [\n  {\"a\":1},\n  {\"b\":2}\n ]\n}\n";
        let items = offsets_and_results(text);
        assert_eq!(
            items,
            vec![(3, Ok("{\"a\":1}".into())), (4, Ok("{\"b\":2}".into()))]
        );
    }

    #[test]
    fn truncated_array_keeps_what_came_before() {
        let text = "[\n{\"a\":1},\n{\"b\":";
        let items = offsets_and_results(text);
        assert_eq!(items[0], (2, Ok("{\"a\":1}".into())));
        assert_eq!(items[1], (3, Err(RejectReason::TruncatedRecord)));
    }

    #[test]
    fn several_envelopes_and_plain_objects() {
        let text = "{\"records\":[{\"a\":1}]}\n{\"records\":[{\"b\":1},{\"c\":1}]}\n{\"d\":1}";
        let items = offsets_and_results(text);
        assert_eq!(items.len(), 4);
        assert_eq!(items[3], (3, Ok("{\"d\":1}".into())));
    }
}
