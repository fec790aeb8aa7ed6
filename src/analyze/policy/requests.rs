//! Events to Cedar requests, deduplicated.
//!
//! Two events make the same request when they have the same caller (object
//! id, app id, identity kind, credential), vault, operation, object, hour,
//! caller IP, HTTP status, TLS version, client info and authorisation fields:
//! everything the context carries, with time truncated to the hour. Polars
//! groups the frame on those columns once; each group is evaluated once.

use std::collections::HashMap;

use anyhow::Context as _;
use cedar_policy::{Context, EntityUid, Request};
use chrono::{DateTime, Datelike, Timelike};
use polars::prelude::*;
use serde_json::{Value, json};

use crate::analyze::columns::{UNKNOWN_VAULT, is_success};

use super::model::{
    ActionMap, IDENTITY, datetime_expression, ip_expression, parse_ip, principal_key, resource,
    uid, weekday_name,
};

/// Nanoseconds per hour: the time bucket of deduplication.
pub const HOUR_NS: i64 = 3_600 * 1_000_000_000;

/// Columns whose values make a request distinct.
const KEY_COLUMNS: [&str; 14] = [
    "principal_id",
    "app_id",
    "identity_kind",
    "credential_kind",
    "vault",
    "operation",
    "object_type",
    "object_name",
    "caller_ip",
    "http_status",
    "tls_version",
    "client_info",
    "authorization",
    "authorized",
];

/// The fields of one distinct request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestKey {
    pub principal_id: Option<String>,
    pub app_id: Option<String>,
    pub identity_kind: Option<String>,
    pub credential_kind: Option<String>,
    pub vault: Option<String>,
    pub operation: String,
    pub object_type: Option<String>,
    pub object_name: Option<String>,
    pub caller_ip: Option<String>,
    pub http_status: Option<u16>,
    pub tls_version: Option<String>,
    pub client_info: Option<String>,
    pub authorization: Option<String>,
    pub authorized: Option<bool>,
    /// Start of the event's hour, ns since the epoch.
    pub hour: i64,
}

/// Per (principal, vault) facts for the context's `usage` record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub secret_lists: i64,
    pub secret_reads: i64,
    pub reads_after_list: i64,
}

impl RequestKey {
    pub fn principal_key(&self) -> String {
        principal_key(
            self.principal_id.as_deref(),
            self.app_id.as_deref(),
            self.identity_kind.as_deref(),
        )
    }

    pub fn vault_name(&self) -> &str {
        self.vault.as_deref().unwrap_or(UNKNOWN_VAULT)
    }

    pub fn success(&self) -> bool {
        self.http_status.is_some_and(|s| (200..300).contains(&s))
    }

    pub fn principal_uid(&self) -> EntityUid {
        uid(IDENTITY, &self.principal_key())
    }

    /// Resource entity type and id.
    pub fn resource(&self) -> (&'static str, String) {
        resource(
            self.vault_name(),
            self.object_type.as_deref(),
            self.object_name.as_deref(),
        )
    }

    pub fn resource_uid(&self) -> EntityUid {
        let (t, id) = self.resource();
        uid(t, &id)
    }

    /// The request context as Cedar JSON (schema-typed: `ip` and `time` are
    /// read as `ipaddr` and `datetime`).
    pub fn context_json(&self, usage: Usage) -> Value {
        let time = DateTime::from_timestamp_nanos(self.hour);
        let mut context = json!({
            "operation": self.operation,
            "time": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "hour": time.hour(),
            "weekday": weekday_name(time.weekday().num_days_from_monday()),
            "caller_ip": self.caller_ip.clone().unwrap_or_default(),
            "http_status": self.http_status.unwrap_or(0),
            "success": self.success(),
            "tls_version": self.tls_version.clone().unwrap_or_default(),
            "client_info": self.client_info.clone().unwrap_or_default(),
            "authorization": self.authorization.clone().unwrap_or_default(),
            "credential": self.credential_kind.clone().unwrap_or_default(),
            "client_app_id": self.app_id.clone().unwrap_or_default(),
            "object_type": self.object_type.clone().unwrap_or_default(),
            "usage": {
                "secret_lists": usage.secret_lists,
                "secret_reads": usage.secret_reads,
                "reads_after_list": usage.reads_after_list,
            },
        });
        if let Some(ip) = self.caller_ip.as_deref().and_then(parse_ip) {
            context["ip"] = json!(ip);
        }
        if let Some(authorized) = self.authorized {
            context["authorized"] = json!(authorized);
        }
        context
    }

