//! Cutting JSON documents into records: top-level values, `{"records": [...]}`
//! envelopes and arrays of records, from a whole text or from the windows of
//! a stream.
//!
//! Damage never ends a document. A record that is not valid JSON (or not
//! UTF-8, or too large) becomes one rejected item, and splitting goes on at
//! the next record: the next line that opens an object at the broken
//! record's indentation or less (pretty-printed and one-record-per-line
//! documents), or, inside one line, the next `},{` whose object looks like a
//! record (names `time`, `operationName`, `TimeGenerated` or
//! `OperationName`). Clean input never takes that path: resynchronising
//! costs nothing until a record fails to parse.

use serde_json::error::Category;
use serde_json::value::RawValue;

use super::json_error;
use crate::ingest::normalise::Rejected;
use crate::ingest::rejections::RejectReason;
use crate::ingest::schema::SourceFormat;

/// The largest record kvaudit reads: a line, or one value of a document.
/// Key Vault records are a few KB; a larger one is rejected as
/// `record-too-large` and skipped without being held, which bounds the
/// memory a reader needs whatever its input.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Bytes looked at after a possible record start inside one line.
const LOOKAHEAD: usize = 4096;

/// One record found in a document, or the damage in its place.
#[derive(Debug)]
pub struct DocumentItem<'t> {
    pub offset: usize,
    /// The container it was found in, when not a lone top-level value.
    pub format: Option<SourceFormat>,
    pub content: Result<&'t str, Rejected>,
}

/// Where the splitter is in the document's structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    Array(SourceFormat),
}

/// What a resynchronisation scan knows of the bytes before its position.
#[derive(Debug, Clone, Copy)]
struct Scan {
    /// Only white space (and at most one comma) since the last newline.
    line_start: bool,
    comma: bool,
    indent: usize,
    /// The last two bytes that were not white space.
    last: u8,
    before_last: u8,
    /// Deepest indentation at which a line-start object is a record.
    max_indent: usize,
    /// Candidates before this offset are inside the damaged record.
    accept_from: usize,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Split(Context),
    /// Looking for the next record after damage; `then` is the context it is in.
    Skip {
        then: Context,
        scan: Scan,
    },
    Done,
}

/// How a window of text ends.
#[derive(Debug, Clone, Copy)]
enum End {
    /// The end of the input.
    Eof,
    /// More input follows.
    More,
    /// A byte sequence that is not UTF-8, at `at`, `len` bytes long.
    BadUtf8 { at: usize, len: usize },
}

/// Where a run over one window of valid UTF-8 stopped.
enum Ran {
    /// Done with the window up to here.
    Stopped(usize),
    /// Past the window's valid text, at this offset: split on from there.
    Revalidate(usize),
}

/// What happens at a point where the text runs out.
enum OutOfText {
    /// Stop here and wait for more input.
    Wait,
    /// Go on at this offset (damage was recorded).
    Resume(usize),
    /// The input is finished.
    Finished,
}

/// Splits JSON documents into [`DocumentItem`]s; keeps its place between
/// the windows of a stream.
#[derive(Debug)]
pub struct Splitter {
    mode: Mode,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            mode: Mode::Split(Context::Top),
        }
    }
}

fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// Whether `bytes` starts (after white space) with `{"records": [`.
enum Envelope {
    /// Yes: the offset of the `[`.
    Yes(usize),
    No,
    /// The text ends before it can tell.
    Undecided,
}

fn envelope_start(bytes: &[u8]) -> Envelope {
    // `records`: diagnostic settings' blobs and Event Hub batches; `value`:
    // what `az rest`, ARM list calls and Resource Graph exports write.
    const KEYS: [&[u8]; 2] = [b"\"records\"", b"\"value\""];
    let mut pos = skip_whitespace(bytes, 0);
    match bytes.get(pos) {
        Some(b'{') => {}
        Some(_) => return Envelope::No,
        None => return Envelope::Undecided,
    }
    pos = skip_whitespace(bytes, pos + 1);
    let rest = &bytes[pos.min(bytes.len())..];
    let Some(key) = KEYS.into_iter().find(|key| rest.starts_with(key)) else {
        return if KEYS
            .iter()
            .any(|key| rest.len() < key.len() && key.starts_with(rest))
        {
            Envelope::Undecided
        } else {
            Envelope::No
        };
    };
    pos = skip_whitespace(bytes, pos + key.len());
    match bytes.get(pos) {
        Some(b':') => {}
        Some(_) => return Envelope::No,
        None => return Envelope::Undecided,
    }
    pos = skip_whitespace(bytes, pos + 1);
    match bytes.get(pos) {
        Some(b'[') => Envelope::Yes(pos),
        Some(_) => Envelope::No,
        None => Envelope::Undecided,
    }
}

