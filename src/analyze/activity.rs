//! Activity aggregations behind the report's charts and tables, computed with
//! polars from the normalised events (see [`crate::ingest::schema`]):
//!
//! - [`activity_over_time`]: events per vault per time bucket;
//! - [`outcomes_over_time`]: requests per outcome class per time bucket, the
//!   classes Key Vault Insights shows (2xx, 401-403, 429, other);
//! - [`hour_of_week`]: a 7 x 24 count of events by weekday and hour (UTC);
//! - [`identity_inventory`]: one row per principal (kind, credential, vaults,
//!   operations, first and last seen), and [`top_identities`] ranked from it.
//!
//! Every result is ordered by explicit keys, so the same events give the
//! same rows in the same order.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::columns::{counts, integers, is_challenge, is_success, strings};
use serde::Serialize;

use crate::ingest::identity::MICROSOFT_SERVICE_APP_IDS;
use crate::ingest::schema::IdentityKind;
use crate::ingest::time::format_time;

/// How many identities [`top_identities`] ranks.
pub const TOP_IDENTITIES: usize = 10;
/// How many distinct client applications (user agents) the inventory keeps per identity.
pub const CLIENTS_PER_IDENTITY: usize = 3;
/// Spans up to this long are bucketed by hour, longer ones by day.
pub const HOURLY_UP_TO_NS: i64 = 14 * 86_400 * 1_000_000_000;

/// The width of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    /// Hourly buckets for spans up to two weeks (at most 336 points), daily beyond.
    pub fn for_span(span_ns: i64) -> Bucket {
        if span_ns <= HOURLY_UP_TO_NS {
            Bucket::Hour
        } else {
            Bucket::Day
        }
    }

    pub fn nanos(self) -> i64 {
        match self {
            Bucket::Hour => 3_600 * 1_000_000_000,
            Bucket::Day => 86_400 * 1_000_000_000,
        }
    }

    fn every(self) -> &'static str {
        match self {
            Bucket::Hour => "1h",
            Bucket::Day => "1d",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }
}

/// The start of every bucket from the first event's to the last event's, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub bucket: Bucket,
    /// Bucket starts, nanoseconds since the epoch (UTC), consecutive.
    pub starts: Vec<i64>,
}

impl Timeline {
    fn index(&self, start: i64) -> Option<usize> {
        let first = *self.starts.first()?;
        let i = usize::try_from((start - first) / self.bucket.nanos()).ok()?;
        (i < self.starts.len()).then_some(i)
    }
}

/// One count per bucket of a [`Timeline`] (zero where nothing happened).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub counts: Vec<u64>,
}

impl Series {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Request outcome classes, as Key Vault Insights splits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum OutcomeClass {
    /// 2xx.
    Success,
    /// 401 and 403, without the routine `Authentication` 401 challenge.
    Denied,
    /// 429.
    Throttled,
    /// Anything else that is not 2xx (404, 409, 5xx, missing status, ...).
    Other,
}

impl OutcomeClass {
    pub const ALL: [OutcomeClass; 4] = [Self::Success, Self::Denied, Self::Throttled, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "2xx",
            Self::Denied => "401-403",
            Self::Throttled => "429",
            Self::Other => "other",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Success => "successful (2xx)",
            Self::Denied => "denied (401/403, routine authentication challenges excluded)",
            Self::Throttled => "throttled (429)",
            Self::Other => "other failures (404, 409, 5xx, ...)",
        }
    }
}

/// Events per weekday and hour of day, UTC; `counts[0]` is Monday, `counts[d][0]` 00:00-00:59.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HourOfWeek {
    pub counts: [[u64; 24]; 7],
}

impl HourOfWeek {
    pub fn max(&self) -> u64 {
        self.counts.iter().flatten().copied().max().unwrap_or(0)
    }

    /// The busiest (weekday, hour, count), earliest first on ties.
    pub fn busiest(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for (day, hours) in self.counts.iter().enumerate() {
            for (hour, &count) in hours.iter().enumerate() {
                if count > 0 && best.is_none_or(|(_, _, c)| count > c) {
                    best = Some((day, hour, count));
                }
            }
        }
        best
    }
}

