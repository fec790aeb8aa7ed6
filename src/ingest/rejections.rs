//! The account of records that could not be analysed: every one is counted
//! with its file, line and reason, and the report shows them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// How many located examples are kept per reason; every rejection is counted.
pub const EXAMPLES_PER_REASON: usize = 20;

/// Why a record (or a whole file) was not analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// The file could not be opened or read.
    Unreadable,
    /// The file holds nothing but white space.
    EmptyFile,
    /// The file is neither JSON nor a CSV export of a Key Vault table.
    UnrecognisedFormat,
    /// A gzip stream ends before its end marker (the blob is cut off).
    TruncatedGzip,
    /// A line or record is not valid UTF-8.
    InvalidUtf8,
    /// A record is not valid JSON (or not a valid CSV row).
    InvalidJson,
    /// A record ends before it is complete (a blob still being written, a cut export).
    TruncatedRecord,
    /// Valid JSON, but not a Key Vault audit record.
    NotKeyVaultRecord,
    /// A diagnostic record of another category than `AuditEvent`.
    NotAuditEvent,
    /// A Key Vault record without an event time.
    MissingTime,
    /// A Key Vault record whose time is not a date and time.
    InvalidTime,
    /// A Key Vault record without an operation name.
    MissingOperation,
    /// A field has a type kvaudit cannot read (e.g. an object where a string belongs).
    InvalidField,
    /// A line or record longer than [`MAX_RECORD_BYTES`](super::formats::MAX_RECORD_BYTES).
    RecordTooLarge,
    /// An event time before Key Vault existed or after the run (see [`super::time::plausible`]).
    ImplausibleTime,
    /// UTF-16 text without a byte order mark (NUL bytes between ASCII
    /// characters); with a BOM it is decoded and read.
    Utf16WithoutBom,
}

impl RejectReason {
    /// Whether a record rejected so may be another log of a vault (a
    /// metric, an Activity Log entry) that kvaudit can name.
    pub fn may_be_another_log(self) -> bool {
        matches!(
            self,
            Self::NotKeyVaultRecord
                | Self::NotAuditEvent
                | Self::InvalidField
                | Self::MissingOperation
                | Self::MissingTime
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::EmptyFile => "empty-file",
            Self::UnrecognisedFormat => "unrecognised-format",
            Self::TruncatedGzip => "truncated-gzip",
            Self::InvalidUtf8 => "invalid-utf8",
            Self::InvalidJson => "invalid-json",
            Self::TruncatedRecord => "truncated-record",
            Self::NotKeyVaultRecord => "not-key-vault-record",
            Self::NotAuditEvent => "not-audit-event",
            Self::MissingTime => "missing-time",
            Self::InvalidTime => "invalid-time",
            Self::MissingOperation => "missing-operation",
            Self::InvalidField => "invalid-field",
            Self::RecordTooLarge => "record-too-large",
            Self::ImplausibleTime => "implausible-time",
            Self::Utf16WithoutBom => "utf16-without-bom",
        }
    }

    /// What the user can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Self::Unreadable => "check the path and its permissions",
            Self::EmptyFile => "nothing to do unless the file should hold logs",
            Self::UnrecognisedFormat => {
                "point kvaudit at Key Vault AuditEvent logs (PT1H.json blobs, Event Hub captures, Log Analytics exports)"
            }
            Self::TruncatedGzip => "download the blob again; the records before the cut were read",
            Self::InvalidUtf8 | Self::InvalidJson | Self::InvalidField => {
                "the record is damaged; re-export it or check what wrote the file"
            }
            Self::TruncatedRecord => {
                "a blob still being written ends mid-record; the next run reads it whole"
            }
            Self::NotKeyVaultRecord | Self::NotAuditEvent => {
                "the file mixes in other logs; select only Key Vault AuditEvent records"
            }
            Self::MissingTime | Self::InvalidTime | Self::MissingOperation => {
                "the record lacks a field every Key Vault audit record has; check the export's columns"
            }
            Self::RecordTooLarge => {
                "Key Vault records are a few KB; check what wrote the file (a missing newline, another program's data)"
            }
            Self::ImplausibleTime => {
                "the record's time is before Key Vault existed or after this run; check the clock of what wrote it"
            }
            Self::Utf16WithoutBom => {
                "convert it to UTF-8 (iconv -f UTF-16LE -t UTF-8 FILE > FILE.json; PowerShell: Get-Content FILE | Out-File -Encoding utf8 FILE.json), or save it with a byte order mark"
            }
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One located rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub reason: RejectReason,
    pub file: String,
    /// 1-based line where the record starts (for a whole file, where the problem is).
    pub line: u32,
    pub detail: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.reason, self.detail
        )
    }
}

/// Counts per reason, with the first few located examples of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectionLog {
    counts: BTreeMap<RejectReason, u64>,
    examples: BTreeMap<RejectReason, Vec<Rejection>>,
}

impl RejectionLog {
    pub fn record(&mut self, rejection: Rejection) {
        *self.counts.entry(rejection.reason).or_default() += 1;
        let examples = self.examples.entry(rejection.reason).or_default();
        if examples.len() < EXAMPLES_PER_REASON {
            examples.push(rejection);
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Merges another log; examples stay in the order the logs are merged.
    pub fn merge(&mut self, other: RejectionLog) {
        for (reason, count) in other.counts {
            *self.counts.entry(reason).or_default() += count;
        }
        for (reason, examples) in other.examples {
            let mine = self.examples.entry(reason).or_default();
            let room = EXAMPLES_PER_REASON.saturating_sub(mine.len());
            mine.extend(examples.into_iter().take(room));
        }
    }

    /// Reasons with their counts and examples, most frequent first.
    pub fn by_reason(&self) -> Vec<(RejectReason, u64, &[Rejection])> {
        let mut rows: Vec<_> = self
            .counts
            .iter()
            .map(|(reason, count)| {
                let examples = self.examples.get(reason).map_or(&[][..], Vec::as_slice);
                (*reason, *count, examples)
            })
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(line: u32) -> Rejection {
        Rejection {
            reason: RejectReason::InvalidJson,
            file: "PT1H.json".into(),
            line,
            detail: "expected value".into(),
        }
    }

    #[test]
    fn counts_everything_but_keeps_a_few_examples() {
        let mut log = RejectionLog::default();
        for line in 1..=50 {
            log.record(rejection(line));
        }
        let mut other = RejectionLog::default();
        other.record(rejection(99));
        log.merge(other);
        assert_eq!(log.total(), 51);
        let rows = log.by_reason();
        assert_eq!(rows[0].1, 51);
        assert_eq!(rows[0].2.len(), EXAMPLES_PER_REASON);
        assert_eq!(
            rows[0].2[0].to_string(),
            "PT1H.json:1: invalid-json: expected value"
        );
    }
}
