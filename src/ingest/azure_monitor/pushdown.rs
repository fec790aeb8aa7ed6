//! `--pushdown`: the workspace counts, kvaudit pulls aggregates.
//!
//! Three queries run over the same slices machinery as a full pull
//! (splitting, retries, unfinished slices): `queries/pushdown-windows.kql`
//! (the rate detectors' window counts), `queries/pushdown-usage.kql` (the
//! permission use least privilege needs) and `queries/pushdown-events.kql`
//! (the events the event policies look at, decoded like a full pull's).
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

use std::sync::Arc;

use anyhow::bail;
#[cfg(test)]
use chrono::Utc;
use chrono::{DateTime, Duration};
use indicatif::ProgressBar;
use polars::prelude::*;

use super::auth::Credential;
use super::client::LogsQueryClient;
use super::query::{Query, Slice};
use super::{Collect, Collected, EventCollector, PullPlan, account_of, parse_answer, partial};
use crate::ingest::Ingested;

pub const WINDOWS: &str = include_str!("../../../queries/pushdown-windows.kql");
pub const USAGE: &str = include_str!("../../../queries/pushdown-usage.kql");
pub const EVENTS: &str = include_str!("../../../queries/pushdown-events.kql");

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
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
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
    let usage = tables.pop().expect("two tables");
    let windows = tables.pop().expect("two tables");
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

const COUNT_COLUMNS: [&str; 6] = [
    "requests",
    "secret_reads",
    "distinct_secrets",
    "denied",
    "throttled",
    "distinct_ips",
];

/// Adds up the rows of one window that came from several slices.
fn combine_windows(windows: DataFrame) -> PolarsResult<(DataFrame, u64)> {
    let keys = ["caller", "vault", "minutes", "start"];
    let mut aggregations = vec![len().alias("__pieces")];
    aggregations.extend(COUNT_COLUMNS.iter().map(|c| col(*c).sum().alias(*c)));
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
    use std::collections::HashMap;

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
}