/// One principal as the logs show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityRow {
    /// Object id; `None` for calls without one (unauthenticated challenges).
    pub principal_id: Option<String>,
    /// UPN, managed identity name, Microsoft service name, app id or object id, the first known.
    pub display_name: String,
    pub kind: String,
    /// Distinct credential kinds seen (`client-secret`, `certificate`, `none`).
    pub credentials: Vec<String>,
    pub app_id: Option<String>,
    pub upn: Option<String>,
    pub managed_identity: Option<String>,
    pub vaults: Vec<String>,
    pub operations: Vec<String>,
    /// The most frequent client applications (user agents), most frequent first.
    pub clients: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub events: u64,
    /// Non-2xx events, routine authentication challenges excluded.
    pub failures: u64,
}

impl IdentityRow {
    /// Rows for callers without an identity (the `Authentication` challenge).
    pub fn is_anonymous(&self) -> bool {
        self.principal_id.is_none() && self.kind == "unauthenticated"
    }
}

/// Everything the report's activity charts and inventory need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    pub timeline: Timeline,
    /// Events per vault, vaults by name.
    pub per_vault: Vec<Series>,
    /// One series per [`OutcomeClass`], in [`OutcomeClass::ALL`] order.
    pub outcomes: Vec<Series>,
    /// Routine `Authentication` 401 challenges, left out of every outcome class.
    pub authentication_challenges: u64,
    pub hour_of_week: HourOfWeek,
    /// Every principal, most events first.
    pub identities: Vec<IdentityRow>,
}

impl Activity {
    pub fn of(events: &DataFrame) -> PolarsResult<Activity> {
        let timeline = timeline(events)?;
        let identities = identity_inventory(events)?;
        let (outcomes, authentication_challenges) = outcomes_over_time(events, &timeline)?;
        Ok(Activity {
            per_vault: activity_over_time(events, &timeline)?,
            outcomes,
            authentication_challenges,
            hour_of_week: hour_of_week(events)?,
            identities,
            timeline,
        })
    }

    /// The busiest identities, callers without an identity left out.
    pub fn top_identities(&self) -> Vec<&IdentityRow> {
        top_identities(&self.identities)
    }
}

/// Each row of a list-of-strings column, nulls dropped, in text order.
fn sorted_string_lists(column: &Column) -> PolarsResult<Vec<Vec<String>>> {
    let column = column.cast(&DataType::List(Box::new(DataType::String)))?;
    column
        .list()?
        .amortized_iter()
        .map(|list| {
            let mut values: Vec<String> = match list {
                None => Vec::new(),
                Some(series) => series
                    .as_ref()
                    .str()?
                    .iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect(),
            };
            values.sort();
            Ok(values)
        })
        .collect()
}

fn text(name: &str) -> Expr {
    col(name).cast(DataType::String)
}

fn in_class(class: OutcomeClass) -> Expr {
    let status = col("http_status");
    let success = is_success();
    let denied = status
        .clone()
        .eq(lit(401))
        .or(status.clone().eq(lit(403)))
        .fill_null(lit(false))
        .and(is_challenge().not());
    let throttled = status.eq(lit(429)).fill_null(lit(false));
    match class {
        OutcomeClass::Success => success,
        OutcomeClass::Denied => denied,
        OutcomeClass::Throttled => throttled,
        OutcomeClass::Other => success.or(denied).or(throttled).or(is_challenge()).not(),
    }
}

/// Whether a row is a failure: anything but 2xx, routine challenges excluded.
fn is_failure() -> Expr {
    in_class(OutcomeClass::Success).or(is_challenge()).not()
}

/// Bucket start of each event, nanoseconds since the epoch.
fn bucket_start(bucket: Bucket) -> Expr {
    col("time")
        .dt()
        .truncate(lit(bucket.every()))
        .cast(DataType::Int64)
}

