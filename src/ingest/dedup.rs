//! Duplicate deliveries: the same record read twice is analysed once.
//!
//! Event Hubs and diagnostic settings deliver at least once, and exports of
//! overlapping ranges (a `PT1H.json` blob and a Log Analytics export of the
//! same hour, two `az monitor log-analytics query` runs) hold the same
//! records twice. Two normalised events are the same record when every
//! column of the normalised schema ([`super::schema`]) is equal, nulls
//! included, except where the record was read: `source_format`,
//! `source_file` and `source_line`. That is the time to 100 ns, vault,
//! operation, object, request URI, caller (object id, app id, UPN, address,
//! client), correlation id, status, result, duration, authorization and
//! the rest. Two genuinely different calls differ in at least one of these
//! (their correlation ids, if nothing else); two calls without a
//! correlation id that agree in everything, to the 100 ns, are
//! indistinguishable in the log and count once.
//!
//! **How.** Time is part of the key, so two copies of a record have the
//! same time, and in a time-ordered frame ([`super::combine`]) they are
//! neighbours within a run of equal times. Only rows that share their time
//! with another are hashed; each such run gets a set of the 128-bit hashes
//! of its rows, and a row whose hash the set holds is dropped (the first
//! copy, in input order, is kept). Memory is one set per run of equal
//! times, a few entries; nothing of the record's text is kept.
//!
//! **The hash.** XXH3-128 of the content columns, each encoded as a tag
//! (null or value), a length for text and the value's bytes, in the
//! schema's column order; categorical columns are hashed by their text, not
//! their category code, so the hash is the same in every process and can be
//! stored. A false duplicate needs two different records with equal time
//! and equal 128-bit hashes: with n records in a set the chance is about
//! n²/2¹²⁹, below 10⁻²⁴ for a billion records in one set. 64 bits would do
//! for the runs of equal times here (a few rows), but not for the hourly
//! sets below (10⁸ records an hour in a set of 64-bit hashes: about 3·10⁻⁴
//! per hour), and 128 bits cost 16 bytes a record.
//!
//! **In a streaming engine** the records do not arrive in time order, so
//! [`RecordHasher::hash`] goes into a set per time bucket (the UTC hour,
//! what a `PT1H.json` blob holds): a record is a duplicate if its bucket's
//! set holds its hash. A bucket's set is dropped once the stream's
//! watermark (its newest time less the allowed lateness, e.g. the hours a
//! diagnostic retry or an overlapping export can lag) has passed the
//! bucket's end, so memory is 16 bytes (plus the set's overhead) per record
//! of the open buckets, not of the whole stream. A record older than every
//! open bucket cannot be checked; it is counted as analysed (and the
//! scheduled job checks it against its history, as [`first_copies`] does
//! on the job's combined frame now).

use std::collections::HashSet;

use polars::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use super::schema;

/// The columns that say where a record was read, not what it was.
pub const SOURCE_COLUMNS: [&str; 3] = ["source_format", "source_file", "source_line"];

/// One column of a frame, read row by row.
enum Values {
    Text(StringChunked),
    Category(UInt32Chunked, Arc<CategoricalMapping>),
    Integer(Int64Chunked),
    Unsigned(UInt32Chunked),
    Flag(BooleanChunked),
}

impl Values {
    fn of(column: &Column) -> PolarsResult<Values> {
        Ok(match column.dtype() {
            DataType::Categorical(_, _) => {
                let column = column.cat32()?;
                Values::Category(
                    column.physical().rechunk().into_owned(),
                    column.get_mapping().clone(),
                )
            }
            DataType::String => Values::Text(column.str()?.rechunk().into_owned()),
            DataType::UInt32 => Values::Unsigned(column.u32()?.rechunk().into_owned()),
            DataType::Boolean => Values::Flag(column.bool()?.rechunk().into_owned()),
            _ => {
                let column = column.cast(&DataType::Int64)?;
                Values::Integer(column.i64()?.rechunk().into_owned())
            }
        })
    }

