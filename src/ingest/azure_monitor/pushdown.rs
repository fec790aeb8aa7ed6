//! `--pushdown`: the workspace counts, kvaudit pulls aggregates.
//!
//! Three queries run over the same slices machinery as a full pull
//! (splitting, retries, unfinished slices): `queries/pushdown-windows.kql`
//! (the rate detectors' window counts), `queries/pushdown-usage.kql` (the
//! permission use least privilege needs) and `queries/pushdown-events.kql`
//! (the events the event policies look at, decoded like a full pull's).
//! Then, once Cedar has judged the window counts, a second phase
//! ([`pull_flagged`]) runs `queries/pushdown-flagged.kql` for the windows it
//! flagged ([`FlaggedWindow`], handed in as plain data: ingest does not know
//! the analyses), so that their findings' evidence is whole. The events it
//! brings that the first phase already had are dropped ([`merge_flagged`]).
//! The aggregate tables are read by the names and types of the columns each
//! query declares ([`WINDOW_COLUMNS`], [`USAGE_COLUMNS`]); a missing or
//! retyped column stops the run with the query and the column named.
//!
//! Aggregates of one key can come from several slices (a day split after a
//! timeout): counts are summed, first/last taken as min/max. A distinct count
//! summed over pieces of a window is an upper bound; how many windows that
//! happened to is reported ([`Aggregates::windows_from_several_slices`]).
//! `docs/pushdown.md` explains where the workspace's counts and kvaudit's
//! own may differ.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::bail;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use indicatif::ProgressBar;
use polars::prelude::*;

use super::auth::Credential;
use super::client::LogsQueryClient;
use super::query::{Query, Slice};
use super::{Collect, Collected, EventCollector, PullPlan, account_of, parse_answer, partial};
use crate::ingest::{Ingested, InputSummary};

pub const WINDOWS: &str = include_str!("../../../queries/pushdown-windows.kql");
pub const USAGE: &str = include_str!("../../../queries/pushdown-usage.kql");
pub const EVENTS: &str = include_str!("../../../queries/pushdown-events.kql");
pub const FLAGGED: &str = include_str!("../../../queries/pushdown-flagged.kql");

/// The service types kvaudit reads aggregate columns as.
const STRING: &str = "string";
const LONG: &str = "long";
const DATETIME: &str = "datetime";

/// The columns of `pushdown-windows.kql`, in the order of its `summarize`.
pub const WINDOW_COLUMNS: [(&str, &str); 10] = [
    ("caller", STRING),
    ("vault", STRING),
    ("minutes", LONG),
    ("start", DATETIME),
    ("requests", LONG),
    ("secret_reads", LONG),
    ("distinct_secrets", LONG),
    ("denied", LONG),
    ("throttled", LONG),
    ("distinct_ips", LONG),
];

/// The columns of `pushdown-usage.kql`.
pub const USAGE_COLUMNS: [(&str, &str); 8] = [
    ("row", STRING),
    ("principal_id", STRING),
    ("vault", STRING),
    ("operation", STRING),
    ("calls", LONG),
    ("successes", LONG),
    ("first_time", DATETIME),
    ("last_time", DATETIME),
];

fn bundled(file: &str, text: &str) -> Query {
    Query {
        name: format!("queries/{file} (bundled)"),
        text: text.to_owned(),
    }
}

/// What a pushdown pull brings besides its events.
#[derive(Debug)]
pub struct Aggregates {
    /// One row per caller, vault, window length and start: `caller`,
    /// `vault` (strings), `minutes`, `start` (ns since the epoch) and the six
    /// counts of the rate windows (Int64), sorted by caller, vault, minutes, start.
    pub windows: DataFrame,
    /// Permission use: `principal_id`, `vault`, `operation`, `calls`,
    /// `successes`, `first`, `last` (ns), as `UsageTable::add_uses` reads it.
    pub uses: DataFrame,
    /// Each vault's events and period: `vault`, `events`, `first`, `last`,
    /// as `UsageTable::add_windows` reads it.
    pub vaults: DataFrame,
    /// Windows whose counts were added up from more than one slice (their
    /// distinct counts are upper bounds).
    pub windows_from_several_slices: u64,
}

/// One declared column's cells, as read.
enum Cells {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
}

/// The rows of an aggregate query, by declared column.
struct TableCollector {
    query: String,
    declared: &'static [(&'static str, &'static str)],
    cells: Vec<Cells>,
    /// A broken contract (a missing or retyped column): stops the run.
    broken: Option<String>,
}