/// The buckets covering the events' time span, hourly or daily by its length.
pub fn timeline(events: &DataFrame) -> PolarsResult<Timeline> {
    let span = events
        .clone()
        .lazy()
        .select([
            col("time").min().cast(DataType::Int64).alias("from"),
            col("time").max().cast(DataType::Int64).alias("to"),
        ])
        .collect()?;
    let from = integers(span.column("from")?)?.first().copied().flatten();
    let to = integers(span.column("to")?)?.first().copied().flatten();
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(Timeline {
            bucket: Bucket::Hour,
            starts: Vec::new(),
        });
    };
    let bucket = Bucket::for_span(to - from);
    let step = bucket.nanos();
    let first = from.div_euclid(step) * step;
    let last = to.div_euclid(step) * step;
    Ok(Timeline {
        bucket,
        starts: (first..=last).step_by(step as usize).collect(),
    })
}

/// Dense series from `(key, bucket start, count)` rows; keys in their `BTreeMap` order.
fn densify(
    timeline: &Timeline,
    rows: impl Iterator<Item = (String, i64, u64)>,
) -> BTreeMap<String, Vec<u64>> {
    let mut series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (key, start, count) in rows {
        let counts = series
            .entry(key)
            .or_insert_with(|| vec![0; timeline.starts.len()]);
        if let Some(i) = timeline.index(start) {
            counts[i] += count;
        }
    }
    series
}

/// Events per vault per bucket, one series per vault, vaults by name.
pub fn activity_over_time(events: &DataFrame, timeline: &Timeline) -> PolarsResult<Vec<Series>> {
    if events.height() == 0 {
        return Ok(Vec::new());
    }
    let grouped = events
        .clone()
        .lazy()
        .group_by([col("vault"), bucket_start(timeline.bucket).alias("start")])
        .agg([len().alias("events")])
        .collect()?;
    let vaults = strings(grouped.column("vault")?)?;
    let starts = integers(grouped.column("start")?)?;
    let events = counts(grouped.column("events")?)?;
    let rows = vaults
        .into_iter()
        .zip(starts)
        .zip(events)
        .filter_map(|((vault, start), n)| {
            Some((vault.unwrap_or_else(|| "(unknown)".to_owned()), start?, n))
        });
    Ok(densify(timeline, rows)
        .into_iter()
        .map(|(name, counts)| Series { name, counts })
        .collect())
}

/// Requests per outcome class per bucket (one series per class, in
/// [`OutcomeClass::ALL`] order), and the number of routine challenges left out.
pub fn outcomes_over_time(
    events: &DataFrame,
    timeline: &Timeline,
) -> PolarsResult<(Vec<Series>, u64)> {
    let empty = || {
        OutcomeClass::ALL
            .iter()
            .map(|class| Series {
                name: class.as_str().to_owned(),
                counts: vec![0; timeline.starts.len()],
            })
            .collect()
    };
    if events.height() == 0 {
        return Ok((empty(), 0));
    }
    let mut aggs: Vec<Expr> = OutcomeClass::ALL
        .iter()
        .map(|class| in_class(*class).sum().alias(class.as_str()))
        .collect();
    aggs.push(is_challenge().sum().alias("challenges"));
    let grouped = events
        .clone()
        .lazy()
        .group_by([bucket_start(timeline.bucket).alias("start")])
        .agg(aggs)
        .collect()?;
    let starts = integers(grouped.column("start")?)?;
    let mut series: Vec<Series> = empty();
    for (class, series) in OutcomeClass::ALL.iter().zip(series.iter_mut()) {
        let values = counts(grouped.column(class.as_str())?)?;
        for (start, n) in starts.iter().zip(values) {
            if let Some(i) = start.and_then(|s| timeline.index(s)) {
                series.counts[i] += n;
            }
        }
    }
    let challenges = counts(grouped.column("challenges")?)?.iter().sum();
    Ok((series, challenges))
}

