//! Reading one input: opened once, its kind told from its first bytes
//! (Parquet, gzip, then the text's layout), and parsed in parallel pieces.
//!
//! Every layout is read as a stream: JSON Lines in blocks of whole lines,
//! documents (arrays, envelopes) in windows the [`Splitter`] cuts into
//! records, CSV row by row. No record longer than [`MAX_RECORD_BYTES`] is
//! held: it is rejected as `record-too-large` and skipped, so a reader needs
//! at most a block plus that limit, whatever the file (a gzip bomb of one
//! endless line included).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use flate2::read::MultiGzDecoder;
use indicatif::ProgressBar;
use polars::prelude::*;
use rayon::prelude::*;

use super::azure_monitor::PullAccount;
use super::formats::{
    self, Batch, BatchOutcome, DocumentItem, LineCounter, MAX_RECORD_BYTES, Splitter,
};
use super::inputs::{CountingReader, Input};
use super::parquet::{self, ParquetInput};
use super::rejections::{RejectReason, Rejection, RejectionLog};
use super::schema::SourceFormat;
use super::utf16;

/// Bytes read per block.
const BLOCK_BYTES: usize = 16 << 20;
/// Bytes (or, for documents, records) parsed by one task.
const PIECE_BYTES: usize = 2 << 20;
const PIECE_RECORDS: usize = 2048;
/// Lines after the first that layout detection looks at.
const DETECT_LINES: usize = 16;

/// What reading one input produced.
pub struct InputOutcome {
    pub name: String,
    pub layout: Option<Layout>,
    pub frames: Vec<DataFrame>,
    pub rejections: RejectionLog,
    pub records: u64,
    /// Newlines up to where reading stopped, counting those before a range.
    pub lines: u32,
    /// The pull account a Parquet file keeps.
    pub pull: Option<PullAccount>,
}

/// How a file was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    JsonLines,
    JsonDocument,
    Csv,
    Parquet,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::JsonLines => "json-lines",
            Layout::JsonDocument => "json-document",
            Layout::Csv => "csv",
            Layout::Parquet => "parquet",
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

/// An input, opened once and looked at.
enum Opened {
    Parquet(ParquetInput),
    Text(Source),
}

/// Reads into `buf` until it is full or the reader ends; returns the count.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Opens `input` once and tells Parquet from text by its first bytes, read
/// from the same handle: a pipe or FIFO is never opened twice, and never
/// read by a check before its reader.
fn open(input: &Input, progress: &ProgressBar) -> io::Result<Opened> {
    let mut magic = [0u8; 4];
    let (got, rest): (usize, Box<dyn Read + Send>) = match input {
        Input::Range {
            path, start, end, ..
        } if *start > 0 => {
            // The rest of a JSON-lines file: text, never Parquet.
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(*start))?;
            (0, Box::new(file.take(end.saturating_sub(*start))))
        }
        Input::File(path) | Input::Range { path, .. } => {
            let mut file = File::open(path)?;
            let got = read_up_to(&mut file, &mut magic)?;
            if got == 4 && &magic == parquet::MAGIC {
                progress.inc(input.size().unwrap_or(0));
                if file.metadata()?.is_file() {
                    file.seek(SeekFrom::Start(0))?;
                    return Ok(Opened::Parquet(ParquetInput::File(file)));
                }
                // A pipe: Parquet needs its footer first, so keep it all.
                let mut bytes = magic.to_vec();
                file.read_to_end(&mut bytes)?;
                return Ok(Opened::Parquet(ParquetInput::Bytes(bytes)));
            }
            let rest: Box<dyn Read + Send> = match input {
                Input::Range { end, .. } => Box::new(file.take(end.saturating_sub(got as u64))),
                _ => Box::new(file),
            };
            (got, rest)
        }
        Input::Memory { bytes, .. } => {
            let mut memory = io::Cursor::new(bytes.clone());
            let got = read_up_to(&mut memory, &mut magic)?;
            if got == 4 && &magic == parquet::MAGIC {
                progress.inc(bytes.len() as u64);
                return Ok(Opened::Parquet(ParquetInput::Bytes(bytes.to_vec())));
            }
            (got, Box::new(memory))
        }
        Input::Stdin => {
            let mut stdin = io::stdin();
            let got = read_up_to(&mut stdin, &mut magic)?;
            if got == 4 && &magic == parquet::MAGIC {
                let mut bytes = magic.to_vec();
                stdin.read_to_end(&mut bytes)?;
                progress.inc(bytes.len() as u64);
                return Ok(Opened::Parquet(ParquetInput::Bytes(bytes)));
            }
            (got, Box::new(stdin))
        }
    };
    progress.inc(got as u64);
    let head = magic[..got].to_vec();
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let chained: Box<dyn Read + Send> =
        Box::new(io::Cursor::new(head).chain(CountingReader::new(rest, progress.clone())));
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(chained))
    } else {
        chained
    };
    Ok(Opened::Text(Source {
        reader,
        gzip,
        eof: false,
        failure: None,
    }))
}

