//! The events the rate analyses count: every authenticated call, with the
//! caller as its Cedar principal id and the flags each count needs.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;

use crate::analyze::columns::{
    CategoricalText, UNKNOWN_VAULT, is_challenge, is_success, strings, vault_spans, vault_windows,
};
use crate::analyze::policy::model::principal_key;

/// Whether a string column equals one of `values`.
pub fn one_of(column: &str, values: &[&str]) -> Expr {
    let set = Series::new("values".into(), values);
    col(column)
        .is_in(lit(set).implode(false), false)
        .fill_null(lit(false))
}

fn operation() -> Expr {
    col("operation")
}

/// A successful read of a secret's value.
pub fn is_secret_read() -> Expr {
    operation().eq(lit("SecretGet")).and(is_success())
}

/// A refused call (the routine challenge is filtered out before this is used).
pub fn is_denied() -> Expr {
    col("http_status")
        .eq(lit(401))
        .or(col("http_status").eq(lit(403)))
        .fill_null(lit(false))
}

pub fn is_throttled() -> Expr {
    col("http_status").eq(lit(429)).fill_null(lit(false))
}

/// The columns that identify a caller in a vault; the rate analyses group
/// by them (categoricals: cheap keys) and turn each group's values into a
/// principal id with [`callers`].
pub const CALLER: [&str; 4] = ["principal_id", "app_id", "identity_kind", "vault"];

pub fn caller_columns() -> Vec<Expr> {
    CALLER.iter().map(|c| col(*c)).collect()
}

/// `(principal id, vault)` of each row of a frame with the [`CALLER`] columns.
pub fn callers(frame: &DataFrame) -> PolarsResult<Vec<(String, String)>> {
    let principal = strings(frame.column("principal_id")?)?;
    let app = strings(frame.column("app_id")?)?;
    let kind = strings(frame.column("identity_kind")?)?;
    let vault = strings(frame.column("vault")?)?;
    Ok((0..frame.height())
        .map(|i| {
            (
                principal_key(
                    principal[i].as_deref(),
                    app[i].as_deref(),
                    kind[i].as_deref(),
                ),
                vault[i].clone().unwrap_or_else(|| UNKNOWN_VAULT.to_owned()),
            )
        })
        .collect())
}

