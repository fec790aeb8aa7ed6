//! Reading one input: gzip detection, format detection, and parsing in
//! parallel pieces. JSON Lines (the common case, and the large one) are read
//! in blocks, so memory stays bounded whatever the file size; whole-document
//! formats (arrays, envelopes, CSV) are read whole.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use indicatif::ProgressBar;
use polars::prelude::*;
use rayon::prelude::*;

use super::formats::{self, Batch, BatchOutcome, LineCounter};
use super::inputs::Input;
use super::rejections::{RejectReason, Rejection, RejectionLog};
use super::schema::SourceFormat;

/// Bytes read per block of a JSON Lines file.
const BLOCK_BYTES: usize = 16 << 20;
/// Bytes (or, for documents, records) parsed by one task.
const PIECE_BYTES: usize = 2 << 20;
const PIECE_RECORDS: usize = 2048;

/// What reading one input produced.
pub struct InputOutcome {
    pub name: String,
    pub layout: Option<Layout>,
    pub frames: Vec<DataFrame>,
    pub rejections: RejectionLog,
    pub records: u64,
    /// Newlines up to where reading stopped, counting those before a range.
    pub lines: u32,
}

/// How a file was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    JsonLines,
    JsonDocument,
    Csv,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::JsonLines => "json-lines",
            Layout::JsonDocument => "json-document",
            Layout::Csv => "csv",
        }
    }
}

/// A source of bytes that remembers whether a gzip stream was cut off.
struct Source {
    reader: Box<dyn Read + Send>,
    gzip: bool,
    eof: bool,
    /// Set when reading failed; the data before the failure is still parsed.
    failure: Option<(RejectReason, String)>,
}

impl Source {
    fn open(input: &Input, progress: ProgressBar) -> io::Result<Source> {
        let mut raw = input.open(progress)?;
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            match raw.read(&mut magic[got..])? {
                0 => break,
                n => got += n,
            }
        }
        let head = io::Cursor::new(magic[..got].to_vec());
        let chained: Box<dyn Read + Send> = Box::new(head.chain(raw));
        let gzip = got == 2 && magic == [0x1f, 0x8b];
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(chained))
        } else {
            chained
        };
        Ok(Source {
            reader,
            gzip,
            eof: false,
            failure: None,
        })
    }

    /// Appends up to `limit` more bytes to `buf` (fewer only at the end).
    fn fill(&mut self, buf: &mut Vec<u8>, limit: usize) {
        let wanted = buf.len() + limit;
        // `read_to_end` reads into spare capacity without zeroing it first
        // (zeroing a 16 MB block per 2 MB blob was a tenth of ingest).
        while !self.eof && buf.len() < wanted {
            let remaining = (wanted - buf.len()) as u64;
            match (&mut self.reader).take(remaining).read_to_end(buf) {
                Ok(_) => self.eof = buf.len() < wanted,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    let reason = if self.gzip {
                        RejectReason::TruncatedGzip
                    } else {
                        RejectReason::Unreadable
                    };
                    self.failure = Some((reason, e.to_string()));
                }
            }
        }
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) {
        while !self.eof {
            self.fill(buf, BLOCK_BYTES);
        }
    }
}

fn detect(head: &[u8]) -> Option<Layout> {
    let first_line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let first_line = &head[..first_line_end];
    match head.first()? {
        b'[' => Some(Layout::JsonDocument),
        b'{' => {
            let complete = std::str::from_utf8(first_line.trim_ascii())
                .ok()
                .is_some_and(|l| serde_json::from_str::<&serde_json::value::RawValue>(l).is_ok());
            let looks_like_document = first_line.trim_ascii() == b"{"
                || first_line.trim_ascii().ends_with(b"[")
                || first_line.trim_ascii().ends_with(b":");
            if complete || !looks_like_document {
                Some(Layout::JsonLines)
            } else {
                Some(Layout::JsonDocument)
            }
        }
        _ => {
            let line = String::from_utf8_lossy(first_line);
            formats::csv::looks_like_header(&line).then_some(Layout::Csv)
        }
    }
}

/// Counts `\n` in `bytes`.
fn newlines(bytes: &[u8]) -> u32 {
    memchr::memchr_iter(b'\n', bytes).count() as u32
}

/// Cuts `text` (whole lines) into pieces of about `PIECE_BYTES`, each with its first line number.
fn pieces(text: &[u8], first_line: u32) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = first_line;
    while start < text.len() {
        let mut end = (start + PIECE_BYTES).min(text.len());
        if end < text.len() {
            end = memchr::memchr(b'\n', &text[end..]).map_or(text.len(), |i| end + i + 1);
        }
        out.push((line, &text[start..end]));
        line += newlines(&text[start..end]);
        start = end;
    }
    out
}

fn parse_line_pieces(name: &str, text: &[u8], first_line: u32) -> PolarsResult<Vec<BatchOutcome>> {
    pieces(text, first_line)
        .into_par_iter()
        .map(|(line, piece)| {
            let mut batch = Batch::new(name, piece.len() / 1024 + 16);
            batch.add_lines(piece, line);
            batch.finish()
        })
        .collect()
}