impl Source {
    /// This source from `head` (read from it, the BOM dropped) on, decoded
    /// from UTF-16 to UTF-8 as it is read; a failure already met is kept.
    fn decoded_utf16(self, head: Vec<u8>, endian: utf16::Endian) -> Source {
        let rest: Box<dyn Read + Send> = if self.eof {
            Box::new(io::empty())
        } else {
            self.reader
        };
        Source {
            reader: Box::new(utf16::Decoder::new(
                io::Cursor::new(head).chain(rest),
                endian,
            )),
            gzip: self.gzip,
            eof: false,
            failure: self.failure,
        }
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
                Err(e) => self.fail(e),
            }
        }
    }

    fn fail(&mut self, e: io::Error) {
        self.eof = true;
        let reason = if self.gzip {
            RejectReason::TruncatedGzip
        } else {
            RejectReason::Unreadable
        };
        self.failure = Some((reason, e.to_string()));
    }
}

/// A source read as a plain stream (for CSV): a failure ends it, and is kept.
impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while !self.eof {
            match self.reader.read(out) {
                Ok(0) => self.eof = true,
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.fail(e),
            }
        }
        Ok(0)
    }
}

/// Whether `line` holds one complete JSON value.
fn complete_json(line: &[u8]) -> bool {
    std::str::from_utf8(line.trim_ascii())
        .ok()
        .is_some_and(|l| serde_json::from_str::<&serde_json::value::RawValue>(l).is_ok())
}