impl TableCollector {
    fn new(query: &Query, declared: &'static [(&'static str, &'static str)]) -> TableCollector {
        TableCollector {
            query: query.name.clone(),
            declared,
            cells: declared
                .iter()
                .map(|(_, kind)| match *kind {
                    STRING => Cells::Text(Vec::new()),
                    _ => Cells::Int(Vec::new()),
                })
                .collect(),
            broken: None,
        }
    }

    fn rows(&self) -> usize {
        match self.cells.first() {
            Some(Cells::Text(v)) => v.len(),
            Some(Cells::Int(v)) => v.len(),
            None => 0,
        }
    }

    /// The cells as a frame: strings as String, longs and datetimes as Int64.
    fn frame(self) -> PolarsResult<DataFrame> {
        let height = self.rows();
        let columns = self
            .declared
            .iter()
            .zip(self.cells)
            .map(|((name, _), cells)| match cells {
                Cells::Text(v) => Column::new((*name).into(), v),
                Cells::Int(v) => Column::new((*name).into(), v),
            })
            .collect();
        DataFrame::new(height, columns)
    }

    fn read(&mut self, body: &[u8]) -> Result<Collected, String> {
        if body.is_empty() {
            return Ok(Collected::Rows(0));
        }
        let results = parse_answer(body)?;
        if let Some(reason) = partial(&results)? {
            return Ok(Collected::Partial(reason));
        }
        let Some(table) = results
            .tables
            .iter()
            .find(|t| t.name == "PrimaryResult")
            .or(results.tables.first())
        else {
            return Ok(Collected::Rows(0));
        };
        let mut positions = Vec::with_capacity(self.declared.len());
        for (name, kind) in self.declared {
            let Some(at) = table.columns.iter().position(|c| c.name == *name) else {
                let found: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
                let message = format!(
                    "{}: the answer has no column `{name}` ({kind}); it has {}. The pushdown \
                     queries' columns are read by name (docs/pushdown.md)",
                    self.query,
                    found.join(", ")
                );
                self.broken = Some(message.clone());
                return Err(message);
            };
            let actual = &table.columns[at].kind;
            // `int` is a narrower long; kvaudit reads both as Int64.
            let fits = actual == kind || (*kind == LONG && actual == "int");
            if !fits {
                let message = format!(
                    "{}: column `{name}` is {actual}, kvaudit reads it as {kind}",
                    self.query
                );
                self.broken = Some(message.clone());
                return Err(message);
            }
            positions.push(at);
        }
        for (index, row) in table.rows.iter().enumerate() {
            if row.len() != table.columns.len() {
                return Err(format!(
                    "{}: row {} has {} values for {} columns",
                    self.query,
                    index + 1,
                    row.len(),
                    table.columns.len()
                ));
            }
            for ((cells, &at), (name, kind)) in
                self.cells.iter_mut().zip(&positions).zip(self.declared)
            {
                let raw = row[at].get();
                let bad = || format!("{}: row {}: `{name}` holds {raw}", self.query, index + 1);
                match cells {
                    Cells::Text(v) => v.push(if raw == "null" {
                        None
                    } else {
                        Some(serde_json::from_str::<String>(raw).map_err(|_| bad())?)
                    }),
                    Cells::Int(v) => v.push(match (raw, *kind) {
                        ("null", _) => None,
                        (_, DATETIME) => {
                            let text = serde_json::from_str::<String>(raw).map_err(|_| bad())?;
                            let time = DateTime::parse_from_rfc3339(&text).map_err(|_| bad())?;
                            Some(time.timestamp_nanos_opt().ok_or_else(bad)?)
                        }
                        _ => Some(match raw.parse::<i64>() {
                            Ok(n) => n,
                            // The service may write a long as 3.0.
                            Err(_) => raw.parse::<f64>().map_err(|_| bad())? as i64,
                        }),
                    }),
                }
            }
        }
        Ok(Collected::Rows(table.rows.len() as u64))
    }
}

impl Collect for TableCollector {
    fn collect(
        &mut self,
        _workspace: usize,
        body: &[u8],
        _location: &str,
    ) -> Result<Collected, String> {
        self.read(body)
    }
}

/// Slices for the aggregate queries: cut at UTC midnights, `step` rounded
/// up to whole days, so that no 1-day window (nor any shorter one: their
/// lengths divide a day) straddles two slices.
pub fn day_slices(range: Slice, step: Duration) -> Vec<Slice> {
    let days = ((step.num_seconds() + 86_399) / 86_400).max(1);
    let mut slices = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let midnight = start
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let end = (midnight + Duration::days(days)).min(range.end);
        slices.push(Slice { start, end });
        start = end;
    }
    slices
}