/// Events by weekday and hour of day (UTC).
pub fn hour_of_week(events: &DataFrame) -> PolarsResult<HourOfWeek> {
    let mut result = HourOfWeek::default();
    if events.height() == 0 {
        return Ok(result);
    }
    let grouped = events
        .clone()
        .lazy()
        .group_by([
            col("time").dt().weekday().alias("weekday"),
            col("time").dt().hour().alias("hour"),
        ])
        .agg([len().alias("events")])
        .collect()?;
    let weekdays = integers(grouped.column("weekday")?)?;
    let hours = integers(grouped.column("hour")?)?;
    let events = counts(grouped.column("events")?)?;
    for ((weekday, hour), n) in weekdays.into_iter().zip(hours).zip(events) {
        let (Some(weekday), Some(hour)) = (weekday, hour) else {
            continue;
        };
        // polars numbers ISO weekdays: Monday = 1 ... Sunday = 7.
        if let (Ok(day @ 0..7), Ok(hour @ 0..24)) =
            (usize::try_from(weekday - 1), usize::try_from(hour))
        {
            result.counts[day][hour] += n;
        }
    }
    Ok(result)
}

/// The name a principal is known by: UPN, managed identity, Microsoft
/// service, application id or object id, the first the logs give.
fn display_name(
    principal_id: Option<&str>,
    kind: &str,
    upn: Option<&str>,
    managed_identity: Option<&str>,
    app_id: Option<&str>,
) -> String {
    if let Some(name) = known_name(upn, managed_identity, app_id) {
        return name;
    }
    if let Some(id) = principal_id {
        return id.to_owned();
    }
    match kind {
        "unauthenticated" => "unauthenticated callers".to_owned(),
        _ => "(no identity)".to_owned(),
    }
}

/// The name the logs give a principal, short of its object id: its UPN,
/// its managed identity's name, the Microsoft service its app id belongs
/// to, or `app <app id>` (a caller known only by its application). Every
/// report names a principal so: `summary.json`, the terminal,
/// `identities.csv`, `explain`.
pub fn known_name(
    upn: Option<&str>,
    managed_identity: Option<&str>,
    app_id: Option<&str>,
) -> Option<String> {
    if let Some(upn) = upn {
        return Some(upn.to_owned());
    }
    if let Some(name) = managed_identity
        .and_then(|id| id.trim_end_matches('/').rsplit('/').next())
        .filter(|name| !name.is_empty())
    {
        return Some(name.to_owned());
    }
    if let Some((_, service)) = app_id.and_then(|app| {
        MICROSOFT_SERVICE_APP_IDS
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(app))
    }) {
        return Some((*service).to_owned());
    }
    app_id.map(|app| format!("app {app}"))
}

/// A principal as the inventory groups it: object id and identity kind.
type PrincipalKey = (Option<String>, String);

