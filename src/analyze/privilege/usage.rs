//! What the events say each identity used, per vault, and the period each
//! vault's logs cover.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::analyze::columns::{counts, integers, is_success, strings, vault_windows};

/// One operation's use by one principal in one vault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpUse {
    /// Every call, successful or not: an attempt shows the permission is wanted.
    pub calls: u64,
    pub successes: u64,
    /// Nanoseconds since the epoch, UTC.
    pub first_ns: i64,
    pub last_ns: i64,
}

/// The period a vault's logs cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub first_ns: i64,
    pub last_ns: i64,
    pub events: u64,
}

impl Window {
    /// Length of the observed period, in days.
    pub fn days(&self) -> f64 {
        (self.last_ns - self.first_ns) as f64 / 86_400e9
    }
}

/// Use per (principal object id, vault) and the window of each vault.
#[derive(Debug, Clone, Default)]
pub struct UsageTable {
    /// (object id, vault) -> operation -> use. Callers without an object id
    /// (the unauthenticated challenge, Key Vault's own notifications) hold no grant.
    pub by_principal: BTreeMap<(String, String), BTreeMap<String, OpUse>>,
    pub windows: BTreeMap<String, Window>,
}

impl UsageTable {
    pub fn from_events(events: &DataFrame) -> PolarsResult<UsageTable> {
        let mut table = UsageTable::default();
        if events.height() == 0 {
            return Ok(table);
        }
        let grouped = events
            .clone()
            .lazy()
            .filter(
                col("principal_id")
                    .is_not_null()
                    .and(col("vault").is_not_null()),
            )
            .group_by([col("principal_id"), col("vault"), col("operation")])
            .agg([
                len().alias("calls"),
                is_success().cast(DataType::UInt32).sum().alias("successes"),
                col("time").min().cast(DataType::Int64).alias("first"),
                col("time").max().cast(DataType::Int64).alias("last"),
            ])
            .collect()?;
        table.add_uses(&grouped)?;

        table.add_windows(&vault_windows(events)?)?;
        Ok(table)
    }

    /// Adds rows of use: `principal_id`, `vault`, `operation`, `calls`,
    /// `successes`, `first`, `last` (ns), one row per principal, vault and
    /// operation not already in the table.
    pub fn add_uses(&mut self, grouped: &DataFrame) -> PolarsResult<()> {
        let principals = strings(grouped.column("principal_id")?)?;
        let vaults = strings(grouped.column("vault")?)?;
        let operations = strings(grouped.column("operation")?)?;
        let calls = counts(grouped.column("calls")?)?;
        let successes = counts(grouped.column("successes")?)?;
        let firsts = integers(grouped.column("first")?)?;
        let lasts = integers(grouped.column("last")?)?;
        for i in 0..grouped.height() {
            let (Some(p), Some(v), Some(op)) = (&principals[i], &vaults[i], &operations[i]) else {
                continue;
            };
            self.by_principal
                .entry((p.clone(), v.clone()))
                .or_default()
                .insert(
                    op.clone(),
                    OpUse {
                        calls: calls[i],
                        successes: successes[i],
                        first_ns: firsts[i].unwrap_or(0),
                        last_ns: lasts[i].unwrap_or(0),
                    },
                );
        }

        Ok(())
    }

    /// Adds vault windows: `vault`, `events`, `first`, `last` (ns), as
    /// [`vault_windows`] makes them; the null vault's row is left out.
    pub fn add_windows(&mut self, windows: &DataFrame) -> PolarsResult<()> {
        let vaults = strings(windows.column("vault")?)?;
        let events_n = counts(windows.column("events")?)?;
        let firsts = integers(windows.column("first")?)?;
        let lasts = integers(windows.column("last")?)?;
        for i in 0..windows.height() {
            if let Some(v) = &vaults[i] {
                self.windows.insert(
                    v.clone(),
                    Window {
                        first_ns: firsts[i].unwrap_or(0),
                        last_ns: lasts[i].unwrap_or(0),
                        events: events_n[i],
                    },
                );
            }
        }
        Ok(())
    }

    /// The table as the two frames [`Self::add_uses`] and
    /// [`Self::add_windows`] read, to store it.
    pub fn to_frames(&self) -> PolarsResult<(DataFrame, DataFrame)> {
        let uses: Vec<(&(String, String), &String, &OpUse)> = self
            .by_principal
            .iter()
            .flat_map(|(key, ops)| ops.iter().map(move |(op, u)| (key, op, u)))
            .collect();
        let uses = df!(
            "principal_id" => uses.iter().map(|(k, _, _)| k.0.as_str()).collect::<Vec<_>>(),
            "vault" => uses.iter().map(|(k, _, _)| k.1.as_str()).collect::<Vec<_>>(),
            "operation" => uses.iter().map(|(_, op, _)| op.as_str()).collect::<Vec<_>>(),
            "calls" => uses.iter().map(|(_, _, u)| u.calls).collect::<Vec<_>>(),
            "successes" => uses.iter().map(|(_, _, u)| u.successes).collect::<Vec<_>>(),
            "first" => uses.iter().map(|(_, _, u)| u.first_ns).collect::<Vec<_>>(),
            "last" => uses.iter().map(|(_, _, u)| u.last_ns).collect::<Vec<_>>(),
        )?;
        let windows = df!(
            "vault" => self.windows.keys().map(String::as_str).collect::<Vec<_>>(),
            "events" => self.windows.values().map(|w| w.events).collect::<Vec<_>>(),
            "first" => self.windows.values().map(|w| w.first_ns).collect::<Vec<_>>(),
            "last" => self.windows.values().map(|w| w.last_ns).collect::<Vec<_>>(),
        )?;
        Ok((uses, windows))
    }

    /// Adds the use in `other` (another period's events) to this table.
    pub fn absorb(&mut self, other: &UsageTable) {
        for (key, uses) in &other.by_principal {
            let mine = self.by_principal.entry(key.clone()).or_default();
            for (operation, used) in uses {
                mine.entry(operation.clone())
                    .and_modify(|u| {
                        u.calls += used.calls;
                        u.successes += used.successes;
                        u.first_ns = u.first_ns.min(used.first_ns);
                        u.last_ns = u.last_ns.max(used.last_ns);
                    })
                    .or_insert(*used);
            }
        }
        for (vault, window) in &other.windows {
            self.windows
                .entry(vault.clone())
                .and_modify(|w| {
                    w.first_ns = w.first_ns.min(window.first_ns);
                    w.last_ns = w.last_ns.max(window.last_ns);
                    w.events += window.events;
                })
                .or_insert(*window);
        }
    }

    /// What one principal did in one vault (empty when nothing).
    pub fn of(&self, principal: &str, vault: &str) -> Option<&BTreeMap<String, OpUse>> {
        self.by_principal
            .get(&(principal.to_owned(), vault.to_owned()))
    }
}
