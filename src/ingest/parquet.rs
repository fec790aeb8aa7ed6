//! Parquet files of normalised events, as `kvaudit pull --out FILE.parquet`
//! writes them, so that a large pull is paid once and audited many times.
//!
//! Only frames with kvaudit's own schema ([`super::schema`]) are read: a
//! Parquet file from another tool has other columns, and guessing what they
//! mean would be a second normaliser. Such a file is rejected whole, with the
//! columns that differ named.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use polars::io::mmap::MmapBytesReader;
use polars::prelude::*;

use super::azure_monitor::PullAccount;
use super::inputs::Input;
use super::rejections::{RejectReason, Rejection, RejectionLog};
use super::schema;
use crate::files::write_atomically_with;

/// The four bytes every Parquet file starts (and ends) with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// An opened Parquet input: a file, or the bytes of a pipe (Parquet is read
/// from its footer, which a pipe cannot seek to).
pub enum ParquetInput {
    File(File),
    Bytes(Vec<u8>),
}

/// Whether the input is a Parquet file (by its first bytes, not its name).
pub fn is_parquet(input: &Input) -> bool {
    let Input::File(path) = input else {
        return false;
    };
    let mut head = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == MAGIC)
}

/// File metadata key holding the account of the pull that wrote the file,
/// so that auditing the file later still reports what the pull missed.
const PULL_KEY: &str = "kvaudit.pull";

/// Writes normalised events to `path` (zstd-compressed), with the account
/// of the pull they came from.
pub fn write(
    events: &mut DataFrame,
    pull: Option<&PullAccount>,
    path: &Path,
) -> anyhow::Result<()> {
    let metadata = pull
        .map(|account| -> anyhow::Result<_> {
            Ok(KeyValueMetadata::from_static(vec![(
                PULL_KEY.to_owned(),
                serde_json::to_string(account)?,
            )]))
        })
        .transpose()?;
    write_atomically_with(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_key_value_metadata(metadata)
            .finish(events)?;
        Ok(())
    })
}

/// What reading one Parquet file produced.
pub struct ParquetOutcome {
    pub frame: Option<DataFrame>,
    /// The account of the pull that wrote the file.
    pub pull: Option<PullAccount>,
    pub rejections: RejectionLog,
    pub records: u64,
}

/// Reads a Parquet file of normalised events. A file that is not one is
/// rejected whole (one rejection); rows without a time or operation (which
/// kvaudit never writes), or with an implausible time, are rejected one by
/// one, located by row number.
pub fn read(input: &Input) -> PolarsResult<ParquetOutcome> {
    let name = input.name();
    let Input::File(path) = input else {
        let mut outcome = ParquetOutcome {
            frame: None,
            pull: None,
            rejections: RejectionLog::default(),
            records: 1,
        };
        outcome.rejections.record(Rejection {
            reason: RejectReason::Unreadable,
            file: name,
            line: 0,
            detail: "Parquet cannot be read from standard input; name the file".into(),
        });
        return Ok(outcome);
    };
    // The job's own history is read here too: its events were judged
    // plausible when they were ingested, by the clock of that run.
    match File::open(path) {
        Ok(file) => read_opened(ParquetInput::File(file), &name, false),
        Err(e) => read_failed(&name, format!("cannot open: {e}")),
    }
}

fn read_failed(name: &str, detail: String) -> PolarsResult<ParquetOutcome> {
    let mut rejections = RejectionLog::default();
    rejections.record(Rejection {
        reason: RejectReason::Unreadable,
        file: name.to_owned(),
        line: 0,
        detail,
    });
    Ok(ParquetOutcome {
        frame: None,
        pull: None,
        rejections,
        records: 1,
    })
}

fn frame_and_pull<R: MmapBytesReader>(reader: R) -> PolarsResult<(DataFrame, Option<PullAccount>)> {
    let mut reader = ParquetReader::new(reader);
    let pull = reader
        .get_metadata()?
        .key_value_metadata()
        .iter()
        .flatten()
        .find(|kv| kv.key == PULL_KEY)
        .and_then(|kv| kv.value.as_deref())
        .and_then(|json| serde_json::from_str::<PullAccount>(json).ok());
    Ok((reader.finish()?, pull))
}