    /// The Cedar request. The context is built directly from values (no
    /// JSON, no schema lookup), an order of magnitude faster than parsing
    /// [`Self::context_json`]; [`Self::request_checked`] builds the same
    /// context through the schema, and a unit test holds them equal.
    pub fn request(&self, actions: &ActionMap, usage: Usage) -> anyhow::Result<Request> {
        use cedar_policy::RestrictedExpression as E;
        let time = DateTime::from_timestamp_nanos(self.hour);
        let text = |v: &Option<String>| E::new_string(v.clone().unwrap_or_default());
        let mut pairs = vec![
            (
                "operation".to_owned(),
                E::new_string(self.operation.clone()),
            ),
            ("time".to_owned(), datetime_expression(self.hour)),
            ("hour".to_owned(), E::new_long(i64::from(time.hour()))),
            (
                "weekday".to_owned(),
                E::new_string(weekday_name(time.weekday().num_days_from_monday()).to_owned()),
            ),
            ("caller_ip".to_owned(), text(&self.caller_ip)),
            (
                "http_status".to_owned(),
                E::new_long(i64::from(self.http_status.unwrap_or(0))),
            ),
            ("success".to_owned(), E::new_bool(self.success())),
            ("tls_version".to_owned(), text(&self.tls_version)),
            ("client_info".to_owned(), text(&self.client_info)),
            ("authorization".to_owned(), text(&self.authorization)),
            ("credential".to_owned(), text(&self.credential_kind)),
            ("client_app_id".to_owned(), text(&self.app_id)),
            ("object_type".to_owned(), text(&self.object_type)),
            (
                "usage".to_owned(),
                E::new_record([
                    ("secret_lists".to_owned(), E::new_long(usage.secret_lists)),
                    ("secret_reads".to_owned(), E::new_long(usage.secret_reads)),
                    (
                        "reads_after_list".to_owned(),
                        E::new_long(usage.reads_after_list),
                    ),
                ])?,
            ),
        ];
        if let Some(ip) = self.caller_ip.as_deref().and_then(ip_expression) {
            pairs.push(("ip".to_owned(), ip));
        }
        if let Some(authorized) = self.authorized {
            pairs.push(("authorized".to_owned(), E::new_bool(authorized)));
        }
        let context = Context::from_pairs(pairs).context("building the request context")?;
        Ok(Request::new(
            self.principal_uid(),
            actions.action_uid(&self.operation),
            self.resource_uid(),
            context,
            None,
        )?)
    }

    /// The request, validated against the schema (slower; for tests and `explain`).
    pub fn request_checked(
        &self,
        actions: &ActionMap,
        usage: Usage,
        schema: &cedar_policy::Schema,
    ) -> anyhow::Result<Request> {
        let action = actions.action_uid(&self.operation);
        let context = Context::from_json_value(self.context_json(usage), Some((schema, &action)))
            .context("building the request context")?;
        Ok(Request::new(
            self.principal_uid(),
            action,
            self.resource_uid(),
            context,
            Some(schema),
        )?)
    }
}

/// Distinct requests and the rows of each.
#[derive(Debug, Default)]
pub struct RequestTable {
    pub keys: Vec<RequestKey>,
    /// Row indices of each request's events, in frame order.
    pub rows: Vec<Vec<IdxSize>>,
    pub first: Vec<i64>,
    pub last: Vec<i64>,
}