/// One row per principal (object id and identity kind), most events first.
pub fn identity_inventory(events: &DataFrame) -> PolarsResult<Vec<IdentityRow>> {
    if events.height() == 0 {
        return Ok(Vec::new());
    }
    // Grouped by the categorical columns as they are: only the few grouped
    // rows are turned into text (casting the whole frame first cost as much
    // memory again as the columns themselves).
    let lf = events.clone().lazy();
    let keys = [col("principal_id"), col("identity_kind")];
    let distinct = |name: &str| col(name).drop_nulls().unique().alias(name);
    let grouped = lf
        .clone()
        .group_by(keys.clone())
        .agg([
            len().alias("events"),
            is_failure().sum().alias("failures"),
            col("time").min().cast(DataType::Int64).alias("first"),
            col("time").max().cast(DataType::Int64).alias("last"),
            col("upn").drop_nulls().first().alias("upn"),
            col("app_id").drop_nulls().first().alias("app_id"),
            col("managed_identity")
                .drop_nulls()
                .first()
                .alias("managed_identity"),
            distinct("credential_kind"),
            distinct("vault"),
            distinct("operation"),
        ])
        .with_columns([
            text("principal_id").alias("principal_id"),
            // Every record kvaudit normalises has a kind; a foreign Parquet
            // frame may lack one.
            text("identity_kind")
                .fill_null(lit(IdentityKind::Unknown.as_str()))
                .alias("identity_kind"),
        ])
        .sort(
            ["events", "principal_id", "identity_kind"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false, false])
                .with_nulls_last(true),
        )
        .collect()?;

    // The most frequent client applications of each principal.
    let clients = lf
        .filter(col("client_info").is_not_null())
        .group_by([
            col("principal_id"),
            col("identity_kind"),
            col("client_info"),
        ])
        .agg([len().alias("n")])
        .collect()?;
    let mut by_principal: BTreeMap<PrincipalKey, Vec<(u64, String)>> = BTreeMap::new();
    for ((id, kind), (client, n)) in strings(clients.column("principal_id")?)?
        .into_iter()
        .zip(strings(clients.column("identity_kind")?)?)
        .zip(
            strings(clients.column("client_info")?)?
                .into_iter()
                .zip(counts(clients.column("n")?)?),
        )
    {
        by_principal
            .entry((
                id,
                kind.unwrap_or_else(|| IdentityKind::Unknown.as_str().to_owned()),
            ))
            .or_default()
            .push((n, client.unwrap_or_default()));
    }
    for list in by_principal.values_mut() {
        list.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        list.truncate(CLIENTS_PER_IDENTITY);
    }

    let ids = strings(grouped.column("principal_id")?)?;
    let kinds = strings(grouped.column("identity_kind")?)?;
    let events_n = counts(grouped.column("events")?)?;
    let failures = counts(grouped.column("failures")?)?;
    let first = integers(grouped.column("first")?)?;
    let last = integers(grouped.column("last")?)?;
    let upns = strings(grouped.column("upn")?)?;
    let app_ids = strings(grouped.column("app_id")?)?;
    let managed = strings(grouped.column("managed_identity")?)?;
    let credentials = sorted_string_lists(grouped.column("credential_kind")?)?;
    let vaults = sorted_string_lists(grouped.column("vault")?)?;
    let operations = sorted_string_lists(grouped.column("operation")?)?;

    let mut rows = Vec::with_capacity(ids.len());
    for i in 0..ids.len() {
        let kind = kinds[i]
            .clone()
            .unwrap_or_else(|| IdentityKind::Unknown.as_str().to_owned());
        let clients = by_principal
            .remove(&(ids[i].clone(), kind.clone()))
            .unwrap_or_default()
            .into_iter()
            .map(|(_, client)| client)
            .collect();
        rows.push(IdentityRow {
            display_name: display_name(
                ids[i].as_deref(),
                &kind,
                upns[i].as_deref(),
                managed[i].as_deref(),
                app_ids[i].as_deref(),
            ),
            principal_id: ids[i].clone(),
            kind,
            credentials: credentials[i].clone(),
            app_id: app_ids[i].clone(),
            upn: upns[i].clone(),
            managed_identity: managed[i].clone(),
            vaults: vaults[i].clone(),
            operations: operations[i].clone(),
            clients,
            first_seen: first[i].map(format_time).unwrap_or_default(),
            last_seen: last[i].map(format_time).unwrap_or_default(),
            events: events_n[i],
            failures: failures[i],
        });
    }
    Ok(rows)
}