/// Reads an opened Parquet input named `name` (see [`read`]); rows with an
/// implausible time are rejected too.
pub fn read_from(input: ParquetInput, name: &str) -> PolarsResult<ParquetOutcome> {
    read_opened(input, name, true)
}

fn read_opened(input: ParquetInput, name: &str, check_times: bool) -> PolarsResult<ParquetOutcome> {
    let mut outcome = ParquetOutcome {
        frame: None,
        pull: None,
        rejections: RejectionLog::default(),
        records: 0,
    };
    let reject_file = |outcome: &mut ParquetOutcome, reason, detail: String| {
        outcome.records += 1;
        outcome.rejections.record(Rejection {
            reason,
            file: name.to_owned(),
            line: 0,
            detail,
        });
    };
    let read = match input {
        ParquetInput::File(file) => frame_and_pull(file),
        ParquetInput::Bytes(bytes) => frame_and_pull(std::io::Cursor::new(bytes)),
    };
    let frame = match read {
        Ok((frame, pull)) => {
            outcome.pull = pull;
            frame
        }
        Err(e) => {
            reject_file(
                &mut outcome,
                RejectReason::Unreadable,
                format!("a damaged Parquet file: {e}"),
            );
            return Ok(outcome);
        }
    };
    let frame = match conform(frame) {
        Ok(frame) => frame,
        Err(mismatch) => {
            reject_file(
                &mut outcome,
                RejectReason::UnrecognisedFormat,
                format!(
                    "a Parquet file that is not a kvaudit event frame ({mismatch}); \
                     kvaudit reads Parquet written by `kvaudit pull --out`"
                ),
            );
            return Ok(outcome);
        }
    };
    outcome.records = frame.height() as u64;
    let frame = reject_incomplete_rows(frame, name, check_times, &mut outcome.rejections)?;
    outcome.frame = Some(frame);
    Ok(outcome)
}

/// Whether a column of type `actual` can stand for one kvaudit declares as `expected`.
fn compatible(actual: &DataType, expected: &DataType) -> bool {
    match (actual, expected) {
        (a, e) if a == e => true,
        // Categories are re-mapped into the process-wide mapping on read.
        (DataType::Categorical(..) | DataType::String, DataType::Categorical(..)) => true,
        (DataType::Datetime(..), DataType::Datetime(..)) => true,
        _ => false,
    }
}

