//! Rotation: objects Key Vault reported near or past their expiry with no
//! new version written afterwards, and secrets read for longer than the
//! maximum age without a new version.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Serialize;

use super::events::{callers, one_of};
use super::windows::DAY_NS;
use crate::analyze::columns::{integers, is_success, strings};
use crate::analyze::policy::model::{CERTIFICATE, KEY, SECRET};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryEvent {
    NearExpiry,
    Expired,
    Stale,
}

impl ExpiryEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NearExpiry => "near-expiry",
            Self::Expired => "expired",
            Self::Stale => "stale",
        }
    }
}

/// One object due for rotation.
#[derive(Debug, Clone, Serialize)]
pub struct Expiry {
    pub event: ExpiryEvent,
    pub principal: String,
    pub vault: String,
    /// Cedar entity type: `Secret`, `Key` or `Certificate`.
    pub entity_type: &'static str,
    pub object: String,
    /// The notification (or, when stale, the last read), ns since the epoch.
    pub time: i64,
    pub expires: Option<i64>,
    pub renewed: bool,
    pub logged_days: i64,
    /// The notification's row in the events frame.
    pub row: Option<IdxSize>,
}

const NOTIFICATIONS: [&str; 6] = [
    "SecretNearExpiryEventGridNotification",
    "SecretExpiredEventGridNotification",
    "KeyNearExpiryEventGridNotification",
    "KeyExpiredEventGridNotification",
    "CertificateNearExpiryEventGridNotification",
    "CertificateExpiredEventGridNotification",
];

/// Operations that write a new version of an object.
const NEW_VERSION: [&str; 8] = [
    "SecretSet",
    "KeyCreate",
    "KeyImport",
    "KeyRotate",
    "CertificateCreate",
    "CertificateImport",
    "CertificateRenew",
    "CertificatePendingMerge",
];

fn entity_type(operation: &str) -> Option<&'static str> {
    if operation.starts_with("Secret") {
        Some(SECRET)
    } else if operation.starts_with("Key") {
        Some(KEY)
    } else if operation.starts_with("Certificate") {
        Some(CERTIFICATE)
    } else {
        None
    }
}

/// The events the rotation analysis reads: expiry notifications, and
/// successful new versions and (when `reads`) secret reads.
fn rotation_relevant(reads: bool) -> Expr {
    one_of("operation", &NOTIFICATIONS)
        .or(is_success().and(
            one_of("operation", &NEW_VERSION).or(col("operation")
                .cast(DataType::String)
                .eq(lit("SecretGet"))
                .and(lit(reads))),
        ))
        .and(col("object_name").is_not_null())
}

/// What the rotation analysis needs of events the job no longer keeps:
/// every notification and new version, and each secret's last read.
pub fn rotation_history(events: &DataFrame) -> PolarsResult<DataFrame> {
    let read = col("operation").cast(DataType::String).eq(lit("SecretGet"));
    let last_read = col("time")
        .filter(read.clone())
        .max()
        .over([col("vault"), col("object_name")])?;
    events
        .clone()
        .lazy()
        .filter(rotation_relevant(true))
        .filter(read.not().or(col("time").eq(last_read)))
        .collect()
}

/// Every object due for rotation, in time order. `older` holds what
/// [`rotation_history`] kept of events before the frame (no evidence rows).
pub fn expiries(
    events: &DataFrame,
    older: Option<&DataFrame>,
    spans: &HashMap<String, (i64, i64)>,
    max_secret_age_days: i64,
) -> PolarsResult<Vec<Expiry>> {
    // Reads matter only for stale secrets, which need logs longer than the
    // maximum age: most audits skip reading them.
    let stale_possible = spans
        .values()
        .any(|(first, last)| (last - first) / DAY_NS > max_secret_age_days);
    let select = |frame: &DataFrame, row: Expr| {
        let expires = if frame.schema().contains("expires") {
            col("expires").cast(DataType::Int64)
        } else {
            lit(NULL).cast(DataType::Int64)
        };
        frame
            .clone()
            .lazy()
            .with_row_index("row", None)
            .filter(rotation_relevant(stale_possible))
            .select([
                col("time").cast(DataType::Int64).alias("t"),
                col("principal_id").cast(DataType::String),
                col("app_id").cast(DataType::String),
                col("identity_kind").cast(DataType::String),
                col("vault").cast(DataType::String),
                col("operation").cast(DataType::String),
                col("object_name").cast(DataType::String).alias("object"),
                expires.alias("expires"),
                row.alias("row"),
            ])
    };
    let mut parts = vec![select(events, col("row").cast(IDX_DTYPE))];
    if let Some(older) = older {
        parts.push(select(older, lit(NULL).cast(IDX_DTYPE)));
    }
    let frame = concat(parts, UnionArgs::default())?
        .sort(
            ["t"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let time = integers(frame.column("t")?)?;
    let callers = callers(&frame)?;
    let operation = strings(frame.column("operation")?)?;
    let object = strings(frame.column("object")?)?;
    let expires = integers(frame.column("expires")?)?;
    let rows = frame.column("row")?.cast(&IDX_DTYPE)?;
    let rows = rows.idx()?;

    // Last new version, last read (and its reader) of each object.
    type ObjectKey = (String, &'static str, String);
    let mut last_written: HashMap<ObjectKey, i64> = HashMap::new();
    let mut last_read: BTreeMap<ObjectKey, (i64, String)> = BTreeMap::new();
    let mut notified = Vec::new();
    for i in 0..frame.height() {
        let (p, v) = &callers[i];
        let (Some(t), Some(op), Some(name)) = (time[i], &operation[i], &object[i]) else {
            continue;
        };
        let Some(kind) = entity_type(op) else {
            continue;
        };
        let key = (v.clone(), kind, name.clone());
        if NEW_VERSION.contains(&op.as_str()) {
            last_written.insert(key, t);
        } else if op == "SecretGet" {
            last_read.insert(key, (t, p.clone()));
        } else {
            let event = if op.contains("NearExpiry") {
                ExpiryEvent::NearExpiry
            } else {
                ExpiryEvent::Expired
            };
            notified.push((key, event, t, p.clone(), expires[i], rows.get(i)));
        }
    }
    let logged_days = |vault: &str| {
        spans
            .get(vault)
            .map_or(0, |(first, last)| (last - first) / DAY_NS)
    };
    let mut found: Vec<Expiry> = notified
        .into_iter()
        .map(
            |((vault, kind, object), event, t, principal, expires, row)| {
                let renewed = last_written
                    .get(&(vault.clone(), kind, object.clone()))
                    .is_some_and(|&w| w > t);
                Expiry {
                    event,
                    principal,
                    logged_days: logged_days(&vault),
                    vault,
                    entity_type: kind,
                    object,
                    time: t,
                    expires,
                    renewed,
                    row,
                }
            },
        )
        .collect();
    for ((vault, kind, object), (t, reader)) in last_read {
        let days = logged_days(&vault);
        if days > max_secret_age_days
            && !last_written.contains_key(&(vault.clone(), kind, object.clone()))
        {
            found.push(Expiry {
                event: ExpiryEvent::Stale,
                principal: reader,
                vault,
                entity_type: kind,
                object,
                time: t,
                expires: None,
                renewed: false,
                logged_days: days,
                row: None,
            });
        }
    }
    found.sort_by(|a, b| (a.time, &a.vault, &a.object).cmp(&(b.time, &b.vault, &b.object)));
    Ok(found)
}