/// If `text` starts with `{"records": [`, the offset of the `[`.
pub fn envelope_array_start(text: &str) -> Option<usize> {
    envelope_array_start_bytes(text.as_bytes())
}

/// [`envelope_array_start`] of bytes.
pub fn envelope_array_start_bytes(bytes: &[u8]) -> Option<usize> {
    match envelope_start(bytes) {
        Envelope::Yes(open) => Some(open),
        _ => None,
    }
}

/// Reads one JSON value at `pos`: its text and where it ends, or the error
/// and the offset where it was found.
fn value_at(text: &str, pos: usize) -> Result<(&str, usize), (serde_json::Error, usize)> {
    let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<&RawValue>();
    match stream.next() {
        Some(Ok(value)) => Ok((value.get(), pos + stream.byte_offset())),
        Some(Err(e)) => {
            let at = pos + error_offset(&text.as_bytes()[pos..], &e);
            Err((e, at))
        }
        None => Err((
            serde::de::Error::custom("EOF while parsing a value"),
            text.len(),
        )),
    }
}

/// The byte offset in `bytes` of a serde_json error's line and column.
fn error_offset(bytes: &[u8], e: &serde_json::Error) -> usize {
    let mut line_start = 0;
    for _ in 1..e.line() {
        match memchr::memchr(b'\n', &bytes[line_start..]) {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    (line_start + e.column().saturating_sub(1)).min(bytes.len())
}

/// Whether the object starting `window` looks like a log record.
fn looks_like_record(window: &[u8]) -> bool {
    const NAMES: [&[u8]; 4] = [
        b"\"time\"",
        b"\"operationName\"",
        b"\"TimeGenerated\"",
        b"\"OperationName\"",
    ];
    NAMES
        .iter()
        .any(|name| memchr::memmem::find(window, name).is_some())
}

/// The column of `pos`: bytes since the last newline (`col0` is the column of `bytes[0]`).
fn column(bytes: &[u8], pos: usize, col0: usize) -> usize {
    match memchr::memrchr(b'\n', &bytes[..pos]) {
        Some(nl) => pos - nl - 1,
        None => col0 + pos,
    }
}

impl Scan {
    /// A scan for the record after damage at `start`, from `start + 1`.
    fn after(bytes: &[u8], start: usize, accept_from: usize, col0: usize) -> Scan {
        let col = column(bytes, start, col0);
        let line_start = bytes[start - col.min(start)..start]
            .iter()
            .all(|b| b.is_ascii_whitespace() || *b == b',');
        let first = bytes.get(start).copied().unwrap_or(b' ');
        Scan {
            line_start: line_start && first.is_ascii_whitespace(),
            comma: false,
            indent: col,
            last: first,
            before_last: b' ',
            max_indent: col,
            accept_from: accept_from.max(start + 1),
        }
    }

    fn saw(&mut self, byte: u8) {
        self.before_last = self.last;
        self.last = byte;
    }
}

enum Found {
    At(usize),
    /// Scanned up to here; more input is needed.
    More(usize),
    End,
}

/// Looks for the start of the next record from `pos` (see the module doc).
fn find_record(bytes: &[u8], pos: usize, scan: &mut Scan, top: bool, at_eof: bool) -> Found {
    let mut i = pos;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                scan.line_start = true;
                scan.comma = false;
                scan.indent = 0;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                if scan.line_start {
                    scan.indent += 1;
                }
                i += 1;
                continue;
            }
            b'{' | b'[' if i >= scan.accept_from => {
                if scan.line_start && scan.indent <= scan.max_indent && (b == b'{' || top) {
                    return Found::At(i);
                }
                let after_object =
                    scan.last == b'}' || (scan.last == b',' && scan.before_last == b'}');
                if b == b'{' && after_object {
                    let end = (i + LOOKAHEAD).min(bytes.len());
                    if end < i + LOOKAHEAD && !at_eof {
                        return Found::More(i);
                    }
                    if looks_like_record(&bytes[i..end]) {
                        return Found::At(i);
                    }
                }
            }
            b',' if scan.line_start && !scan.comma => {
                scan.comma = true;
                scan.saw(b);
                i += 1;
                continue;
            }
            _ => {}
        }
        scan.line_start = false;
        scan.saw(b);
        i += 1;
    }
    if at_eof {
        Found::End
    } else {
        Found::More(bytes.len())
    }
}