/// Runs the three pushdown queries of `plan` (whose own query is not used).
pub async fn pull(
    client: Arc<LogsQueryClient>,
    credential: &Credential,
    plan: &PullPlan,
    progress: &ProgressBar,
) -> anyhow::Result<(Ingested, Aggregates)> {
    let events_query = bundled("pushdown-events.kql", EVENTS);
    let windows_query = bundled("pushdown-windows.kql", WINDOWS);
    let usage_query = bundled("pushdown-usage.kql", USAGE);
    let mut account = account_of(plan);
    account.query = [&events_query, &windows_query, &usage_query]
        .map(|q| q.name.as_str())
        .join(", ");

    let mut events = EventCollector::default();
    let slices = Slice::cover(plan.range, plan.slice);
    super::run_query(
        &client,
        credential,
        plan,
        &events_query,
        slices,
        progress,
        &mut account,
        &mut events,
    )
    .await?;

    let mut tables = Vec::new();
    for (query, declared) in [
        (&windows_query, &WINDOW_COLUMNS[..]),
        (&usage_query, &USAGE_COLUMNS[..]),
    ] {
        let mut table = TableCollector::new(query, declared);
        let slices = day_slices(plan.range, plan.slice);
        super::run_query(
            &client,
            credential,
            plan,
            query,
            slices,
            progress,
            &mut account,
            &mut table,
        )
        .await?;
        if let Some(broken) = table.broken.take() {
            bail!("{broken}");
        }
        tables.push(table.frame()?);
    }
    let (Some(usage), Some(windows)) = (tables.pop(), tables.pop()) else {
        bail!(
            "the pushdown queries answered {} tables, not two",
            tables.len()
        );
    };
    let (windows, windows_from_several_slices) = combine_windows(windows)?;
    let (uses, vaults) = combine_usage(usage)?;
    let ingested = events.into_ingested(&plan.workspaces, account)?;
    Ok((
        ingested,
        Aggregates {
            windows,
            uses,
            vaults,
            windows_from_several_slices,
        },
    ))
}

/// A rate window Cedar flagged, named as the workspace's window counts name
/// it, for the second phase to pull its events.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlaggedWindow {
    /// `caller` of `pushdown-windows.kql`: object id, `app:<app id>` or the
    /// identity kind.
    pub caller: String,
    /// `vault` of `pushdown-windows.kql` (empty when no vault could be named).
    pub vault: String,
    pub range: Slice,
}

/// The line of `pushdown-flagged.kql` kvaudit writes the windows on.
const FLAGGED_PLACEHOLDER: &str = "[]; // kvaudit: the flagged windows";

/// Windows per flagged-window query. A row of the `datatable` is about 130
/// characters, so a query stays near 30 KB of text: the reference documents
/// no limit on a query's length, and a datatable literal is meant to be
/// small; more windows go in more queries.
pub const WINDOWS_PER_QUERY: usize = 200;

/// Time ranges in start order, those that overlap or touch made one.
fn merge_ranges(mut ranges: Vec<Slice>) -> Vec<Slice> {
    ranges.sort();
    let mut merged: Vec<Slice> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// Per caller and vault, the windows that overlap or touch as one range (a
/// flagged day holds its flagged minutes), clipped to `within`.
pub fn merge_windows(windows: &[FlaggedWindow], within: Slice) -> Vec<FlaggedWindow> {
    let mut by_caller: BTreeMap<(&str, &str), Vec<Slice>> = BTreeMap::new();
    for w in windows {
        let range = Slice {
            start: w.range.start.max(within.start),
            end: w.range.end.min(within.end),
        };
        if range.start < range.end {
            by_caller
                .entry((&w.caller, &w.vault))
                .or_default()
                .push(range);
        }
    }
    by_caller
        .into_iter()
        .flat_map(|((caller, vault), ranges)| {
            merge_ranges(ranges)
                .into_iter()
                .map(move |range| FlaggedWindow {
                    caller: caller.to_owned(),
                    vault: vault.to_owned(),
                    range,
                })
        })
        .collect()
}

/// A KQL string literal, with the escapes KQL documents (the quote, the
/// backslash, newline and tab). KQL documents no escape for a carriage
/// return or other control characters, which a literal cannot hold raw:
/// such a value has no literal.
fn kql_string(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => return None,
            c => out.push(c),
        }
    }
    out.push('"');
    Some(out)
}

