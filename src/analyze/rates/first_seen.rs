//! First sightings: an identity new to a vault, or an address, operation or
//! secret new to an identity in a vault, once a learning period has passed.
//!
//! Every fact is about an authenticated caller. An address is new when this
//! identity had not called the vault from it: the unauthenticated challenge
//! that precedes every token comes from the same address an instant before
//! the call and names nobody, and anyone can send one, so counting it would
//! let an address be made "known" without a credential and would report the
//! challenge (no identity) instead of who came. An identity's first call is
//! one finding, [`Fact::Identity`], whose address is its first call's: the
//! address of that same event is not also reported as new.

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;

use super::events::{CALLER, callers};
use super::windows::DAY_NS;
use crate::analyze::columns::{integers, strings};

/// What was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fact {
    Identity,
    Ip,
    Operation,
    Secret,
}

impl Fact {
    pub const ALL: [Fact; 4] = [Self::Identity, Self::Ip, Self::Operation, Self::Secret];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Ip => "ip",
            Self::Operation => "operation",
            Self::Secret => "secret",
        }
    }

    pub fn parse(s: &str) -> Option<Fact> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// One first-seen key: a fact about a vault, seen first at some time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sighting {
    pub vault: String,
    pub fact: Fact,
    /// The caller the fact is about. Empty only in [`Fact::Ip`] keys kept
    /// by a job state written before addresses were judged per identity:
    /// such a key says the address was known to the vault, whoever used it.
    pub principal: String,
    /// The address, operation or secret; the principal for [`Fact::Identity`].
    pub value: String,
}

/// One first sighting after the learning period.
#[derive(Debug, Clone, Serialize)]
pub struct FirstSeen {
    pub fact: Fact,
    /// The address, operation or secret; the principal for [`Fact::Identity`].
    pub value: String,
    pub principal: String,
    pub vault: String,
    /// The caller address of the first event, when logged (for
    /// [`Fact::Ip`], the value).
    pub address: Option<String>,
    /// ns since the epoch.
    pub time: i64,
    pub operation: String,
    pub success: bool,
    pub events: i64,
    pub days_logged_before: i64,
}

/// When each vault's learning period ends: its first event plus the
/// learning days, but (unless `fixed`) no more than a quarter of its logged
/// span, so a short audit still has days to find something new in, and
/// never less than a day.
pub fn learning_ends(
    spans: &HashMap<String, (i64, i64)>,
    learning_days: i64,
    fixed: bool,
) -> HashMap<String, i64> {
    spans
        .iter()
        .map(|(vault, &(first, last))| {
            let mut learning = learning_days * DAY_NS;
            if !fixed {
                learning = learning.min((last - first) / 4);
            }
            (vault.clone(), first + learning.max(DAY_NS))
        })
        .collect()
}

struct Sightings {
    callers: Vec<(String, String)>,
    value: Vec<Option<String>>,
    first: Vec<Option<i64>>,
    operation: Vec<Option<String>>,
    address: Vec<Option<String>>,
    success: Vec<Option<i64>>,
    events: Vec<Option<i64>>,
}

/// First event of each group of `keys` (the frame is in time order, and
/// polars keeps that order within a group); the caller is the first one's.
fn sightings(
    authenticated: &LazyFrame,
    keys: &[&str],
    value: &str,
    filter: Option<Expr>,
) -> PolarsResult<Sightings> {
    let mut frame = authenticated.clone();
    if let Some(filter) = filter {
        frame = frame.filter(filter);
    }
    let mut aggregates = vec![
        col("t").first().alias("first"),
        col("operation").first().alias("first_operation"),
        col("ip").first().alias("first_ip"),
        col("success")
            .first()
            .cast(DataType::Int64)
            .alias("first_success"),
        len().cast(DataType::Int64).alias("events"),
    ];
    aggregates.extend(
        CALLER
            .iter()
            .filter(|c| !keys.contains(c))
            .map(|c| col(*c).first().alias(*c)),
    );
    let frame = frame
        .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg(aggregates)
        .collect()?;
    Ok(Sightings {
        callers: callers(&frame)?,
        value: strings(frame.column(value)?)?,
        first: integers(frame.column("first")?)?,
        operation: strings(frame.column("first_operation")?)?,
        address: strings(frame.column("first_ip")?)?,
        success: integers(frame.column("first_success")?)?,
        events: integers(frame.column("events")?)?,
    })
}