impl RequestTable {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Keeps the rows `judged` marks, dropping requests left without any.
    pub fn keep_rows(&mut self, judged: &[bool], events: &DataFrame) -> PolarsResult<()> {
        let time = events.column("time")?.cast(&DataType::Int64)?;
        let time = time.i64()?;
        let mut kept = RequestTable::default();
        let requests = std::mem::take(&mut self.keys)
            .into_iter()
            .zip(std::mem::take(&mut self.rows));
        for (key, mut rows) in requests {
            rows.retain(|&r| judged[r as usize]);
            let times = rows.iter().filter_map(|&r| time.get(r as usize));
            let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
                continue;
            };
            kept.keys.push(key);
            kept.rows.push(rows);
            kept.first.push(first);
            kept.last.push(last);
        }
        *self = kept;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Groups the events into distinct requests.
    pub fn build(events: &DataFrame) -> PolarsResult<RequestTable> {
        if events.height() == 0 {
            return Ok(RequestTable::default());
        }
        let time = events.column("time")?.cast(&DataType::Int64)?;
        let hours: Vec<i64> = time
            .i64()?
            .iter()
            .map(|t| t.unwrap_or(0).div_euclid(HOUR_NS) * HOUR_NS)
            .collect();
        let mut frame = events.select(KEY_COLUMNS.iter().copied().chain(["time"]))?;
        frame.with_column(Column::new("__hour".into(), hours))?;
        let mut keys: Vec<Expr> = KEY_COLUMNS.iter().map(|c| col(*c)).collect();
        keys.push(col("__hour"));
        let grouped = frame
            .lazy()
            .with_row_index("__row", None)
            .group_by(keys)
            .agg([
                col("__row").alias("__rows"),
                col("time").cast(DataType::Int64).min().alias("__first"),
                col("time").cast(DataType::Int64).max().alias("__last"),
            ])
            .collect()?;

        let s = |name: &str| -> PolarsResult<Vec<Option<String>>> {
            let c = grouped.column(name)?.cast(&DataType::String)?;
            Ok(c.str()?.iter().map(|v| v.map(str::to_owned)).collect())
        };
        let i64s = |name: &str| -> PolarsResult<Vec<i64>> {
            let c = grouped.column(name)?.cast(&DataType::Int64)?;
            Ok(c.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
        };
        let principal_id = s("principal_id")?;
        let app_id = s("app_id")?;
        let identity_kind = s("identity_kind")?;
        let credential_kind = s("credential_kind")?;
        let vault = s("vault")?;
        let operation = s("operation")?;
        let object_type = s("object_type")?;
        let object_name = s("object_name")?;
        let caller_ip = s("caller_ip")?;
        let tls_version = s("tls_version")?;
        let client_info = s("client_info")?;
        let authorization = s("authorization")?;
        let http_status: Vec<Option<u16>> = grouped
            .column("http_status")?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| v.and_then(|v| u16::try_from(v).ok()))
            .collect();
        let authorized: Vec<Option<bool>> = grouped.column("authorized")?.bool()?.iter().collect();
        let hour = i64s("__hour")?;
        let first = i64s("__first")?;
        let last = i64s("__last")?;
        let rows_column = grouped
            .column("__rows")?
            .as_materialized_series()
            .list()?
            .clone();
        let mut rows = Vec::with_capacity(grouped.height());
        for list in rows_column.amortized_iter() {
            let indices = match list {
                Some(series) => {
                    let series = series.as_ref().cast(&IDX_DTYPE)?;
                    series.idx()?.no_null_iter().collect::<Vec<IdxSize>>()
                }
                None => Vec::new(),
            };
            rows.push(indices);
        }

        let n = grouped.height();
        let mut table = RequestTable {
            keys: Vec::with_capacity(n),
            rows: Vec::with_capacity(n),
            first: Vec::with_capacity(n),
            last: Vec::with_capacity(n),
        };
        // Deterministic order: by first event row.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| rows[i].first().copied().unwrap_or(IdxSize::MAX));
        let mut rows: Vec<Option<Vec<IdxSize>>> = rows.into_iter().map(Some).collect();
        for i in order {
            table.keys.push(RequestKey {
                principal_id: principal_id[i].clone(),
                app_id: app_id[i].clone(),
                identity_kind: identity_kind[i].clone(),
                credential_kind: credential_kind[i].clone(),
                vault: vault[i].clone(),
                operation: operation[i].clone().unwrap_or_default(),
                object_type: object_type[i].clone(),
                object_name: object_name[i].clone(),
                caller_ip: caller_ip[i].clone(),
                http_status: http_status[i],
                tls_version: tls_version[i].clone(),
                client_info: client_info[i].clone(),
                authorization: authorization[i].clone(),
                authorized: authorized[i],
                hour: hour[i],
            });
            table.rows.push(rows[i].take().unwrap_or_default());
            table.first.push(first[i]);
            table.last.push(last[i]);
        }
        Ok(table)
    }