fn parse_document(name: &str, text: &[u8]) -> PolarsResult<Vec<BatchOutcome>> {
    let text = match std::str::from_utf8(text) {
        Ok(text) => text,
        Err(e) => {
            // Only the part before the bad byte can be cut into records safely.
            let valid = std::str::from_utf8(&text[..e.valid_up_to()]).unwrap_or_default();
            let mut outcomes = parse_document(name, valid.as_bytes())?;
            let mut batch = Batch::new(name, 0);
            batch.reject(
                newlines(&text[..e.valid_up_to()]) + 1,
                (
                    RejectReason::InvalidUtf8,
                    format!(
                        "invalid UTF-8 at byte {}; the rest of the document was not read",
                        e.valid_up_to()
                    ),
                ),
            );
            outcomes.push(batch.finish()?);
            return Ok(outcomes);
        }
    };
    let items = formats::split_document(text);
    let mut lines = LineCounter::new(text, 1);
    let located: Vec<_> = items
        .into_iter()
        .map(|item| (lines.line_at(item.offset), item))
        .collect();
    located
        .par_chunks(PIECE_RECORDS)
        .map(|chunk| {
            let mut batch = Batch::new(name, chunk.len());
            for (line, item) in chunk {
                match &item.content {
                    Ok(json) => {
                        batch.add_json(json, *line, item.format.unwrap_or(SourceFormat::JsonLines))
                    }
                    Err(rejected) => batch.reject(*line, rejected.clone()),
                }
            }
            batch.finish()
        })
        .collect()
}

fn parse_csv(name: &str, text: &[u8]) -> PolarsResult<Vec<BatchOutcome>> {
    let mut batch = Batch::new(name, 1024);
    formats::csv::add_csv(&mut batch, text);
    Ok(vec![batch.finish()?])
}

/// Reads and parses one input.
pub fn read_input(input: &Input, progress: &ProgressBar) -> PolarsResult<InputOutcome> {
    let name = input.name();
    let mut outcome = InputOutcome {
        name: name.clone(),
        layout: None,
        frames: Vec::new(),
        rejections: RejectionLog::default(),
        records: 0,
        lines: input.first_line() - 1,
    };
    let file_rejection = |reason, line, detail: String| Rejection {
        reason,
        file: name.clone(),
        line,
        detail,
    };
    let mut source = match Source::open(input, progress.clone()) {
        Ok(source) => source,
        Err(e) => {
            outcome.records += 1;
            outcome.rejections.record(file_rejection(
                RejectReason::Unreadable,
                0,
                format!("cannot open: {e}"),
            ));
            return Ok(outcome);
        }
    };

    let mut buf = Vec::new();
    source.fill(&mut buf, BLOCK_BYTES);
    let bom = if buf.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let leading = buf[bom..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    // A range of a grown file continues the file's own line numbers.
    let lines_before = input.first_line() - 1;
    let skipped_lines = lines_before + newlines(&buf[..bom + leading]);
    let layout = detect(&buf[bom + leading..]);
    outcome.layout = layout;

    let mut batches = Vec::new();
    let mut lines_done = lines_before;
    match layout {
        None if buf[bom + leading..].is_empty() => {
            outcome.records += 1;
            let reason = if source.failure.is_some() {
                RejectReason::TruncatedGzip
            } else {
                RejectReason::EmptyFile
            };
            let detail = match &source.failure {
                Some((_, e)) => format!("nothing could be read: {e}"),
                None => "the file is empty".to_owned(),
            };
            outcome.rejections.record(file_rejection(reason, 1, detail));
            return Ok(outcome);
        }
        None => {
            outcome.records += 1;
            let binary = buf.iter().take(512).any(|&b| b == 0);
            let what = if binary {
                "a binary file"
            } else {
                "text that is neither JSON nor a Key Vault CSV export"
            };
            outcome.rejections.record(file_rejection(
                RejectReason::UnrecognisedFormat,
                skipped_lines + 1,
                format!("{what}; nothing was read from it"),
            ));
            return Ok(outcome);
        }
        Some(Layout::JsonLines) => {
            buf.drain(..bom);
            loop {
                let complete = if source.eof {
                    buf.len()
                } else {
                    memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
                };
                batches.extend(parse_line_pieces(&name, &buf[..complete], lines_done + 1)?);
                lines_done += newlines(&buf[..complete]);
                buf.drain(..complete);
                if source.eof {
                    break;
                }
                source.fill(&mut buf, BLOCK_BYTES);
            }
        }
        Some(Layout::JsonDocument) => {
            source.read_to_end(&mut buf);
            batches.extend(parse_document(&name, &buf[bom..])?);
            lines_done = lines_before + newlines(&buf);
        }
        Some(Layout::Csv) => {
            source.read_to_end(&mut buf);
            batches.extend(parse_csv(&name, &buf[bom..])?);
            lines_done = lines_before + newlines(&buf);
        }
    }
    if let Some((reason, error)) = source.failure {
        outcome.rejections.record(file_rejection(
            reason,
            lines_done + 1,
            format!("reading stopped here: {error}; the records before were read"),
        ));
        outcome.records += 1;
    }
    outcome.lines = lines_done;
    for batch in batches {
        outcome.records += batch.records;
        outcome.rejections.merge(batch.rejections);
        if batch.frame.height() > 0 {
            outcome.frames.push(batch.frame);
        }
    }
    Ok(outcome)
}
