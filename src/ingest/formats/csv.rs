//! CSV exports of the Log Analytics tables (portal "Export to CSV", or
//! `az ... -o tsv` turned CSV). The portal writes datetime headers as
//! `TimeGenerated [UTC]`; values are text, empty for null.

use crate::ingest::formats::Batch;
use crate::ingest::formats::table::{Row, Table};
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

/// Reads every row of a CSV export into `batch`.
pub fn add_csv(batch: &mut Batch<'_>, text: &[u8]) {
    let mut reader = ::csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let headers: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|h| column_name(&String::from_utf8_lossy(h)))
            .collect(),
        Err(e) => {
            batch.reject(1, (RejectReason::InvalidJson, format!("CSV header: {e}")));
            return;
        }
    };
    let mut record = ::csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as u32;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as u32);
                batch.reject(line, (RejectReason::InvalidJson, format!("CSV row: {e}")));
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line() as u32);
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
}