fn caller_and(column: &'static str) -> [&'static str; 5] {
    [CALLER[0], CALLER[1], CALLER[2], CALLER[3], column]
}

/// The first sighting of every fact in the frame, per kind of fact.
fn all_sightings(authenticated: &LazyFrame) -> PolarsResult<[(Fact, Sightings); 4]> {
    let ip_present = col("ip").is_not_null();
    Ok([
        (
            Fact::Identity,
            sightings(authenticated, &CALLER, "vault", None)?,
        ),
        (
            Fact::Ip,
            sightings(authenticated, &caller_and("ip"), "ip", Some(ip_present))?,
        ),
        (
            Fact::Operation,
            sightings(authenticated, &caller_and("operation"), "operation", None)?,
        ),
        (
            Fact::Secret,
            sightings(
                authenticated,
                &caller_and("object"),
                "object",
                Some(col("secret_read").and(col("object").is_not_null())),
            )?,
        ),
    ])
}

impl Sightings {
    /// Sighting `i`'s key and time.
    fn key(&self, fact: Fact, i: usize) -> Option<(Sighting, i64)> {
        let (principal, vault) = &self.callers[i];
        // The identity fact's value is the principal itself.
        let value = match fact {
            Fact::Identity => principal.clone(),
            _ => self.value[i].clone()?,
        };
        let key = Sighting {
            vault: vault.clone(),
            fact,
            principal: principal.clone(),
            value,
        };
        Some((key, self.first[i]?))
    }
}

/// When each fact in the frame was first seen (what the job keeps of
/// events it no longer holds).
pub fn sightings_of(authenticated: &LazyFrame) -> PolarsResult<HashMap<Sighting, i64>> {
    let mut out: HashMap<Sighting, i64> = HashMap::new();
    for (fact, s) in all_sightings(authenticated)? {
        for i in 0..s.first.len() {
            if let Some((key, time)) = s.key(fact, i) {
                out.entry(key)
                    .and_modify(|t| *t = (*t).min(time))
                    .or_insert(time);
            }
        }
    }
    Ok(out)
}

/// When each (principal, vault) was first seen, from the identity sightings.
pub fn arrivals(sightings: &HashMap<Sighting, i64>) -> HashMap<(String, String), i64> {
    sightings
        .iter()
        .filter(|(key, _)| key.fact == Fact::Identity)
        .map(|(key, &time)| ((key.principal.clone(), key.vault.clone()), time))
        .collect()
}