/// Checks the file's columns against the schema and casts them to its exact
/// types; on mismatch, says which columns differ.
fn conform(frame: DataFrame) -> Result<DataFrame, String> {
    let expected = schema::empty_frame().map_err(|e| e.to_string())?;
    let expected = expected.schema();
    let actual = frame.schema();
    let mut problems = Vec::new();
    for (name, want) in expected.iter() {
        match actual.get(name) {
            None => problems.push(format!("column `{name}` is missing")),
            Some(have) if !compatible(have, want) => {
                problems.push(format!("column `{name}` is {have}, expected {want}"))
            }
            Some(_) => {}
        }
    }
    let extra: Vec<_> = actual
        .iter_names()
        .filter(|n| !expected.contains(n))
        .map(|n| format!("`{n}`"))
        .collect();
    if !extra.is_empty() {
        problems.push(format!("unknown column(s) {}", extra.join(", ")));
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let columns = expected
        .iter()
        .map(|(name, dtype)| {
            let column = frame.column(name).map_err(|e| e.to_string())?;
            if column.dtype() == dtype {
                Ok(column.clone())
            } else {
                column.cast(dtype).map_err(|e| e.to_string())
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    DataFrame::new(frame.height(), columns).map_err(|e| e.to_string())
}

/// Drops rows without a time or an operation, or (`check_times`) with an
/// implausible time (see [`super::time::plausible`]), recording each as rejected.
fn reject_incomplete_rows(
    frame: DataFrame,
    file: &str,
    check_times: bool,
    rejections: &mut RejectionLog,
) -> PolarsResult<DataFrame> {
    let time = frame.column("time")?.is_null();
    let operation = frame.column("operation")?.is_null();
    let nanos = frame
        .column("time")?
        .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?
        .cast(&DataType::Int64)?;
    let nanos = nanos.i64()?;
    let implausible: BooleanChunked = nanos
        .iter()
        .map(|t| Some(check_times && t.is_some_and(|t| super::time::plausible(t).is_err())))
        .collect();
    if !time.any() && !operation.any() && !implausible.any() {
        return Ok(frame);
    }
    for (row, ((no_time, no_operation), t)) in time
        .iter()
        .zip(operation.iter())
        .zip(nanos.iter())
        .enumerate()
    {
        let (reason, detail) = match (no_time, no_operation, t) {
            (Some(true), _, _) => (RejectReason::MissingTime, "the row has no time".to_owned()),
            (_, Some(true), _) => (
                RejectReason::MissingOperation,
                "the row has no operation".to_owned(),
            ),
            (_, _, Some(t)) if check_times => match super::time::plausible(t) {
                Err(why) => (RejectReason::ImplausibleTime, why),
                Ok(()) => continue,
            },
            _ => continue,
        };
        rejections.record(Rejection {
            reason,
            file: file.to_owned(),
            line: row as u32 + 1,
            detail: format!("{detail} (line = row number)"),
        });
    }
    frame.filter(&!(time | operation | implausible))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::schema::{Event, EventColumns, Origin, SourceFormat};

    fn events() -> DataFrame {
        let mut columns = EventColumns::with_capacity(2);
        for (i, operation) in ["SecretGet", "KeySign"].into_iter().enumerate() {
            let event = Event {
                time_ns: 1_700_000_000_000_000_000 + i as i64,
                vault: Some("kv-web".into()),
                operation: operation.into(),
                http_status: Some(200),
                authorized: Some(true),
                ..Event::default()
            };
            let origin = Origin {
                format: SourceFormat::LogAnalytics,
                file: "workspace w",
                line: i as u32 + 1,
            };
            columns.push(&event, origin);
        }
        columns.finish().unwrap()
    }

    #[test]
    fn a_written_frame_reads_back_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pull.parquet");
        let mut frame = events();
        let account = PullAccount {
            workspaces: vec!["w".into()],
            unfinished: vec![crate::ingest::azure_monitor::UnfinishedSlice {
                workspace: "w".into(),
                slice: "2026-11-01T00:00:00Z/2026-11-01T00:00:01Z".into(),
                reason: "partial result".into(),
            }],
            ..PullAccount::default()
        };
        write(&mut frame, Some(&account), &path).unwrap();
        let input = Input::File(path);
        assert!(is_parquet(&input));
        let outcome = read(&input).unwrap();
        assert!(outcome.rejections.is_empty());
        assert_eq!(outcome.records, 2);
        assert!(outcome.frame.unwrap().equals_missing(&frame));
        assert_eq!(outcome.pull.unwrap().unfinished, account.unfinished);
    }

    #[test]
    fn another_tools_parquet_is_rejected_with_the_columns_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.parquet");
        let mut frame = events();
        frame.drop_in_place("vault").unwrap();
        frame
            .replace(
                "http_status",
                Column::new("http_status".into(), [200i64, 403]),
            )
            .unwrap();
        write(&mut frame, None, &path).unwrap();
        let outcome = read(&Input::File(path)).unwrap();
        assert!(outcome.frame.is_none());
        let rows = outcome.rejections.by_reason();
        assert_eq!(rows[0].0, RejectReason::UnrecognisedFormat);
        let detail = &rows[0].2[0].detail;
        assert!(detail.contains("column `vault` is missing"), "{detail}");
        assert!(
            detail.contains("column `http_status` is i64, expected u32"),
            "{detail}"
        );
    }

    #[test]
    fn a_damaged_file_is_rejected_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.parquet");
        std::fs::write(&path, b"PAR1 and then nothing useful").unwrap();
        let outcome = read(&Input::File(path)).unwrap();
        assert_eq!(outcome.rejections.total(), 1);
        assert_eq!(
            outcome.rejections.by_reason()[0].0,
            RejectReason::Unreadable
        );
    }
}