fn too_large_record() -> Rejected {
    (
        RejectReason::RecordTooLarge,
        format!(
            "a record longer than {} MiB (the limit); skipped to the next record",
            MAX_RECORD_BYTES >> 20
        ),
    )
}

fn found_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("`{}`", byte as char)
    } else {
        format!("byte 0x{byte:02x}")
    }
}

impl Splitter {
    pub fn new() -> Self {
        Splitter::default()
    }

    /// Whether the splitter has seen the end of its input.
    pub fn is_done(&self) -> bool {
        matches!(self.mode, Mode::Done)
    }

    /// Splits the window `bytes` (the whole rest of the input when
    /// `at_eof`), adding what it finds to `items`. Returns the offset up to
    /// which the window was used: the caller keeps the bytes from there and
    /// calls again with more input after them. `col0` is the column of
    /// `bytes[0]` in its line.
    pub fn split<'t>(
        &mut self,
        bytes: &'t [u8],
        at_eof: bool,
        col0: usize,
        items: &mut Vec<DocumentItem<'t>>,
    ) -> usize {
        let (text, end) = match std::str::from_utf8(bytes) {
            Ok(text) => (text, if at_eof { End::Eof } else { End::More }),
            Err(e) => {
                let at = e.valid_up_to();
                let text = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
                match e.error_len() {
                    Some(len) => (text, End::BadUtf8 { at, len }),
                    // A character cut by the end of the window.
                    None if !at_eof => (text, End::More),
                    None => (
                        text,
                        End::BadUtf8 {
                            at,
                            len: bytes.len() - at,
                        },
                    ),
                }
            }
        };
        match self.run(bytes, text, end, at_eof, col0, items) {
            Ran::Stopped(used) => used,
            // Past a byte that is not UTF-8: the rest is checked afresh.
            Ran::Revalidate(from) => {
                let mut rest = Vec::new();
                let used = self.split(&bytes[from..], at_eof, column(bytes, from, col0), &mut rest);
                items.extend(rest.into_iter().map(|mut item| {
                    item.offset += from;
                    item
                }));
                from + used
            }
        }
    }

    /// Rejects the value that starts `bytes` as larger than
    /// [`MAX_RECORD_BYTES`] and skips to the next record. The caller calls
    /// this when what is left of a window after [`split`](Self::split)
    /// exceeds the limit, then drops all of `bytes` and goes on with more.
    pub fn too_large(&mut self, bytes: &[u8], col0: usize) -> DocumentItem<'static> {
        let then = match self.mode {
            Mode::Split(context) => context,
            Mode::Skip { then, .. } => then,
            Mode::Done => Context::Top,
        };
        // Nothing in `bytes` is a record start: scan them only to know what
        // the next bytes follow.
        let mut scan = Scan::after(bytes, 0, bytes.len(), col0);
        if bytes.len() > 1 {
            find_record(bytes, 1, &mut scan, then == Context::Top, false);
        }
        scan.accept_from = 0;
        self.mode = Mode::Skip { then, scan };
        DocumentItem {
            offset: 0,
            format: match then {
                Context::Top => None,
                Context::Array(format) => Some(format),
            },
            content: Err(too_large_record()),
        }
    }

    fn run<'t>(
        &mut self,
        bytes: &'t [u8],
        text: &'t str,
        end: End,
        at_eof: bool,
        col0: usize,
        items: &mut Vec<DocumentItem<'t>>,
    ) -> Ran {
        let tb = text.as_bytes();
        let mut pos = 0;
        loop {
            if pos > tb.len() && matches!(self.mode, Mode::Split(_)) {
                return Ran::Revalidate(pos);
            }
            let context = match self.mode {
                Mode::Done => return Ran::Stopped(bytes.len()),
                Mode::Skip { then, mut scan } => {
                    match find_record(bytes, pos, &mut scan, then == Context::Top, at_eof) {
                        Found::At(at) => {
                            // An envelope after a damaged array starts anew at the top.
                            let context = match (then, envelope_start(&bytes[at..])) {
                                (Context::Array(_), Envelope::Yes(_)) => Context::Top,
                                _ => then,
                            };
                            self.mode = Mode::Split(context);
                            pos = at;
                            continue;
                        }
                        Found::More(at) => {
                            scan.accept_from = scan.accept_from.saturating_sub(at);
                            self.mode = Mode::Skip { then, scan };
                            return Ran::Stopped(at);
                        }
                        Found::End => {
                            self.mode = Mode::Done;
                            return Ran::Stopped(bytes.len());
                        }
                    }
                }
                Mode::Split(context) => context,
            };
            pos = skip_whitespace(tb, pos);
            let item = |offset, content| DocumentItem {
                offset,
                format: match context {
                    Context::Top => None,
                    Context::Array(format) => Some(format),
                },
                content,
            };
            if pos >= tb.len() {
                let ended = match context {
                    Context::Top => None,
                    Context::Array(_) => Some((
                        RejectReason::TruncatedRecord,
                        "the document ends before its array is closed".to_owned(),
                    )),
                };
                match self.out_of_text(bytes, pos, end, context, col0, ended, items) {
                    OutOfText::Wait => return Ran::Stopped(pos),
                    OutOfText::Resume(at) => {
                        pos = at;
                        continue;
                    }
                    OutOfText::Finished => return Ran::Stopped(bytes.len()),
                }
            }
            match context {
                Context::Top => {
                    // A comma between top-level values is not JSON, but some tools write it.
                    if tb[pos] == b',' {
                        pos += 1;
                        continue;
                    }
                    let opens = match tb[pos] {
                        b'[' => Some((pos, SourceFormat::JsonArray)),
                        b'{' => match envelope_start(&tb[pos..]) {
                            Envelope::Yes(open) => {
                                Some((pos + open, SourceFormat::RecordsEnvelope))
                            }
                            Envelope::No => None,
                            Envelope::Undecided => {
                                let truncated = Some((
                                    RejectReason::TruncatedRecord,
                                    "the document ends inside its first value".to_owned(),
                                ));
                                match self
                                    .out_of_text(bytes, pos, end, context, col0, truncated, items)
                                {
                                    OutOfText::Wait => return Ran::Stopped(pos),
                                    OutOfText::Resume(at) => {
                                        pos = at;
                                        continue;
                                    }
                                    OutOfText::Finished => return Ran::Stopped(bytes.len()),
                                }
                            }
                        },
                        _ => None,
                    };
                    if let Some((open, format)) = opens {
                        // An array of records opens with an object (or is empty);
                        // any other array is one value, and not a record.
                        let first = skip_whitespace(tb, open + 1);
                        match tb.get(first) {
                            Some(b'{' | b']') => {
                                self.mode = Mode::Split(Context::Array(format));
                                pos = open + 1;
                                continue;
                            }
                            Some(_) => {}
                            None if matches!(end, End::Eof) => {}
                            None => {
                                match self.out_of_text(bytes, pos, end, context, col0, None, items)
                                {
                                    OutOfText::Wait => return Ran::Stopped(pos),
                                    OutOfText::Resume(at) => {
                                        pos = at;
                                        continue;
                                    }
                                    OutOfText::Finished => return Ran::Stopped(bytes.len()),
                                }
                            }
                        }
                    }
                    match self.value(bytes, text, pos, end, context, col0, items) {
                        OutOfText::Wait => return Ran::Stopped(pos),
                        OutOfText::Resume(at) => pos = at,
                        OutOfText::Finished => return Ran::Stopped(bytes.len()),
                    }
                }
                Context::Array(format) => match tb[pos] {
                    b']' => {
                        if format == SourceFormat::RecordsEnvelope {
                            let close = skip_whitespace(tb, pos + 1);
                            match tb.get(close) {
                                Some(b'}') => {
                                    self.mode = Mode::Split(Context::Top);
                                    pos = close + 1;
                                }
                                Some(&other) => {
                                    items.push(item(
                                        close,
                                        Err((
                                            RejectReason::InvalidJson,
                                            format!(
                                                "expected `}}` after the records array, found {}",
                                                found_byte(other)
                                            ),
                                        )),
                                    ));
                                    self.mode = Mode::Skip {
                                        then: Context::Top,
                                        scan: Scan::after(bytes, close, close + 1, col0),
                                    };
                                    pos = close + 1;
                                }
                                None => {
                                    let unclosed = Some((
                                        RejectReason::TruncatedRecord,
                                        "the document ends before its envelope is closed"
                                            .to_owned(),
                                    ));
                                    match self.out_of_text(
                                        bytes, pos, end, context, col0, unclosed, items,
                                    ) {
                                        OutOfText::Wait => return Ran::Stopped(pos),
                                        OutOfText::Resume(at) => pos = at,
                                        OutOfText::Finished => return Ran::Stopped(bytes.len()),
                                    }
                                }
                            }
                        } else {
                            self.mode = Mode::Split(Context::Top);
                            pos += 1;
                        }
                    }
                    b',' => pos += 1,
                    _ => match self.value(bytes, text, pos, end, context, col0, items) {
                        OutOfText::Wait => return Ran::Stopped(pos),
                        OutOfText::Resume(at) => pos = at,
                        OutOfText::Finished => return Ran::Stopped(bytes.len()),
                    },
                },
            }
        }
    }

    /// Reads the value at `pos` and what follows it.
    #[allow(
        clippy::too_many_arguments,
        reason = "the scanner's position in the text: bytes, offsets, context and the items so far"
    )]
    fn value<'t>(
        &mut self,
        bytes: &'t [u8],
        text: &'t str,
        pos: usize,
        end: End,
        context: Context,
        col0: usize,
        items: &mut Vec<DocumentItem<'t>>,
    ) -> OutOfText {
        let tb = text.as_bytes();
        let format = match context {
            Context::Top => None,
            Context::Array(format) => Some(format),
        };
        match value_at(text, pos) {
            Ok((json, value_end)) => {
                let next = skip_whitespace(tb, value_end);
                let fits = match (tb.get(next), context) {
                    (None, _) => {
                        if let End::More = end {
                            return OutOfText::Wait;
                        }
                        true
                    }
                    (Some(b','), _) | (Some(b'{'), _) => true,
                    (Some(b']'), Context::Array(_)) => true,
                    (Some(b'['), Context::Top) => true,
                    (Some(_), _) => false,
                };
                if fits {
                    let content = if json.len() > MAX_RECORD_BYTES {
                        Err(too_large_record())
                    } else {
                        Ok(json)
                    };
                    items.push(DocumentItem {
                        offset: pos,
                        format,
                        content,
                    });
                    return OutOfText::Resume(next);
                }
                // Something else than a separator: the record is damaged
                // (a `,` turned into a `}`, two records run together).
                let what = match context {
                    Context::Top => "a JSON value",
                    Context::Array(_) => "a record",
                };
                items.push(DocumentItem {
                    offset: pos,
                    format,
                    content: Err((
                        RejectReason::InvalidJson,
                        format!(
                            "{} follows {what} where `,` or the end belongs",
                            found_byte(tb[next])
                        ),
                    )),
                });
                self.mode = Mode::Skip {
                    then: context,
                    scan: Scan::after(bytes, pos, next, col0),
                };
                OutOfText::Resume(pos + 1)
            }
            Err((e, _)) if e.classify() == Category::Eof => {
                self.out_of_text(bytes, pos, end, context, col0, Some(json_error(e)), items)
            }
            Err((e, at)) => {
                items.push(DocumentItem {
                    offset: pos,
                    format,
                    content: Err(json_error(e)),
                });
                self.mode = Mode::Skip {
                    then: context,
                    scan: Scan::after(bytes, pos, at.saturating_sub(2), col0),
                };
                OutOfText::Resume(pos + 1)
            }
        }
    }

    /// The text ends inside the value at `pos` (or before the structure
    /// around it closes): wait for more input, reject the value as
    /// truncated (`truncated`, at the end of the input) or as not UTF-8.
    #[allow(
        clippy::too_many_arguments,
        reason = "the scanner's position in the text: bytes, offsets, context and the items so far"
    )]
    fn out_of_text(
        &mut self,
        bytes: &[u8],
        pos: usize,
        end: End,
        context: Context,
        col0: usize,
        truncated: Option<Rejected>,
        items: &mut Vec<DocumentItem<'_>>,
    ) -> OutOfText {
        let format = match context {
            Context::Top => None,
            Context::Array(format) => Some(format),
        };
        match end {
            End::More => OutOfText::Wait,
            End::Eof => {
                if let Some(rejected) = truncated {
                    items.push(DocumentItem {
                        offset: pos,
                        format,
                        content: Err(rejected),
                    });
                }
                self.mode = Mode::Done;
                OutOfText::Finished
            }
            End::BadUtf8 { at, len } => {
                items.push(DocumentItem {
                    offset: pos,
                    format,
                    content: Err((
                        RejectReason::InvalidUtf8,
                        format!(
                            "not UTF-8 (byte 0x{:02x}, {} bytes into the record)",
                            bytes[at],
                            at - pos
                        ),
                    )),
                });
                self.mode = Mode::Skip {
                    then: context,
                    scan: Scan::after(bytes, pos, at + len, col0),
                };
                OutOfText::Resume(pos + 1)
            }
        }
    }
}