fn kql_datetime(t: DateTime<Utc>) -> String {
    format!(
        "datetime({})",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

/// A window as a row of the query's `datatable`, when its names can be
/// written. They come from the logs: a forged record could name a caller no
/// KQL literal can carry, and one such window must not break its batch.
fn kql_row(window: &FlaggedWindow) -> Option<String> {
    Some(format!(
        "{}, {}, {}, {}",
        kql_string(&window.caller)?,
        kql_string(&window.vault)?,
        kql_datetime(window.range.start),
        kql_datetime(window.range.end)
    ))
}

/// `pushdown-flagged.kql` with `windows` written on its placeholder line
/// (one line, so that error positions still point into the file); a window
/// [`kql_row`] cannot write is left out.
pub fn flagged_query_text(windows: &[FlaggedWindow]) -> String {
    let rows: Vec<String> = windows.iter().filter_map(kql_row).collect();
    query_with_rows(&rows)
}

fn query_with_rows(rows: &[String]) -> String {
    let filled = FLAGGED_PLACEHOLDER.replacen("[]", &format!("[{}]", rows.join(", ")), 1);
    FLAGGED.replacen(FLAGGED_PLACEHOLDER, &filled, 1)
}

/// The second phase's queries: the merged windows in time order,
/// [`WINDOWS_PER_QUERY`] to a query, each run over the time its windows
/// cover only, cut into slices of at most `step` (as the events query is).
fn flagged_queries(
    windows: &[FlaggedWindow],
    range: Slice,
    step: Duration,
) -> Vec<(Query, Vec<Slice>)> {
    let mut merged = merge_windows(windows, range);
    merged.sort_by_key(|w| w.range);
    let mut written = Vec::with_capacity(merged.len());
    for window in merged {
        match kql_row(&window) {
            Some(row) => written.push((window.range, row)),
            None => tracing::warn!(
                "--pushdown: the events of the flagged window of {:?} on vault {:?} were not \
                 pulled: the name holds a control character no KQL string can carry (a \
                 forged record?); its finding's evidence covers the first phase's events only",
                window.caller,
                window.vault
            ),
        }
    }
    written
        .chunks(WINDOWS_PER_QUERY)
        .map(|batch| {
            let rows: Vec<String> = batch.iter().map(|(_, row)| row.clone()).collect();
            let query = bundled("pushdown-flagged.kql", &query_with_rows(&rows));
            let covered = merge_ranges(batch.iter().map(|(range, _)| *range).collect());
            let slices = covered
                .into_iter()
                .flat_map(|r| Slice::cover(r, step))
                .collect();
            (query, slices)
        })
        .collect()
}

/// What the second phase pulled and kept.
#[derive(Debug, Default)]
pub struct FlaggedPull {
    /// Flagged windows asked for, after merging those of one caller and vault.
    pub windows: usize,
    /// Events the flagged-window queries returned.
    pub returned: u64,
    /// Of those, the events the first phase had not pulled: added to the frame.
    pub added: u64,
    /// Per row of the merged events frame: added by the second phase. Those
    /// events are the windows' evidence; the event policies judge the first
    /// phase's events (the filter of `pushdown-events.kql`), not these.
    pub added_rows: Vec<bool>,
}

/// The second phase of `--pushdown`: pulls every event of `windows` (the
/// rate windows Cedar flagged) with `queries/pushdown-flagged.kql`, through
/// the same slicing, splitting and accounting as the first, and adds those
/// `pulled` does not hold yet to it. No window, no query.
pub async fn pull_flagged(
    client: Arc<LogsQueryClient>,
    credential: &Credential,
    plan: &PullPlan,
    windows: &[FlaggedWindow],
    progress: &ProgressBar,
    pulled: &mut Ingested,
) -> anyhow::Result<FlaggedPull> {
    let batches = flagged_queries(windows, plan.range, plan.slice);
    if batches.is_empty() {
        return Ok(FlaggedPull {
            added_rows: vec![false; pulled.events.height()],
            ..FlaggedPull::default()
        });
    }
    let mut account = account_of(plan);
    let mut work = Vec::new();
    let mut queries = Vec::with_capacity(batches.len());
    for (index, (query, slices)) in batches.into_iter().enumerate() {
        work.extend(slices.into_iter().map(|slice| (index, slice)));
        queries.push(query);
    }
    // Every batch is the same file: the account names it once.
    account.query.clone_from(&queries[0].name);
    let merged_windows = merge_windows(windows, plan.range).len();
    let mut events = EventCollector::default();
    super::run_queries(
        &client,
        credential,
        plan,
        &queries,
        work,
        progress,
        &mut account,
        &mut events,
    )
    .await?;
    let flagged = events.into_ingested(&plan.workspaces, account)?;
    let mut outcome = merge_flagged(pulled, flagged)?;
    outcome.windows = merged_windows;
    Ok(outcome)
}

/// Where a row was read from; the rest of the row is the record.
const SOURCE_COLUMNS: [&str; 3] = ["source_format", "source_file", "source_line"];

/// Each row of `frame` as its record: every column but where it was read
/// from (two queries return the same record from different slices).
fn records(frame: &DataFrame) -> PolarsResult<Vec<Vec<Option<String>>>> {
    let columns: Vec<Vec<Option<String>>> = frame
        .columns()
        .iter()
        .filter(|c| !SOURCE_COLUMNS.contains(&c.name().as_str()))
        .map(|c| {
            Ok(c.cast(&DataType::String)?
                .str()?
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect())
        })
        .collect::<PolarsResult<_>>()?;
    Ok((0..frame.height())
        .map(|row| columns.iter().map(|c| c[row].clone()).collect())
        .collect())
}

/// Rows per `source_file` of `frame`.
fn sources(frame: &DataFrame) -> PolarsResult<HashMap<String, u64>> {
    let mut rows = HashMap::new();
    let files = frame.column("source_file")?.cast(&DataType::String)?;
    for file in files.str()?.iter() {
        *rows.entry(file.unwrap_or_default().to_owned()).or_default() += 1;
    }
    Ok(rows)
}

/// Temporary column marking the second phase's rows through the time sort.
const ADDED: &str = "__added_by_flagged_windows";

/// Adds to `pulled` the events of `flagged` it does not hold. A record the
/// first phase returned comes back from the second when it lies in a flagged
/// window; as many copies are dropped as the first phase holds (each
/// phase's pull already holds a record once, however often the workspace
/// holds it: [`crate::ingest::dedup`]), so every event is counted once. The pull accounts are added up: rows and bytes
/// count what the service sent, duplicates included.
pub fn merge_flagged(pulled: &mut Ingested, flagged: Ingested) -> anyhow::Result<FlaggedPull> {
    let returned = flagged.events.height() as u64;
    let times = flagged.events.column("time")?.cast(&DataType::Int64)?;
    let times = times.i64()?;
    let mut first_phase: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    if let (Some(from), Some(to)) = (times.min(), times.max()) {
        // Only first-phase events in the second phase's time can be in both.
        let overlapping = pulled
            .events
            .clone()
            .lazy()
            .filter(
                col("time")
                    .cast(DataType::Int64)
                    .gt_eq(lit(from))
                    .and(col("time").cast(DataType::Int64).lt_eq(lit(to))),
            )
            .collect()?;
        for record in records(&overlapping)? {
            *first_phase.entry(record).or_default() += 1;
        }
    }
    let keep: Vec<bool> = records(&flagged.events)?
        .into_iter()
        .map(|record| match first_phase.get_mut(&record) {
            Some(copies) if *copies > 0 => {
                *copies -= 1;
                false
            }
            _ => true,
        })
        .collect();
    let added = flagged
        .events
        .filter(&BooleanChunked::from_slice("keep".into(), &keep))?;
    let added_count = added.height() as u64;
    let added_from = sources(&added)?;
    let mark = |mut frame: DataFrame, value: bool| -> PolarsResult<DataFrame> {
        let height = frame.height();
        frame.with_column(Column::new(ADDED.into(), vec![value; height]))?;
        Ok(frame)
    };
    let events = std::mem::take(&mut pulled.events);
    let mut combined = crate::ingest::combine(vec![mark(events, false)?, mark(added, true)?])?;
    let added_rows: Vec<bool> = combined
        .column(ADDED)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    combined.drop_in_place(ADDED)?;
    pulled.events = combined;
    // A record kvaudit cannot read has no row to compare: it is listed
    // again if the first phase returned it too (docs/pushdown.md).
    let rejected = flagged.rejections.total();
    pulled.rejections.merge(flagged.rejections);
    pulled.records_read += added_count + rejected;
    for input in flagged.inputs {
        // The second phase's rows of a workspace were read at its
        // `workspace <id> slice <slice>` locations.
        let prefix = format!("{} slice ", input.name);
        let added: u64 = added_from
            .iter()
            .filter(|(source, _)| source.starts_with(&prefix))
            .map(|(_, rows)| rows)
            .sum();
        let rejected = input.records_rejected;
        let at = match pulled.inputs.iter().position(|i| i.name == input.name) {
            Some(at) => at,
            None => {
                pulled.inputs.push(InputSummary {
                    records_read: 0,
                    records_rejected: 0,
                    ..input
                });
                pulled.inputs.len() - 1
            }
        };
        let summary = &mut pulled.inputs[at];
        summary.records_read += added + rejected;
        summary.records_rejected += rejected;
    }
    if let Some(account) = flagged.pull {
        match pulled.pull.as_mut() {
            Some(first) => {
                first.query = format!("{}, {}", first.query, account.query);
                first.absorb(account);
            }
            None => pulled.pull = Some(account),
        }
    }
    Ok(FlaggedPull {
        windows: 0,
        returned,
        added: added_count,
        added_rows,
    })
}

/// The columns of [`WINDOW_COLUMNS`] that name a window; the rest are its counts.
const WINDOW_KEY: [&str; 4] = ["caller", "vault", "minutes", "start"];

/// A window's counts, in the order of [`WINDOW_COLUMNS`].
pub fn window_counts() -> impl Iterator<Item = &'static str> {
    WINDOW_COLUMNS[WINDOW_KEY.len()..]
        .iter()
        .map(|(name, _)| *name)
}

/// Adds up the rows of one window that came from several slices.
fn combine_windows(windows: DataFrame) -> PolarsResult<(DataFrame, u64)> {
    let keys = WINDOW_KEY;
    let mut aggregations = vec![len().alias("__pieces")];
    aggregations.extend(window_counts().map(|c| col(c).sum().alias(c)));
    let combined = windows
        .lazy()
        .with_column(col("vault").fill_null(lit("")))
        .group_by(keys.map(col))
        .agg(aggregations)
        .sort(keys, SortMultipleOptions::default())
        .collect()?;
    let several = combined
        .column("__pieces")?
        .as_materialized_series()
        .gt(1)?
        .sum()
        .unwrap_or(0) as u64;
    Ok((combined.drop("__pieces")?, several))
}

/// The usage table's two kinds of row, each combined over slices.
fn combine_usage(usage: DataFrame) -> PolarsResult<(DataFrame, DataFrame)> {
    let usage = usage
        .lazy()
        .rename(["first_time", "last_time"], ["first", "last"], true);
    let combined = |row: &str, keys: &[&str]| {
        usage
            .clone()
            .filter(col("row").eq(lit(row)))
            .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
            .agg([
                col("calls").sum().alias("calls"),
                col("successes").sum().alias("successes"),
                col("first").min().alias("first"),
                col("last").max().alias("last"),
            ])
            .sort(keys.to_vec(), SortMultipleOptions::default())
    };
    let uses = combined("use", &["principal_id", "vault", "operation"]).collect()?;
    let vaults = combined("vault", &["vault"])
        .select([
            col("vault"),
            col("calls").alias("events"),
            col("first"),
            col("last"),
        ])
        .collect()?;
    Ok((uses, vaults))
}

/// The note for windows counted in several slices, if any were.
pub fn describe_pieces(several: u64) -> Option<String> {
    (several > 0).then(|| {
        format!(
            "{several} rate window(s) were counted in more than one slice (a day's query was \
             split after a timeout or a partial answer); their distinct-secret and \
             distinct-address counts are sums, so at most too high"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::azure_monitor::PullAccount;

    /// Sums of a count per key.
    fn totals(frame: &DataFrame, key: &str, value: &str) -> PolarsResult<HashMap<String, i64>> {
        let keys = frame.column(key)?.str()?.clone();
        let values = frame.column(value)?.cast(&DataType::Int64)?;
        let values = values.i64()?;
        let mut out = HashMap::new();
        for (k, v) in keys.iter().zip(values.iter()) {
            *out.entry(k.unwrap_or_default().to_owned()).or_default() += v.unwrap_or(0);
        }
        Ok(out)
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn aggregate_slices_are_cut_at_midnight() {
        let range = Slice {
            start: t("2026-11-01T05:00:00Z"),
            end: t("2026-11-03T07:00:00Z"),
        };
        let slices = day_slices(range, Duration::hours(6));
        let text: Vec<String> = slices.iter().map(Slice::to_string).collect();
        assert_eq!(
            text,
            [
                "2026-11-01T05:00:00Z/2026-11-02T00:00:00Z",
                "2026-11-02T00:00:00Z/2026-11-03T00:00:00Z",
                "2026-11-03T00:00:00Z/2026-11-03T07:00:00Z"
            ]
        );
        assert_eq!(day_slices(range, Duration::days(2)).len(), 2);
    }

    fn answer(columns: &[(&str, &str)], rows: &str) -> String {
        let columns: Vec<String> = columns
            .iter()
            .map(|(n, k)| format!(r#"{{"name":"{n}","type":"{k}"}}"#))
            .collect();
        format!(
            r#"{{"tables":[{{"name":"PrimaryResult","columns":[{}],"rows":[{rows}]}}]}}"#,
            columns.join(",")
        )
    }

    #[test]
    fn a_missing_column_names_the_query_and_the_column() {
        let query = bundled("pushdown-windows.kql", WINDOWS);
        let mut table = TableCollector::new(&query, &WINDOW_COLUMNS);
        let mut columns = WINDOW_COLUMNS.to_vec();
        columns.retain(|(n, _)| *n != "distinct_ips");
        let body = answer(&columns, "");
        let error = table.read(body.as_bytes()).err().unwrap();
        assert!(
            error.starts_with(
                "queries/pushdown-windows.kql (bundled): the answer has no column `distinct_ips` (long)"
            ),
            "{error}"
        );
        assert!(table.broken.is_some());
    }

    #[test]
    fn pieces_of_a_window_from_two_slices_are_added_up_and_counted() {
        let query = bundled("pushdown-windows.kql", WINDOWS);
        let mut table = TableCollector::new(&query, &WINDOW_COLUMNS);
        let row = |requests: i64| {
            format!(r#"["p","kv",1440,"2026-11-01T00:00:00Z",{requests},1,1,0,0,2]"#)
        };
        for requests in [3, 4] {
            let body = answer(&WINDOW_COLUMNS, &row(requests));
            assert!(matches!(
                table.read(body.as_bytes()),
                Ok(Collected::Rows(1))
            ));
        }
        let other = answer(
            &WINDOW_COLUMNS,
            r#"["q","kv",1,"2026-11-01T00:01:00Z",1,0,0,0,0,1]"#,
        );
        table.read(other.as_bytes()).unwrap();
        let (windows, several) = combine_windows(table.frame().unwrap()).unwrap();
        assert_eq!(several, 1);
        assert_eq!(windows.height(), 2);
        assert_eq!(totals(&windows, "caller", "requests").unwrap()["p"], 7);
        assert_eq!(totals(&windows, "caller", "distinct_ips").unwrap()["p"], 4);
        let start = windows.column("start").unwrap().i64().unwrap().get(0);
        assert_eq!(start, t("2026-11-01T00:00:00Z").timestamp_nanos_opt());
    }

    fn window(caller: &str, vault: &str, start: &str, end: &str) -> FlaggedWindow {
        FlaggedWindow {
            caller: caller.to_owned(),
            vault: vault.to_owned(),
            range: Slice {
                start: t(start),
                end: t(end),
            },
        }
    }

    #[test]
    fn windows_of_one_caller_and_vault_that_overlap_or_touch_are_merged() {
        let within = Slice {
            start: t("2026-11-21T00:00:00Z"),
            end: t("2026-11-23T00:00:00Z"),
        };
        let merged = merge_windows(
            &[
                window("p", "kv", "2026-11-21T10:01:00Z", "2026-11-21T10:02:00Z"),
                window("p", "kv", "2026-11-21T10:00:00Z", "2026-11-21T10:05:00Z"),
                window("p", "kv", "2026-11-21T10:05:00Z", "2026-11-21T10:06:00Z"),
                window("p", "kv", "2026-11-21T12:00:00Z", "2026-11-21T12:01:00Z"),
                window("p", "other", "2026-11-21T10:00:00Z", "2026-11-21T10:01:00Z"),
                window("q", "kv", "2026-11-21T10:00:00Z", "2026-11-21T10:01:00Z"),
                // Clipped to the audited range.
                window("q", "kv", "2026-11-22T00:00:00Z", "2026-11-23T10:00:00Z"),
            ],
            within,
        );
        assert_eq!(
            merged,
            [
                window("p", "kv", "2026-11-21T10:00:00Z", "2026-11-21T10:06:00Z"),
                window("p", "kv", "2026-11-21T12:00:00Z", "2026-11-21T12:01:00Z"),
                window("p", "other", "2026-11-21T10:00:00Z", "2026-11-21T10:01:00Z"),
                window("q", "kv", "2026-11-21T10:00:00Z", "2026-11-21T10:01:00Z"),
                window("q", "kv", "2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn many_windows_go_in_several_queries_over_the_time_they_cover_only() {
        assert_eq!(FLAGGED.matches(FLAGGED_PLACEHOLDER).count(), 1);
        let range = Slice {
            start: t("2026-11-01T00:00:00Z"),
            end: t("2026-12-01T00:00:00Z"),
        };
        // One-minute windows of distinct callers, an hour apart, on two days.
        let windows: Vec<FlaggedWindow> = (0..WINDOWS_PER_QUERY + 10)
            .map(|i| {
                let start = t("2026-11-03T00:00:00Z") + Duration::minutes(i as i64 * 7);
                FlaggedWindow {
                    caller: format!("caller-{i}"),
                    vault: "kv".to_owned(),
                    range: Slice {
                        start,
                        end: start + Duration::minutes(1),
                    },
                }
            })
            .collect();
        let queries = flagged_queries(&windows, range, Duration::hours(6));
        assert_eq!(queries.len(), 2);
        let rows = |text: &str| text.matches("\"caller-").count();
        assert_eq!(rows(&queries[0].0.text), WINDOWS_PER_QUERY);
        assert_eq!(rows(&queries[1].0.text), 10);
        // The written rows stay on the placeholder's line.
        assert_eq!(queries[0].0.text.lines().count(), FLAGGED.lines().count());
        // Each query runs over its windows' minutes, not the month.
        let covered: i64 = queries[1]
            .1
            .iter()
            .map(|s| s.duration().num_minutes())
            .sum();
        assert_eq!(covered, 10);
        assert!(
            queries[0]
                .1
                .iter()
                .all(|s| s.duration() <= Duration::hours(6))
        );
        assert!(flagged_queries(&[], range, Duration::hours(6)).is_empty());
    }

    #[test]
    fn a_window_no_kql_string_can_name_is_left_out_not_the_batch() {
        let range = Slice {
            start: t("2026-11-21T00:00:00Z"),
            end: t("2026-11-22T00:00:00Z"),
        };
        let windows = [
            window(
                "p\"q\\r",
                "kv",
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:01:00Z",
            ),
            window(
                "forged\rcaller",
                "kv",
                "2026-11-21T10:00:00Z",
                "2026-11-21T10:01:00Z",
            ),
            window(
                "p",
                "kv\u{7}",
                "2026-11-21T11:00:00Z",
                "2026-11-21T11:01:00Z",
            ),
        ];
        let queries = flagged_queries(&windows, range, Duration::hours(6));
        assert_eq!(queries.len(), 1);
        let text = &queries[0].0.text;
        assert!(text.contains(r#""p\"q\\r""#), "{text}");
        assert!(!text.contains("forged"), "{text}");
        assert!(!text.contains('\u{7}'), "{text}");
        assert_eq!(text.lines().count(), FLAGGED.lines().count());
    }

    /// Events as a pull of workspace `w` decodes them, read at `slice`:
    /// (time, operation) pairs of one caller.
    fn pulled(slice: &str, rows: &[(&str, &str)]) -> Ingested {
        let columns = [
            ("TimeGenerated", "datetime"),
            ("Type", "string"),
            ("_ResourceId", "string"),
            ("OperationName", "string"),
            ("HttpStatusCode", "long"),
            ("Identity", "dynamic"),
        ];
        let rows: Vec<String> = rows
            .iter()
            .map(|(time, operation)| {
                format!(
                    r#"["{time}","AZKVAuditLogs","/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","{operation}",200,"{{\"claim\":{{\"oid\":\"p\"}}}}"]"#
                )
            })
            .collect();
        let body = answer(&columns, &rows.join(","));
        let mut collector = EventCollector::default();
        let location = format!("workspace w slice {slice}");
        assert!(matches!(
            collector.collect(0, body.as_bytes(), &location),
            Ok(Collected::Rows(_))
        ));
        let account = PullAccount {
            rows: rows.len() as u64,
            query: format!("query at {slice}"),
            ..PullAccount::default()
        };
        collector.into_ingested(&["w".to_owned()], account).unwrap()
    }

    #[test]
    fn events_the_first_phase_pulled_are_counted_once() {
        let (a, b, c) = (
            ("2026-11-21T10:00:00Z", "SecretGet"),
            ("2026-11-21T10:00:01Z", "SecretGet"),
            ("2026-11-21T10:00:02Z", "SecretList"),
        );
        // The same record twice in the workspace (a duplicate delivery) is
        // one event: each phase's pull keeps it once (ingest::dedup).
        let mut first = pulled("s1", &[a, b, b]);
        assert_eq!((first.events.height(), first.records_duplicate), (2, 1));
        let second = pulled("s2", &[a, b, b, c]);
        let outcome = merge_flagged(&mut first, second).unwrap();
        assert_eq!((outcome.returned, outcome.added), (3, 1));
        assert_eq!(first.events.height(), 3);
        assert_eq!(outcome.added_rows, [false, false, true]);
        assert_eq!(first.records_read, 4);
        assert_eq!(first.records_duplicate, 1);
        assert_eq!(first.inputs.len(), 1);
        assert_eq!(first.inputs[0].records_read, 4);
        let account = first.pull.unwrap();
        assert_eq!(account.rows, 7);
        assert_eq!(account.query, "query at s1, query at s2");
    }
}