    /// The request holding a row.
    pub fn request_of_row(&self, row: IdxSize) -> Option<usize> {
        self.rows.iter().position(|r| r.contains(&row))
    }
}

/// Usage per (principal key, vault).
pub type UsageMap = HashMap<(String, String), Usage>;

/// Counts successful `SecretList` and `SecretGet` per (principal, vault), and
/// the reads at or after the principal's first successful list there.
pub fn usage(events: &DataFrame) -> PolarsResult<UsageMap> {
    let mut out = UsageMap::new();
    if events.height() == 0 {
        return Ok(out);
    }
    let op = col("operation");
    let base = events
        .clone()
        .lazy()
        .select([
            col("principal_id"),
            col("app_id"),
            col("identity_kind"),
            col("vault"),
            col("time").cast(DataType::Int64).alias("__t"),
            op.clone().eq(lit("SecretList")).alias("__list"),
            op.eq(lit("SecretGet")).alias("__get"),
            is_success().alias("__ok"),
        ])
        .filter(col("__ok").and(col("__list").or(col("__get"))));
    // Callers with an object id are keyed by it alone (a user's app id is
    // the client they used); the rest by app id and kind.
    for by_object_id in [true, false] {
        let keys: Vec<Expr> = if by_object_id {
            vec![col("principal_id"), col("vault")]
        } else {
            vec![col("app_id"), col("identity_kind"), col("vault")]
        };
        let filter = if by_object_id {
            col("principal_id").is_not_null()
        } else {
            col("principal_id").is_null()
        };
        let grouped = base
            .clone()
            .filter(filter)
            .with_column(
                col("__t")
                    .filter(col("__list"))
                    .min()
                    .over(keys.clone())?
                    .alias("__first_list"),
            )
            .group_by(keys)
            .agg([
                col("__list").sum().cast(DataType::Int64).alias("lists"),
                col("__get").sum().cast(DataType::Int64).alias("reads"),
                col("__get")
                    .and(col("__t").gt_eq(col("__first_list")))
                    .fill_null(lit(false))
                    .sum()
                    .cast(DataType::Int64)
                    .alias("after"),
            ])
            .collect()?;
        let s = |name: &str| -> PolarsResult<Vec<Option<String>>> {
            match grouped.column(name) {
                Ok(c) => Ok(c
                    .cast(&DataType::String)?
                    .str()?
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect()),
                Err(_) => Ok(vec![None; grouped.height()]),
            }
        };
        let n = |name: &str| -> PolarsResult<Vec<i64>> {
            Ok(grouped
                .column(name)?
                .i64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect())
        };
        let (ids, apps, kinds, vaults) = (
            s("principal_id")?,
            s("app_id")?,
            s("identity_kind")?,
            s("vault")?,
        );
        let (lists, reads, after) = (n("lists")?, n("reads")?, n("after")?);
        for i in 0..grouped.height() {
            let key = principal_key(ids[i].as_deref(), apps[i].as_deref(), kinds[i].as_deref());
            let vault = vaults[i]
                .clone()
                .unwrap_or_else(|| UNKNOWN_VAULT.to_owned());
            let u = out.entry((key, vault)).or_default();
            u.secret_lists += lists[i];
            u.secret_reads += reads[i];
            u.reads_after_list += after[i];
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::tests_runner::{TestEvent, frame_of};

    fn ev(time: &str, op: &str, object: Option<&str>) -> TestEvent {
        TestEvent {
            time: time.into(),
            operation: op.into(),
            object_type: object.map(|_| "secret".into()),
            object_name: object.map(str::to_owned),
            ..TestEvent::default()
        }
    }

    #[test]
    fn identical_events_in_one_hour_are_one_request() {
        let frame = frame_of(&[
            ev("2026-11-16T10:00:00Z", "SecretGet", Some("a")),
            ev("2026-11-16T10:59:59Z", "SecretGet", Some("a")),
            ev("2026-11-16T11:00:00Z", "SecretGet", Some("a")),
            ev("2026-11-16T10:30:00Z", "SecretGet", Some("b")),
        ])
        .unwrap();
        let table = RequestTable::build(&frame).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(table.rows[0], vec![0, 1]);
        assert_eq!(table.keys[0].object_name.as_deref(), Some("a"));
        assert_eq!(table.request_of_row(3), Some(2));
        assert_eq!(table.request_of_row(2), Some(1));
    }

    #[test]
    fn usage_counts_reads_after_the_first_list() {
        let frame = frame_of(&[
            ev("2026-11-16T09:00:00Z", "SecretGet", Some("a")),
            ev("2026-11-16T10:00:00Z", "SecretList", None),
            ev("2026-11-16T11:00:00Z", "SecretList", None),
        ])
        .unwrap();
        let usage = usage(&frame).unwrap();
        assert_eq!(usage.len(), 1);
        let u = usage.values().next().unwrap();
        assert_eq!(
            *u,
            Usage {
                secret_lists: 2,
                secret_reads: 1,
                reads_after_list: 0
            }
        );
    }

    #[test]
    fn context_is_typed_by_the_schema() {
        let key = RequestKey {
            operation: "SecretGet".into(),
            caller_ip: Some("10.1.2.3".into()),
            http_status: Some(200),
            hour: 1_763_287_200_000_000_000, // 2025-11-16T10:00:00Z, a Sunday
            ..RequestKey::default()
        };
        let ctx = key.context_json(Usage::default());
        assert_eq!(ctx["time"], "2025-11-16T10:00:00Z");
        assert_eq!(ctx["hour"], 10);
        assert_eq!(ctx["weekday"], "sunday");
        assert_eq!(ctx["ip"], "10.1.2.3");
        let schema = crate::analyze::policy::pack::default_schema();
        let actions = ActionMap::from_schema(&schema);
        let fast = key.request(&actions, Usage::default()).unwrap();
        let checked = key
            .request_checked(&actions, Usage::default(), &schema)
            .unwrap();
        assert_eq!(
            fast.context(),
            checked.context(),
            "both build the same context"
        );
        let odd = RequestKey {
            operation: "SomethingNew".into(),
            caller_ip: Some("not an ip".into()),
            authorized: Some(false),
            ..key
        };
        let ctx = odd.context_json(Usage::default());
        assert!(ctx.get("ip").is_none());
        let checked = odd
            .request_checked(&actions, Usage::default(), &schema)
            .unwrap();
        let fast = odd.request(&actions, Usage::default()).unwrap();
        assert_eq!(fast.context(), checked.context());
    }
}