/// Cuts a whole JSON document into records.
pub fn split_document(text: &[u8]) -> Vec<DocumentItem<'_>> {
    let mut items = Vec::new();
    Splitter::new().split(text, true, 0, &mut items);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(text: &str) -> Vec<Result<String, RejectReason>> {
        split_document(text.as_bytes())
            .into_iter()
            .map(|item| item.content.map(str::to_owned).map_err(|(r, _)| r))
            .collect()
    }

    #[test]
    fn a_broken_record_in_a_compact_envelope_is_stepped_over() {
        let line = r#"{"records":[{"time":"1","operationName":"A"},{"time":"2","operationName":"B"x},{"time":"3","operationName":"C"}]}"#;
        let items = reasons(line);
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[0].is_ok());
        assert_eq!(items[1], Err(RejectReason::InvalidJson));
        assert_eq!(
            items[2].as_deref(),
            Ok(r#"{"time":"3","operationName":"C"}"#)
        );
    }

    #[test]
    fn a_broken_record_in_a_pretty_array_is_stepped_over() {
        let text = "[\n  {\n    \"time\": \"1\",\n    \"x\": [{\"a\": 1}, {\"b\": 2}]\n  },\n  {\n    \"time\": 2 3\n  },\n  {\n    \"time\": \"3\"\n  }\n]\n";
        let items = reasons(text);
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items[0].is_ok());
        assert_eq!(items[1], Err(RejectReason::InvalidJson));
        assert!(items[2].is_ok());
    }

    #[test]
    fn a_value_followed_by_garbage_is_one_damaged_record() {
        let items = reasons(r#"[{"time":"1"}"x":2},{"time":"3"}]"#);
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0], Err(RejectReason::InvalidJson));
        assert!(items[1].is_ok());
    }

    #[test]
    fn an_array_of_scalars_is_one_value() {
        assert_eq!(reasons("[1,2"), [Err(RejectReason::TruncatedRecord)]);
        assert_eq!(reasons("[1,2]").len(), 1);
        assert_eq!(reasons("[]").len(), 0);
    }

    #[test]
    fn invalid_utf8_rejects_only_its_record() {
        let mut text = b"[\n{\"time\":\"1\"},\n{\"time\":\"".to_vec();
        text.extend_from_slice(b"\xff\xfe\"},\n{\"time\":\"3\"}\n]");
        let items: Vec<_> = split_document(&text)
            .into_iter()
            .map(|i| i.content.map_err(|(r, _)| r))
            .collect();
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[1], Err(RejectReason::InvalidUtf8));
        assert_eq!(items[2], Ok("{\"time\":\"3\"}"));
    }

    #[test]
    fn windows_give_the_same_items_as_the_whole() {
        let text = "{\"records\": [\n {\"time\": \"1\"},\n {\"time\": \"2\" ,, },\n {\"time\": \"3\"}\n]}\n[{\"time\":\"4\"}]\n{\"time\":\"5\"}";
        let whole: Vec<_> = reasons(text);
        for step in 1..text.len() {
            let mut splitter = Splitter::new();
            let mut buf: Vec<u8> = Vec::new();
            let mut got = Vec::new();
            let mut fed = 0;
            let mut col0 = 0;
            loop {
                let next = (fed + step).min(text.len());
                buf.extend_from_slice(&text.as_bytes()[fed..next]);
                fed = next;
                let at_eof = fed == text.len();
                let mut items = Vec::new();
                let used = splitter.split(&buf, at_eof, col0, &mut items);
                got.extend(
                    items
                        .into_iter()
                        .map(|i| i.content.map(str::to_owned).map_err(|(r, _)| r)),
                );
                col0 = column(&buf, used, col0);
                buf.drain(..used);
                if at_eof {
                    break;
                }
            }
            assert_eq!(got, whole, "window of {step} bytes");
        }
    }
}
