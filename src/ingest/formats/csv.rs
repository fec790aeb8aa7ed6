//! CSV exports of the Log Analytics tables (portal "Export to CSV", or
//! `az ... -o tsv` turned CSV). The portal writes datetime headers as
//! `TimeGenerated [UTC]`; values are text, empty for null.

use std::io::Read;

use crate::ingest::formats::table::{Row, Table};
use crate::ingest::formats::{Batch, MAX_RECORD_BYTES};
use crate::ingest::normalise::Rejected;
use crate::ingest::rejections::RejectReason;
use crate::ingest::schema::{Cow, SourceFormat};

/// Whether the first line of a file is the header of a Key Vault table export.
pub fn looks_like_header(first_line: &str) -> bool {
    first_line.contains(',')
        && first_line
            .split(',')
            .any(|h| h.trim().trim_matches('"') == "OperationName")
}

fn csv_format(table: Table) -> SourceFormat {
    match table {
        Table::AzureDiagnostics => SourceFormat::AzureDiagnosticsCsv,
        Table::AzkvAuditLogs => SourceFormat::AzkvAuditLogsCsv,
    }
}

/// Column name as the table knows it (`TimeGenerated [UTC]` → `TimeGenerated`).
fn column_name(header: &str) -> String {
    let header = header.trim();
    header
        .strip_suffix("[UTC]")
        .map(str::trim_end)
        .unwrap_or(header)
        .to_owned()
}

/// A reader that hands out at most `limit` bytes between two resets (one
/// per CSV row), so a row without an end cannot grow without bound; it
/// counts the newlines it hands out and skips.
pub struct Limited<R> {
    inner: R,
    limit: usize,
    since_reset: usize,
    newlines: u64,
    cut: bool,
    /// Bytes read past a skipped line, handed out first.
    pending: Vec<u8>,
}

impl<R: Read> Limited<R> {
    pub fn new(inner: R, limit: usize) -> Self {
        Limited {
            inner,
            limit,
            since_reset: 0,
            newlines: 0,
            cut: false,
            pending: Vec::new(),
        }
    }

    /// Newlines read so far.
    pub fn newlines(&self) -> u64 {
        self.newlines
    }

    fn reset(&mut self) {
        self.since_reset = 0;
    }

    /// Drops the rest of the current line (after a cut); false at the end of the input.
    fn skip_line(&mut self) -> bool {
        self.cut = false;
        self.since_reset = 0;
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = match self.inner.read(&mut chunk) {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            if let Some(i) = memchr::memchr(b'\n', &chunk[..n]) {
                self.newlines += 1;
                self.pending.extend_from_slice(&chunk[i + 1..n]);
                return true;
            }
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.since_reset);
        if room == 0 {
            self.cut = true;
            return Ok(0);
        }
        let want = out.len().min(room);
        let n = if self.pending.is_empty() {
            self.inner.read(&mut out[..want])?
        } else {
            let n = want.min(self.pending.len());
            out[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            n
        };
        self.since_reset += n;
        self.newlines += memchr::memchr_iter(b'\n', &out[..n]).count() as u64;
        Ok(n)
    }
}

fn row_too_large(line: u32) -> (u32, Rejected) {
    (
        line,
        (
            RejectReason::RecordTooLarge,
            format!(
                "a CSV row longer than {} MiB (the limit of one record); skipped to the next line",
                MAX_RECORD_BYTES >> 20
            ),
        ),
    )
}

/// Reads every row of a CSV export into `batch`, row by row; `first_line`
/// is the line number of the input's first byte.
pub fn add_csv<R: Read>(batch: &mut Batch<'_>, input: &mut Limited<R>, first_line: u32) {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&mut *input);
    let headers: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|h| column_name(&String::from_utf8_lossy(h)))
            .collect(),
        Err(e) => {
            batch.reject(
                first_line,
                (RejectReason::InvalidJson, format!("CSV header: {e}")),
            );
            return;
        }
    };
    if reader.get_ref().cut {
        let (line, rejected) = row_too_large(first_line);
        batch.reject(line, rejected);
        return;
    }
    reader.get_mut().reset();
    // Line of the first byte the current CSV reader reads.
    let mut base = first_line;
    let mut record = ::csv::ByteRecord::new();
    loop {
        let at = |line: u64| base.saturating_add(line.saturating_sub(1) as u32);
        let line = at(reader.position().line());
        let read = reader.read_byte_record(&mut record);
        if reader.get_ref().cut {
            // A row longer than the limit: counted once, the rest of its
            // line skipped, and reading goes on with a fresh reader.
            let (line, rejected) = row_too_large(line);
            batch.reject(line, rejected);
            drop(reader);
            if !input.skip_line() {
                return;
            }
            base = first_line.saturating_add(input.newlines() as u32);
            reader = ::csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(false)
                .from_reader(&mut *input);
            continue;
        }
        reader.get_mut().reset();
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| at(p.line()));
                batch.reject(line, (RejectReason::InvalidJson, format!("CSV row: {e}")));
                continue;
            }
        }
        let line = record.position().map_or(line, |p| at(p.line()));
        let mut row = Row::default();
        let mut bad_utf8 = None;
        for (name, value) in headers.iter().zip(record.iter()) {
            match std::str::from_utf8(value) {
                Ok(v) => row.push(Cow::Borrowed(name.as_str()), Cow::Borrowed(v)),
                Err(_) => bad_utf8 = Some(name),
            }
        }
        match bad_utf8 {
            Some(column) => batch.reject(
                line,
                (
                    RejectReason::InvalidUtf8,
                    format!("column {column} is not valid UTF-8"),
                ),
            ),
            None => batch.add_row(&row, line, csv_format),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_headers() {
        assert_eq!(column_name("TimeGenerated [UTC]"), "TimeGenerated");
        assert_eq!(column_name(" OperationName "), "OperationName");
        assert!(looks_like_header(
            "TenantId,TimeGenerated [UTC],OperationName,Resource"
        ));
        assert!(!looks_like_header("time,operation"));
    }

    #[test]
    fn a_row_longer_than_the_limit_is_one_rejection_and_reading_goes_on() {
        let row = "2026-11-20T10:00:00Z,SecretGet,KV";
        let text = format!(
            "TimeGenerated,OperationName,Resource\n{row}\n{},{}\n{row}\n",
            "x".repeat(300),
            "y".repeat(300)
        );
        let mut batch = Batch::new("export.csv", 4);
        add_csv(&mut batch, &mut Limited::new(text.as_bytes(), 256), 1);
        assert_eq!(batch.records, 3);
        let reasons = batch.rejections.by_reason();
        let too_large: Vec<_> = reasons
            .iter()
            .filter(|(reason, ..)| *reason == RejectReason::RecordTooLarge)
            .collect();
        assert_eq!(too_large.len(), 1, "{reasons:?}");
        assert_eq!(too_large[0].1, 1);
        assert_eq!(too_large[0].2[0].line, 3);
        // The rows before and after it are read (and here analysed).
        assert_eq!(batch.rejections.total(), 1);
        assert_eq!(batch.columns.finish().unwrap().height(), 2);
    }
}