/// Whether most of the lines after the first hold one JSON object each:
/// JSON Lines whose first line is damaged or cut (a blob copied while it was
/// written), rather than a pretty-printed document, whose inner lines are
/// not whole objects (and whose one-record-per-line arrays end their lines
/// with commas).
fn later_lines_are_records(head: &[u8], eof: bool) -> bool {
    let mut lines = head.split(|&b| b == b'\n').skip(1).peekable();
    let (mut seen, mut records) = (0, 0);
    while let Some(line) = lines.next() {
        // The last piece is a whole line only at the end of the input.
        if lines.peek().is_none() && !eof {
            break;
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        seen += 1;
        if line.starts_with(b"{") && line.ends_with(b"}") && complete_json(line) {
            records += 1;
        }
        if seen == DETECT_LINES {
            break;
        }
    }
    seen > 0 && 2 * records > seen
}

/// The layout of a text from its first block (`eof` when that is all of it).
fn detect(head: &[u8], eof: bool) -> Option<Layout> {
    let first_line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let first_line = head[..first_line_end].trim_ascii();
    match head.first()? {
        b'[' => Some(Layout::JsonDocument),
        b'{' => {
            let looks_like_document =
                first_line == b"{" || first_line.ends_with(b"[") || first_line.ends_with(b":");
            if !looks_like_document
                || complete_json(first_line)
                || later_lines_are_records(head, eof)
            {
                Some(Layout::JsonLines)
            } else {
                Some(Layout::JsonDocument)
            }
        }
        _ => {
            let line = String::from_utf8_lossy(first_line);
            if formats::csv::looks_like_header(&line) {
                Some(Layout::Csv)
            } else if later_lines_are_records(head, eof) {
                // JSON Lines whose first line lost its start.
                Some(Layout::JsonLines)
            } else {
                None
            }
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

/// Reads JSON Lines block by block; a line longer than [`MAX_RECORD_BYTES`]
/// is rejected and skipped without being held. Returns the batches and the
/// newlines read.
fn read_lines(
    name: &str,
    source: &mut Source,
    mut buf: Vec<u8>,
    lines_before: u32,
) -> PolarsResult<(Vec<BatchOutcome>, u32)> {
    let mut batches = Vec::new();
    let mut lines_done = lines_before;
    loop {
        let complete = if source.eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
        };
        if complete == 0 && !source.eof && buf.len() > MAX_RECORD_BYTES {
            let mut batch = Batch::new(name, 0);
            batch.reject(lines_done + 1, formats::too_large_line());
            batches.push(batch.finish()?);
            loop {
                if let Some(i) = memchr::memchr(b'\n', &buf) {
                    buf.drain(..=i);
                    lines_done += 1;
                    break;
                }
                buf.clear();
                if source.eof {
                    break;
                }
                source.fill(&mut buf, BLOCK_BYTES);
            }
            continue;
        }
        batches.extend(parse_line_pieces(name, &buf[..complete], lines_done + 1)?);
        lines_done += newlines(&buf[..complete]);
        buf.drain(..complete);
        if source.eof {
            break;
        }
        source.fill(&mut buf, BLOCK_BYTES);
    }
    Ok((batches, lines_done))
}

/// Parses the items a splitter found in `window`, whose first byte is on `line`.
fn parse_items(
    name: &str,
    window: &[u8],
    line: u32,
    items: Vec<DocumentItem<'_>>,
) -> PolarsResult<Vec<BatchOutcome>> {
    let mut lines = LineCounter::over(window, line);
    let located: Vec<_> = items
        .into_iter()
        .map(|item| (lines.line_at(item.offset), item))
        .collect();
    located
        .into_par_iter()
        .chunks(PIECE_RECORDS)
        .map(|chunk| {
            let mut batch = Batch::new(name, chunk.len());
            for (line, item) in chunk {
                batch.add_item(item, line, SourceFormat::JsonLines);
            }
            batch.finish()
        })
        .collect()
}

/// Where a window ends: its line and column, from those of its start.
fn advance(bytes: &[u8], line: &mut u32, column: &mut usize) {
    *line += newlines(bytes);
    *column = match memchr::memrchr(b'\n', bytes) {
        Some(nl) => bytes.len() - nl - 1,
        None => *column + bytes.len(),
    };
}

/// Reads a JSON document (arrays, envelopes, concatenated values) in
/// windows. Returns the batches and the newlines read.
fn read_document(
    name: &str,
    source: &mut Source,
    mut buf: Vec<u8>,
    lines_before: u32,
) -> PolarsResult<(Vec<BatchOutcome>, u32)> {
    let mut splitter = Splitter::new();
    let mut batches = Vec::new();
    let (mut line, mut column) = (lines_before + 1, 0);
    loop {
        let at_eof = source.eof;
        let mut items = Vec::new();
        let used = splitter.split(&buf, at_eof, column, &mut items);
        batches.extend(parse_items(name, &buf, line, items)?);
        advance(&buf[..used], &mut line, &mut column);
        buf.drain(..used);
        if at_eof {
            break;
        }
        if buf.len() > MAX_RECORD_BYTES {
            let item = splitter.too_large(&buf, column);
            batches.extend(parse_items(name, &buf, line, vec![item])?);
            advance(&buf, &mut line, &mut column);
            buf.clear();
        }
        source.fill(&mut buf, BLOCK_BYTES);
    }
    Ok((batches, line - 1))
}

/// Reads a CSV export row by row. Returns the batches and the newlines read.
fn read_csv(
    name: &str,
    source: &mut Source,
    buf: Vec<u8>,
    lines_before: u32,
) -> PolarsResult<(Vec<BatchOutcome>, u32)> {
    let mut batch = Batch::new(name, 1024);
    let mut text = formats::csv::Limited::new(io::Cursor::new(buf).chain(source), MAX_RECORD_BYTES);
    formats::csv::add_csv(&mut batch, &mut text, lines_before + 1);
    let lines = lines_before + u32::try_from(text.newlines()).unwrap_or(u32::MAX);
    Ok((vec![batch.finish()?], lines))
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
        pull: None,
    };
    let file_rejection = |reason, line, detail: String| Rejection {
        reason,
        file: name.clone(),
        line,
        detail,
    };
    let mut source = match open(input, progress) {
        Ok(Opened::Text(source)) => source,
        Ok(Opened::Parquet(parquet)) => {
            let read = parquet::read_from(parquet, &name)?;
            outcome.layout = Some(Layout::Parquet);
            outcome.frames.extend(read.frame);
            outcome.rejections = read.rejections;
            outcome.records = read.records;
            outcome.pull = read.pull;
            outcome.lines = 0;
            return Ok(outcome);
        }
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
    // UTF-16 with a BOM (after gzip, if any) is read as the UTF-8 it
    // decodes to; the rest of a grown file is never UTF-16 (the job reads
    // a grown UTF-16 file again whole).
    if !input.resumes() {
        if let Some(endian) = utf16::bom(&buf) {
            buf.drain(..2);
            source = source.decoded_utf16(std::mem::take(&mut buf), endian);
            source.fill(&mut buf, BLOCK_BYTES);
        } else if let Some(endian) = utf16::without_bom(&buf) {
            outcome.records += 1;
            outcome.rejections.record(file_rejection(
                RejectReason::Utf16WithoutBom,
                1,
                format!(
                    "{} text without a byte order mark; nothing was read from it \
                     (convert it: iconv -f {} -t UTF-8)",
                    endian.name(),
                    endian.name()
                ),
            ));
            return Ok(outcome);
        }
    }
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
    // The rest of a grown file is JSON Lines, as the file was when first
    // read; its first bytes need not look like anything.
    let layout = if input.resumes() {
        Some(Layout::JsonLines)
    } else {
        detect(&buf[bom + leading..], source.eof)
    };
    outcome.layout = layout;

    buf.drain(..bom);
    let read = match layout {
        None if buf[leading..].is_empty() => {
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
        Some(Layout::JsonLines) => read_lines(&name, &mut source, buf, lines_before)?,
        Some(Layout::JsonDocument) => read_document(&name, &mut source, buf, lines_before)?,
        Some(Layout::Csv) => read_csv(&name, &mut source, buf, lines_before)?,
        Some(Layout::Parquet) => unreachable!("Parquet is told apart when the input is opened"),
    };
    let (batches, lines_done) = read;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_with_a_cut_first_line_are_json_lines() {
        let record = r#"{"time":"2026-11-20T10:00:00Z","operationName":"SecretGet"}"#;
        let mut text =
            String::from("{\"time\":\"2026-11-20T10:00:00Z\",\"identity\":{\"claim\":[\n");
        for _ in 0..5 {
            text.push_str(record);
            text.push('\n');
        }
        assert_eq!(detect(text.as_bytes(), true), Some(Layout::JsonLines));
        let cut_after_colon = text.replacen("{\"claim\":[", "{\"claim\":", 1);
        assert_eq!(
            detect(cut_after_colon.as_bytes(), true),
            Some(Layout::JsonLines)
        );
        let lost_its_start = &text[20..];
        assert_eq!(
            detect(lost_its_start.as_bytes(), true),
            Some(Layout::JsonLines)
        );
    }

    #[test]
    fn pretty_documents_stay_documents() {
        let envelope =
            "{\n  \"records\": [\n    {\"time\": \"1\"},\n    {\"time\": \"2\"}\n  ]\n}\n";
        assert_eq!(
            detect(envelope.as_bytes(), true),
            Some(Layout::JsonDocument)
        );
        let one_per_line =
            "{\"records\": [\n{\"time\": \"1\"},\n{\"time\": \"2\"},\n{\"time\": \"3\"}\n]}\n";
        assert_eq!(
            detect(one_per_line.as_bytes(), true),
            Some(Layout::JsonDocument)
        );
        let object = "{\n  \"name\": \"web-app\",\n  \"version\": \"1.0.0\"\n}\n";
        assert_eq!(detect(object.as_bytes(), true), Some(Layout::JsonDocument));
        assert_eq!(detect(b"These are my notes.\n", true), None);
    }
}