/// The [`TOP_IDENTITIES`] busiest identities of an inventory (ordered most
/// events first), callers without an identity left out.
pub fn top_identities(inventory: &[IdentityRow]) -> Vec<&IdentityRow> {
    inventory
        .iter()
        .filter(|row| !row.is_anonymous())
        .take(TOP_IDENTITIES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600 * 1_000_000_000;
    /// 2026-11-16T00:00:00Z, a Monday.
    const MONDAY: i64 = 1_794_787_200 * 1_000_000_000;

    const WEB_APP_IDENTITY: &str = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";

    struct Row {
        t: i64,
        vault: &'static str,
        operation: &'static str,
        status: Option<u16>,
        principal: Option<&'static str>,
        kind: &'static str,
        upn: Option<&'static str>,
        client: Option<&'static str>,
    }

    fn row(t: i64, vault: &'static str, operation: &'static str, status: u16) -> Row {
        Row {
            t,
            vault,
            operation,
            status: Some(status),
            principal: Some("p1"),
            kind: "managed-identity",
            upn: None,
            client: Some("sdk"),
        }
    }

    fn frame(rows: &[Row]) -> DataFrame {
        let cat = DataType::from_categories(Categories::global());
        let strs = |f: &dyn Fn(&Row) -> Option<&'static str>| -> Vec<Option<&'static str>> {
            rows.iter().map(f).collect()
        };
        let df = df!(
            "time" => rows.iter().map(|r| r.t).collect::<Vec<_>>(),
            "vault" => strs(&|r| Some(r.vault)),
            "operation" => strs(&|r| Some(r.operation)),
            "http_status" => rows.iter().map(|r| r.status.map(u32::from)).collect::<Vec<_>>(),
            "principal_id" => strs(&|r| r.principal),
            "identity_kind" => strs(&|r| Some(r.kind)),
            "upn" => strs(&|r| r.upn),
            "app_id" => strs(&|_| None),
            "managed_identity" => strs(&|r| (r.principal == Some("p1")).then_some(WEB_APP_IDENTITY)),
            "credential_kind" => strs(&|_| Some("certificate")),
            "client_info" => strs(&|r| r.client),
        )
        .unwrap();
        df.lazy()
            .with_columns([
                col("time").cast(DataType::Datetime(TimeUnit::Nanoseconds, None)),
                col("http_status").cast(DataType::UInt32),
                col("vault").cast(cat.clone()),
                col("operation").cast(cat.clone()),
                col("principal_id").cast(cat.clone()),
                col("identity_kind").cast(cat.clone()),
                col("upn").cast(cat.clone()),
                col("app_id").cast(cat.clone()),
                col("managed_identity").cast(cat.clone()),
                col("credential_kind").cast(cat.clone()),
                col("client_info").cast(cat),
            ])
            .collect()
            .unwrap()
    }

    #[test]
    fn hourly_buckets_per_vault_are_dense() {
        let df = frame(&[
            row(MONDAY + 5 * 60 * 1_000_000_000, "kv-a", "SecretGet", 200),
            row(MONDAY + 3 * HOUR + 1, "kv-b", "SecretGet", 200),
            row(MONDAY + 3 * HOUR + 2, "kv-a", "SecretGet", 200),
            row(MONDAY + 3 * HOUR + 3, "kv-a", "SecretGet", 200),
        ]);
        let activity = Activity::of(&df).unwrap();
        assert_eq!(activity.timeline.bucket, Bucket::Hour);
        assert_eq!(
            activity.timeline.starts,
            vec![MONDAY, MONDAY + HOUR, MONDAY + 2 * HOUR, MONDAY + 3 * HOUR]
        );
        assert_eq!(activity.per_vault[0].name, "kv-a");
        assert_eq!(activity.per_vault[0].counts, vec![1, 0, 0, 2]);
        assert_eq!(activity.per_vault[1].name, "kv-b");
        assert_eq!(activity.per_vault[1].counts, vec![0, 0, 0, 1]);
    }

    #[test]
    fn long_spans_are_bucketed_by_day() {
        let df = frame(&[
            row(MONDAY + HOUR, "kv-a", "SecretGet", 200),
            row(MONDAY + 30 * 24 * HOUR + 5, "kv-a", "SecretGet", 200),
        ]);
        let timeline = timeline(&df).unwrap();
        assert_eq!(timeline.bucket, Bucket::Day);
        assert_eq!(timeline.starts.len(), 31);
        assert_eq!(timeline.starts[0], MONDAY);
        let series = activity_over_time(&df, &timeline).unwrap();
        assert_eq!(series[0].counts[0], 1);
        assert_eq!(series[0].counts[30], 1);
        assert_eq!(series[0].total(), 2);
    }

    #[test]
    fn outcome_classes_leave_out_the_authentication_challenge() {
        let mut missing_status = row(MONDAY, "kv", "SecretGet", 0);
        missing_status.status = None;
        let df = frame(&[
            row(MONDAY, "kv", "SecretGet", 200),
            row(MONDAY, "kv", "SecretList", 204),
            row(MONDAY, "kv", "SecretGet", 403),
            row(MONDAY, "kv", "SecretGet", 401),
            row(MONDAY, "kv", "Authentication", 401),
            row(MONDAY, "kv", "SecretGet", 429),
            row(MONDAY, "kv", "SecretGet", 404),
            row(MONDAY, "kv", "SecretGet", 500),
            missing_status,
        ]);
        let activity = Activity::of(&df).unwrap();
        let totals: Vec<_> = activity
            .outcomes
            .iter()
            .map(|s| (s.name.as_str(), s.total()))
            .collect();
        assert_eq!(
            totals,
            vec![("2xx", 2), ("401-403", 2), ("429", 1), ("other", 3)]
        );
        assert_eq!(activity.authentication_challenges, 1);
    }

    #[test]
    fn hour_of_week_counts_by_utc_weekday_and_hour() {
        let df = frame(&[
            row(MONDAY + 9 * HOUR, "kv", "SecretGet", 200),
            row(MONDAY + 9 * HOUR + 1, "kv", "SecretGet", 200),
            row(MONDAY + 6 * 24 * HOUR + 23 * HOUR, "kv", "SecretGet", 200),
        ]);
        let heat = hour_of_week(&df).unwrap();
        assert_eq!(heat.counts[0][9], 2);
        assert_eq!(heat.counts[6][23], 1);
        assert_eq!(heat.max(), 2);
        assert_eq!(heat.busiest(), Some((0, 9, 2)));
    }

    #[test]
    fn inventory_has_one_row_per_principal() {
        let admin = |t, operation, status| Row {
            t,
            vault: "kv-b",
            operation,
            status: Some(status),
            principal: Some("p2"),
            kind: "user",
            upn: Some("dana@contoso.com"),
            client: Some("AzureCLI"),
        };
        let anonymous = Row {
            t: MONDAY,
            vault: "kv-a",
            operation: "Authentication",
            status: Some(401),
            principal: None,
            kind: "unauthenticated",
            upn: None,
            client: Some("curl"),
        };
        let df = frame(&[
            anonymous,
            row(MONDAY + 1, "kv-a", "SecretGet", 200),
            row(MONDAY + 2, "kv-b", "SecretGet", 200),
            row(MONDAY + 3, "kv-a", "SecretList", 200),
            admin(MONDAY + 4, "SecretGet", 403),
            admin(MONDAY + 5, "SecretSet", 200),
        ]);
        let inventory = identity_inventory(&df).unwrap();
        assert_eq!(inventory.len(), 3);
        let web = &inventory[0];
        assert_eq!(web.principal_id.as_deref(), Some("p1"));
        assert_eq!(web.display_name, "id-web");
        assert_eq!(web.kind, "managed-identity");
        assert_eq!(web.credentials, vec!["certificate"]);
        assert_eq!(web.vaults, vec!["kv-a", "kv-b"]);
        assert_eq!(web.operations, vec!["SecretGet", "SecretList"]);
        assert_eq!(web.events, 3);
        assert_eq!(web.failures, 0);
        assert_eq!(web.first_seen, "2026-11-16T00:00:00.0000000Z");
        let dana = &inventory[1];
        assert_eq!(dana.display_name, "dana@contoso.com");
        assert_eq!(dana.failures, 1);
        assert_eq!(dana.clients, vec!["AzureCLI"]);
        let anonymous = &inventory[2];
        assert!(anonymous.is_anonymous());
        assert_eq!(anonymous.display_name, "unauthenticated callers");
        assert_eq!(anonymous.failures, 0, "the challenge is not a failure");

        let top = top_identities(&inventory);
        assert_eq!(top.len(), 2, "callers without an identity are not ranked");
    }

    #[test]
    fn empty_events_give_empty_activity() {
        let df = frame(&[]);
        let activity = Activity::of(&df).unwrap();
        assert!(activity.timeline.starts.is_empty());
        assert!(activity.per_vault.is_empty());
        assert_eq!(activity.outcomes.len(), 4);
        assert!(activity.identities.is_empty());
        assert_eq!(activity.hour_of_week.max(), 0);
    }
}