    fn feed(&self, row: usize, hasher: &mut Xxh3) {
        fn text(hasher: &mut Xxh3, value: Option<&str>) {
            match value {
                Some(v) => {
                    hasher.update(&[1]);
                    hasher.update(&(v.len() as u64).to_le_bytes());
                    hasher.update(v.as_bytes());
                }
                None => hasher.update(&[0]),
            }
        }
        fn number<const N: usize>(hasher: &mut Xxh3, value: Option<[u8; N]>) {
            match value {
                Some(bytes) => {
                    hasher.update(&[1]);
                    hasher.update(&bytes);
                }
                None => hasher.update(&[0]),
            }
        }
        match self {
            Values::Text(values) => text(hasher, values.get(row)),
            Values::Category(codes, mapping) => text(
                hasher,
                codes.get(row).and_then(|code| mapping.cat_to_str(code)),
            ),
            Values::Integer(values) => number(hasher, values.get(row).map(i64::to_le_bytes)),
            Values::Unsigned(values) => number(hasher, values.get(row).map(u32::to_le_bytes)),
            Values::Flag(values) => hasher.update(&[match values.get(row) {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            }]),
        }
    }
}

/// Hashes a frame's rows by their content: the normalised schema's
/// columns but [`SOURCE_COLUMNS`], in the schema's order (a column of
/// another name, such as a marker the job adds, is not part of a record).
pub struct RecordHasher {
    columns: Vec<Values>,
}

impl RecordHasher {
    pub fn new(events: &DataFrame) -> PolarsResult<RecordHasher> {
        let columns = schema::empty_frame()?
            .get_column_names()
            .into_iter()
            .filter(|name| !SOURCE_COLUMNS.contains(&name.as_str()))
            .map(|name| Values::of(events.column(name)?))
            .collect::<PolarsResult<_>>()?;
        Ok(RecordHasher { columns })
    }

    /// The 128-bit hash of row `row`'s content.
    pub fn hash(&self, row: usize) -> u128 {
        let mut hasher = Xxh3::new();
        for column in &self.columns {
            column.feed(row, &mut hasher);
        }
        hasher.digest128()
    }
}

/// Which rows of a time-ordered frame to keep: `None` when no row repeats
/// an earlier one, else `false` for each later copy of a record.
pub fn first_copies(events: &DataFrame) -> PolarsResult<Option<Vec<bool>>> {
    let times = events.column("time")?.cast(&DataType::Int64)?;
    let times = times.i64()?.rechunk();
    let times: Vec<Option<i64>> = times.iter().collect();
    let mut hasher = None;
    let mut keep: Option<Vec<bool>> = None;
    let mut seen = HashSet::new();
    let mut start = 0;
    while start < times.len() {
        let end = start
            + times[start..]
                .iter()
                .take_while(|t| **t == times[start])
                .count();
        if end - start > 1 {
            let hasher = match &hasher {
                Some(hasher) => hasher,
                None => hasher.insert(RecordHasher::new(events)?),
            };
            seen.clear();
            for row in start..end {
                if !seen.insert(hasher.hash(row)) {
                    keep.get_or_insert_with(|| vec![true; times.len()])[row] = false;
                }
            }
        }
        start = end;
    }
    Ok(keep)
}

/// A time-ordered frame without its later copies, and how many were dropped.
pub fn drop_duplicates(events: DataFrame) -> PolarsResult<(DataFrame, u64)> {
    match first_copies(&events)? {
        None => Ok((events, 0)),
        Some(keep) => {
            let dropped = keep.iter().filter(|k| !**k).count() as u64;
            Ok((keep_rows(&events, &keep)?, dropped))
        }
    }
}

