//! Record formats: what one record looks like in each export, and how a file
//! is cut into records (lines, `{"records": [...]}` envelopes, arrays, CSV rows).

pub mod csv;
pub mod raw;
pub mod table;

use serde_json::error::Category;
use serde_json::value::RawValue;

use super::normalise::Rejected;
use super::rejections::{RejectReason, Rejection, RejectionLog};
use super::schema::{Event, EventColumns, Origin, SourceFormat};
use table::{Row, Table};

pub(crate) fn json_error(e: serde_json::Error) -> Rejected {
    let reason = match e.classify() {
        Category::Eof => RejectReason::TruncatedRecord,
        Category::Syntax | Category::Io => RejectReason::InvalidJson,
        Category::Data => RejectReason::InvalidField,
    };
    (reason, e.to_string())
}

/// Parses one JSON object of any record shape, naming the format it was read as.
fn parse_object(
    json: &str,
    container: SourceFormat,
) -> (SourceFormat, Result<Event<'_>, Rejected>) {
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
                (
                    RejectReason::NotKeyVaultRecord,
                    "a row without an OperationName column".into(),
                ),
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
            let Ok(json) = std::str::from_utf8(trimmed) else {
                self.reject(
                    line_here,
                    (
                        RejectReason::InvalidUtf8,
                        "the line is not valid UTF-8".into(),
                    ),
                );
                continue;
            };
            if json.starts_with('{') && envelope_array_start(json).is_none() {
                self.add_json(json, line_here, SourceFormat::JsonLines);
            } else {
                self.add_document(json, line_here, SourceFormat::JsonLines);
            }
        }
    }

    /// Parses a JSON document: one or more top-level values, each a record,
    /// a `{"records": [...]}` envelope or an array of records. Damage is
    /// located; records before it are kept.
    pub fn add_document(&mut self, text: &str, first_line: u32, single: SourceFormat) {
        let items = split_document(text);
        let mut lines = LineCounter::new(text, first_line);
        for item in items {
            let line = lines.line_at(item.offset);
            match item.content {
                Ok(json) => self.add_json(json, line, item.format.unwrap_or(single)),
                Err(rejected) => self.reject(line, rejected),
            }
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
        LineCounter {
            text: text.as_bytes(),
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

/// One record found in a document, or the damage that ended it.
pub struct DocumentItem<'t> {
    pub offset: usize,
    /// The container it was found in, when not a lone top-level object.
    pub format: Option<SourceFormat>,
    pub content: Result<&'t str, Rejected>,
}

fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// If `text` starts with `{"records": [`, the offset of the `[`.
fn envelope_array_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut pos = skip_whitespace(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        return None;
    }
    pos = skip_whitespace(bytes, pos + 1);
    if !text[pos..].starts_with("\"records\"") {
        return None;
    }
    pos = skip_whitespace(bytes, pos + "\"records\"".len());
    if bytes.get(pos) != Some(&b':') {
        return None;
    }
    pos = skip_whitespace(bytes, pos + 1);
    (bytes.get(pos) == Some(&b'[')).then_some(pos)
}

/// Reads one JSON value at `pos`: its text and where it ends.
fn value_at(text: &str, pos: usize) -> Result<(&str, usize), serde_json::Error> {
    let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<&RawValue>();
    match stream.next() {
        Some(Ok(value)) => Ok((value.get(), pos + stream.byte_offset())),
        Some(Err(e)) => Err(e),
        None => Err(serde::de::Error::custom("expected a JSON value")),
    }
}

/// Cuts a JSON document into records. Stops at the first damage, which
/// becomes the last item (a truncated blob or export loses only the cut record).
pub fn split_document(text: &str) -> Vec<DocumentItem<'_>> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut pos = skip_whitespace(bytes, 0);
    while pos < bytes.len() {
        let container_start = match bytes[pos] {
            b'[' => Some((pos, SourceFormat::JsonArray)),
            b'{' => envelope_array_start(&text[pos..])
                .map(|open| (pos + open, SourceFormat::RecordsEnvelope)),
            _ => None,
        };
        let next = match container_start {
            Some((open, format)) => split_array(text, open, format, &mut items),
            None => match value_at(text, pos) {
                Ok((json, end)) => {
                    items.push(DocumentItem {
                        offset: pos,
                        format: None,
                        content: Ok(json),
                    });
                    Some(end)
                }
                Err(e) => {
                    items.push(DocumentItem {
                        offset: pos,
                        format: None,
                        content: Err(json_error(e)),
                    });
                    None
                }
            },
        };
        let Some(next) = next else { break };
        pos = skip_whitespace(bytes, next);
        // A comma between top-level values is not JSON, but some tools write it.
        if bytes.get(pos) == Some(&b',') {
            pos = skip_whitespace(bytes, pos + 1);
        }
    }
    items
}

/// Adds the items of the array opening at `open`; returns the offset after
/// the enclosing value (the `]`, or the `}` of an envelope), or `None` on damage.
fn split_array<'t>(
    text: &'t str,
    open: usize,
    format: SourceFormat,
    items: &mut Vec<DocumentItem<'t>>,
) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut pos = open + 1;
    loop {
        pos = skip_whitespace(bytes, pos);
        match bytes.get(pos) {
            None => {
                items.push(DocumentItem {
                    offset: pos,
                    format: Some(format),
                    content: Err((
                        RejectReason::TruncatedRecord,
                        "the document ends before its array is closed".into(),
                    )),
                });
                return None;
            }
            Some(b']') => {
                pos += 1;
                break;
            }
            Some(b',') => {
                pos += 1;
                continue;
            }
            Some(_) => match value_at(text, pos) {
                Ok((json, end)) => {
                    items.push(DocumentItem {
                        offset: pos,
                        format: Some(format),
                        content: Ok(json),
                    });
                    pos = end;
                }
                Err(e) => {
                    items.push(DocumentItem {
                        offset: pos,
                        format: Some(format),
                        content: Err(json_error(e)),
                    });
                    return None;
                }
            },
        }
    }
    if format == SourceFormat::RecordsEnvelope {
        pos = skip_whitespace(bytes, pos);
        if bytes.get(pos) != Some(&b'}') {
            items.push(DocumentItem {
                offset: pos,
                format: Some(format),
                content: Err((
                    RejectReason::InvalidJson,
                    "expected `}` after the records array".into(),
                )),
            });
            return None;
        }
        pos += 1;
    }
    Some(pos)
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