/// Every first sighting after its vault's learning period, sorted by time.
/// Facts `prior` (earlier runs' sightings) holds are not new; its arrivals count as the
/// identities' first calls.
pub fn first_seen(
    authenticated: &LazyFrame,
    spans: &HashMap<String, (i64, i64)>,
    learning_ends: &HashMap<String, i64>,
    prior: &HashMap<Sighting, i64>,
) -> PolarsResult<Vec<FirstSeen>> {
    let groups = all_sightings(authenticated)?;
    // When each identity first called each vault.
    let mut arrived: HashMap<(String, String), i64> = HashMap::new();
    for ((principal, vault), t) in arrivals(prior) {
        arrived.insert((vault, principal), t);
    }
    let identities = &groups[0].1;
    for (i, (principal, vault)) in identities.callers.iter().enumerate() {
        if let Some(t) = identities.first[i] {
            let first = arrived
                .entry((vault.clone(), principal.clone()))
                .or_insert(t);
            *first = (*first).min(t);
        }
    }
    let known_before_learning_ended = |vault: &str, principal: &str| -> bool {
        match (
            arrived.get(&(vault.to_owned(), principal.to_owned())),
            learning_ends.get(vault),
        ) {
            (Some(t), Some(end)) => t < end,
            _ => false,
        }
    };
    let mut found = Vec::new();
    for (fact, s) in &groups {
        let fact = *fact;
        for i in 0..s.first.len() {
            let (principal, vault) = &s.callers[i];
            let Some((key, time)) = s.key(fact, i) else {
                continue;
            };
            if prior.get(&key).is_some_and(|&t| t <= time) {
                continue;
            }
            // A state written before addresses were per identity knows the
            // vault's addresses, not who used them: an address it holds is
            // not new to anyone.
            if fact == Fact::Ip
                && prior
                    .get(&Sighting {
                        principal: String::new(),
                        ..key.clone()
                    })
                    .is_some_and(|&t| t <= time)
            {
                continue;
            }
            let value = key.value;
            let (Some(&end), Some(&(vault_first, _))) =
                (learning_ends.get(vault), spans.get(vault))
            else {
                continue;
            };
            if time <= end {
                continue;
            }
            // An identity new to the vault is one finding, not one per
            // operation and secret it then uses.
            if matches!(fact, Fact::Operation | Fact::Secret)
                && !known_before_learning_ended(vault, principal)
            {
                continue;
            }
            // The address of a new identity's first call is in the identity
            // finding's message: the same event is not a second finding.
            if fact == Fact::Ip
                && arrived.get(&(vault.clone(), principal.clone())) == Some(&time)
                && !known_before_learning_ended(vault, principal)
            {
                continue;
            }
            found.push(FirstSeen {
                fact,
                value,
                principal: principal.clone(),
                vault: vault.clone(),
                address: s.address[i].clone(),
                time,
                operation: s.operation[i].clone().unwrap_or_default(),
                success: s.success[i] == Some(1),
                events: s.events[i].unwrap_or(0),
                days_logged_before: (time - vault_first) / DAY_NS,
            });
        }
    }
    found.sort_by(|a, b| {
        (a.time, &a.vault, &a.principal, a.fact.as_str(), &a.value).cmp(&(
            b.time,
            &b.vault,
            &b.principal,
            b.fact.as_str(),
            &b.value,
        ))
    });
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_is_capped_at_a_quarter_of_the_span() {
        let spans = HashMap::from([
            ("long".to_owned(), (0, 90 * DAY_NS)),
            ("week".to_owned(), (0, 7 * DAY_NS)),
        ]);
        let ends = learning_ends(&spans, 7, false);
        assert_eq!(ends["long"], 7 * DAY_NS);
        assert_eq!(ends["week"], 7 * DAY_NS / 4);
        let short = HashMap::from([("day".to_owned(), (0, DAY_NS))]);
        assert_eq!(learning_ends(&short, 7, false)["day"], DAY_NS);
        // The job's learning period does not shrink with a short span.
        assert_eq!(learning_ends(&spans, 7, true)["week"], 7 * DAY_NS);
    }

    /// Calls of `(t in days, principal, ip)` to vault `v`.
    fn calls(rows: &[(i64, &str, &str)]) -> LazyFrame {
        let n = rows.len();
        df!(
            "t" => rows.iter().map(|r| r.0 * DAY_NS).collect::<Vec<_>>(),
            "principal_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "app_id" => vec![None::<&str>; n],
            "identity_kind" => vec![None::<&str>; n],
            "vault" => vec!["v"; n],
            "operation" => vec!["SecretGet"; n],
            "object" => vec!["s"; n],
            "success" => vec![true; n],
            "secret_read" => vec![true; n],
            "ip" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    fn found(frame: &LazyFrame, prior: &HashMap<Sighting, i64>) -> Vec<(Fact, String, String)> {
        let spans = HashMap::from([("v".to_owned(), (0, 20 * DAY_NS))]);
        let ends = learning_ends(&spans, 2, true);
        first_seen(frame, &spans, &ends, prior)
            .unwrap()
            .into_iter()
            .map(|f| (f.fact, f.principal, f.address.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn addresses_are_new_per_identity_and_a_new_identity_is_one_finding() {
        let frame = calls(&[
            (0, "a", "10.0.0.1"),
            (0, "b", "10.0.0.2"),
            // b's address, new for a.
            (5, "a", "10.0.0.2"),
            // A new identity from a new address: one finding, with it.
            (6, "c", "203.0.113.9"),
        ]);
        assert_eq!(
            found(&frame, &HashMap::new()),
            [
                (Fact::Ip, "a".to_owned(), "10.0.0.2".to_owned()),
                (Fact::Identity, "c".to_owned(), "203.0.113.9".to_owned()),
            ]
        );
        // A state from before addresses were per identity (principal "")
        // knows the vault's addresses for everyone.
        let legacy = HashMap::from([(
            Sighting {
                vault: "v".to_owned(),
                fact: Fact::Ip,
                principal: String::new(),
                value: "10.0.0.2".to_owned(),
            },
            0,
        )]);
        assert_eq!(
            found(&frame, &legacy),
            [(Fact::Identity, "c".to_owned(), "203.0.113.9".to_owned())]
        );
    }
}