/// The rows of a time-ordered frame that `keep` marks, still time-ordered.
pub fn keep_rows(events: &DataFrame, keep: &[bool]) -> PolarsResult<DataFrame> {
    let mut kept = events.filter(&BooleanChunked::from_slice("keep".into(), keep))?;
    let mut time = kept.column("time")?.clone();
    time.set_sorted_flag(polars::series::IsSorted::Ascending);
    kept.with_column(time)?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::schema::{Cow, Event, EventColumns, Origin, SourceFormat};

    fn secret_get(correlation: Option<&'static str>) -> Event<'static> {
        Event {
            time_ns: 1_795_219_199_123_456_700,
            vault: Some("kv-payments-prod".into()),
            operation: Cow::Borrowed("SecretGet"),
            object_type: Some("secret"),
            object_name: Some("db-password".into()),
            http_status: Some(200),
            caller_ip: Some(Cow::Borrowed("10.0.0.4")),
            correlation_id: correlation.map(Cow::Borrowed),
            principal_id: Some("36f675cc-81e7-4ef5-a8e2-5d940ed90475".into()),
            duration_ms: Some(12),
            authorized: Some(true),
            ..Event::default()
        }
    }

    fn frame(events: &[(Event<'static>, SourceFormat, &str, u32)]) -> DataFrame {
        let mut columns = EventColumns::with_capacity(events.len());
        for (event, format, file, line) in events {
            columns.push(
                event,
                Origin {
                    format: *format,
                    file,
                    line: *line,
                },
            );
        }
        crate::ingest::combine(vec![columns.finish().unwrap()]).unwrap()
    }

    #[test]
    fn the_same_record_from_two_sources_is_kept_once() {
        let event = secret_get(Some("8f1e0c2a-1b2c-4d3e-9f40-5a6b7c8d9e0f"));
        let events = frame(&[
            (event.clone(), SourceFormat::JsonLines, "PT1H.json", 3),
            (event, SourceFormat::AzkvAuditLogsCsv, "export.csv", 7),
        ]);
        let (kept, dropped) = drop_duplicates(events).unwrap();
        assert_eq!((kept.height(), dropped), (1, 1));
        let file = kept.column("source_file").unwrap();
        let file = file.cast(&DataType::String).unwrap();
        assert_eq!(
            file.str().unwrap().get(0),
            Some("PT1H.json"),
            "the first copy is kept"
        );
    }

    #[test]
    fn calls_that_differ_in_one_field_stay_apart() {
        let a = secret_get(Some("8f1e0c2a-1b2c-4d3e-9f40-5a6b7c8d9e0f"));
        let b = secret_get(Some("0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"));
        let mut no_status = a.clone();
        no_status.http_status = None;
        let mut denied = a.clone();
        denied.authorized = Some(false);
        let mut later = a.clone();
        later.time_ns += 100;
        // A value moved to the next field is a different record too.
        let mut moved = a.clone();
        moved.upn = Some(Cow::Borrowed("db-password"));
        moved.object_name = None;
        let origin = |e: &Event<'static>, line| (e.clone(), SourceFormat::JsonLines, "f", line);
        let events = frame(&[
            origin(&a, 1),
            origin(&b, 2),
            origin(&no_status, 3),
            origin(&denied, 4),
            origin(&later, 5),
            origin(&moved, 6),
        ]);
        assert_eq!(first_copies(&events).unwrap(), None);
    }

    #[test]
    fn calls_without_a_correlation_id_that_agree_in_everything_are_one() {
        let a = secret_get(None);
        let events = frame(&[
            (a.clone(), SourceFormat::JsonLines, "f", 1),
            (a.clone(), SourceFormat::JsonLines, "f", 2),
            (a, SourceFormat::JsonLines, "f", 3),
        ]);
        assert_eq!(
            first_copies(&events).unwrap(),
            Some(vec![true, false, false])
        );
    }

    #[test]
    fn the_hash_ignores_other_columns_and_category_codes() {
        let a = secret_get(Some("8f1e0c2a-1b2c-4d3e-9f40-5a6b7c8d9e0f"));
        let one = frame(&[(a.clone(), SourceFormat::JsonLines, "f", 1)]);
        let mut two = frame(&[(a, SourceFormat::LogAnalytics, "g", 9)]);
        two.with_column(Column::new("__new".into(), [true]))
            .unwrap();
        let (h1, h2) = (
            RecordHasher::new(&one).unwrap().hash(0),
            RecordHasher::new(&two).unwrap().hash(0),
        );
        assert_eq!(h1, h2);
    }
}