/// Authenticated calls, in time order, with the columns the analyses use:
/// `t` (ns), the [`CALLER`] columns, `operation` (string), `object`, `ip`
/// (categorical), `http_status`, `success`, `secret_read`, `denied`,
/// `throttled`, and `row` (the row in the events frame).
pub fn authenticated(events: &DataFrame) -> LazyFrame {
    events
        .clone()
        .lazy()
        .with_row_index("row", None)
        .filter(
            is_challenge().not().and(
                col("identity_kind")
                    .cast(DataType::String)
                    .neq(lit("unauthenticated"))
                    .fill_null(lit(true)),
            ),
        )
        .select([
            col("time").cast(DataType::Int64).alias("t"),
            // Only what principal_key reads: a user's calls through the CLI and
            // the portal (two app ids) are one caller.
            col("principal_id"),
            when(col("principal_id").is_null())
                .then(col("app_id"))
                .otherwise(lit(NULL))
                .alias("app_id"),
            when(col("principal_id").is_null().and(col("app_id").is_null()))
                .then(col("identity_kind"))
                .otherwise(lit(NULL))
                .alias("identity_kind"),
            col("vault"),
            operation().alias("operation"),
            col("object_name").alias("object"),
            col("http_status")
                .cast(DataType::Int64)
                .alias("http_status"),
            is_success().alias("success"),
            is_secret_read().alias("secret_read"),
            is_denied().alias("denied"),
            is_throttled().alias("throttled"),
            col("caller_ip").alias("ip"),
            col("row"),
        ])
        .sort(
            ["t"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
}

/// One caller as categorical codes of the [`CALLER`] columns.
pub type CallerCode = [Option<u32>; 4];

/// Each row's caller as categorical codes: comparing and hashing them is
/// cheap, and only distinct callers are ever turned into text.
pub struct CallerCodes {
    columns: [CategoricalText; 4],
}

impl CallerCodes {
    pub fn read(frame: &DataFrame) -> PolarsResult<CallerCodes> {
        let [a, b, c, d] = CALLER.map(|name| CategoricalText::of(frame, name));
        Ok(CallerCodes {
            columns: [a?, b?, c?, d?],
        })
    }

    pub fn code(&self, row: usize) -> CallerCode {
        std::array::from_fn(|c| self.columns[c].code(row))
    }

    fn text(&self, column: usize, code: Option<u32>) -> Option<&str> {
        self.columns[column].text(code?)
    }

    /// `(principal id, vault)` of a caller.
    pub fn caller(&self, code: &CallerCode) -> (String, String) {
        (
            principal_key(
                self.text(0, code[0]),
                self.text(1, code[1]),
                self.text(2, code[2]),
            ),
            self.text(3, code[3]).unwrap_or(UNKNOWN_VAULT).to_owned(),
        )
    }
}

/// The first and last event time of each vault (every event, challenges and
/// notifications included: they show the logs were flowing).
pub fn spans_of_vaults(events: &DataFrame) -> PolarsResult<HashMap<String, (i64, i64)>> {
    vault_spans(&vault_windows(events)?)
}

/// Row indices of each (principal, vault)'s authenticated events in time
/// order, to find the events behind a window for a finding's evidence.
/// Objects stay categorical codes: one string per event would cost more
/// than the events frame itself.
#[derive(Default)]
pub struct EventIndex {
    by_caller: HashMap<(String, String), Vec<CodedEvent>>,
    objects: Option<Arc<CategoricalMapping>>,
}

/// Time, object code and row of one event.
type CodedEvent = (i64, Option<u32>, IdxSize);

impl std::fmt::Debug for EventIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventIndex")
            .field("callers", &self.by_caller.len())
            .finish()
    }
}

impl EventIndex {
    pub fn build(authenticated: &DataFrame) -> PolarsResult<EventIndex> {
        let callers = CallerCodes::read(authenticated)?;
        let objects = CategoricalText::of(authenticated, "object")?;
        let time = authenticated.column("t")?.cast(&DataType::Int64)?;
        let time = time.i64()?.rechunk();
        let rows = authenticated.column("row")?.cast(&IDX_DTYPE)?;
        let rows = rows.idx()?;
        let mut by_code: HashMap<CallerCode, Vec<CodedEvent>> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let (Some(t), Some(row)) = (time.get(i), row) else {
                continue;
            };
            by_code
                .entry(callers.code(i))
                .or_default()
                .push((t, objects.code(i), row));
        }
        let mut by_caller: HashMap<(String, String), Vec<CodedEvent>> = HashMap::new();
        for (code, events) in by_code {
            by_caller
                .entry(callers.caller(&code))
                .or_default()
                .extend(events);
        }
        for events in by_caller.values_mut() {
            events.sort_unstable_by_key(|e| (e.0, e.2));
        }
        Ok(EventIndex {
            by_caller,
            objects: Some(objects.mapping().clone()),
        })
    }

    /// Rows of the caller's events in `[start, end)`, on `object` when given.
    pub fn rows(
        &self,
        principal: &str,
        vault: &str,
        start: i64,
        end: i64,
        object: Option<&str>,
    ) -> Vec<IdxSize> {
        let Some(events) = self
            .by_caller
            .get(&(principal.to_owned(), vault.to_owned()))
        else {
            return Vec::new();
        };
        let code = match object {
            None => None,
            Some(name) => match self.objects.as_ref().and_then(|m| m.get_cat(name)) {
                Some(code) => Some(code),
                None => return Vec::new(),
            },
        };
        let from = events.partition_point(|e| e.0 < start);
        events[from..]
            .iter()
            .take_while(|e| e.0 < end)
            .filter(|e| code.is_none() || e.1 == code)
            .map(|e| e.2)
            .collect()
    }
}
