//! Least privilege: what identities were granted (the inventory) against
//! what they used (the events).
//!
//! - [`map`]: operations to access-policy permissions and RBAC actions, roles;
//! - [`usage`]: what each principal used per vault, and each vault's window;
//! - [`grants`]: what each principal holds per vault;
//! - `judge`: one principal's grant on one vault against its use: findings and CSV rows;
//! - [`recommend`]: the recommended grant as `az` commands;
//! - [`baseline`]: Cedar baseline policies from observed use.
//!
//! A permission counts as used when the principal called an operation that
//! needs it, successfully or not (an attempt shows it is wanted). Findings:
//! `unused-permission` (granted, never used, with the smallest grant that
//! covers the use), `dormant-grant` (a grant and no activity at all),
//! `access-policy-escalation` (can write an access-policy vault, so can grant
//! itself data access) and, for a vault without a single event,
//! `unused-permission-no-data`: kvaudit never recommends removing
//! everything because it saw nothing. Below `min_observation_days` of logs
//! for a vault, its recommendations are marked provisional.
//!
//! Grants to groups are not judged: group membership is not in the logs.

pub mod baseline;
pub mod grants;
mod judge;
pub mod map;
pub mod recommend;
pub mod usage;

use std::collections::BTreeSet;

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::analyze::policy::Finding;
use crate::analyze::policy::entities::EventEntities;
use crate::analyze::policy::findings::{Who, sort_findings};
use crate::ingest::inventory::Inventory;
use crate::ingest::time::format_time;

use grants::{Grant, grants_on};
use judge::{VaultContext, access_policy, escalation, model, no_data, rbac, round1};
use map::PermissionMap;
use usage::UsageTable;

pub const UNUSED_RULE: &str = "unused-permission";
pub const DORMANT_RULE: &str = "dormant-grant";
pub const ESCALATION_RULE: &str = "access-policy-escalation";
pub const NO_DATA_RULE: &str = "unused-permission-no-data";
/// Every rule of this stage (its findings are not Cedar's).
pub const RULES: [&str; 4] = [UNUSED_RULE, DORMANT_RULE, ESCALATION_RULE, NO_DATA_RULE];

/// Default minimum period of logs before a recommendation is firm.
pub const DEFAULT_MIN_OBSERVATION_DAYS: u32 = 30;

#[derive(Debug, Clone)]
pub struct PrivilegeOptions {
    pub min_observation_days: u32,
}

impl Default for PrivilegeOptions {
    fn default() -> Self {
        Self {
            min_observation_days: DEFAULT_MIN_OBSERVATION_DAYS,
        }
    }
}

/// What the report says about one inventoried vault.
#[derive(Debug, Clone, Serialize)]
pub struct VaultObservation {
    pub vault: String,
    /// `rbac`, `access-policy`, or `unknown` (the export had no properties).
    pub permission_model: &'static str,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Length of the observed period, days, one decimal.
    pub observed_days: f64,
    pub events: u64,
    /// Fewer days than the minimum: recommendations are provisional.
    pub provisional: bool,
    /// Principals (not groups) with a grant.
    pub principals_with_grants: usize,
    /// Grants to groups, not judged (membership is not in the logs).
    pub group_grants: usize,
    /// Roles the permission map does not know (custom roles), not judged.
    pub unknown_roles: Vec<String>,
    /// Callers with successful data-plane calls and no grant in the
    /// inventory (group members, or assignments outside the export).
    pub callers_without_grant: usize,
}

/// One row of `unused-permissions.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnusedPermission {
    pub vault: String,
    pub permission_model: &'static str,
    pub principal: String,
    pub principal_name: String,
    pub principal_kind: String,
    /// `secrets:list` (access policies) or an RBAC data action.
    pub permission: String,
    /// `access policy`, or the role names that grant it.
    pub granted_by: String,
    /// `unused` (the principal was active, never needed this), `dormant`
    /// (no activity at all), `no-data` (no events for the vault: not judged).
    pub status: &'static str,
    pub observed_from: String,
    pub observed_to: String,
    pub observed_days: f64,
    pub provisional: bool,
    pub recommendation: String,
    /// The finding the row belongs to; "" for permissions listed without one
    /// (no narrower built-in role exists and only metadata reads are unused).
    pub finding_rule: &'static str,
}

/// The least-privilege part of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PrivilegeAnalysis {
    pub findings: Vec<Finding>,
    pub unused: Vec<UnusedPermission>,
    pub vaults: Vec<VaultObservation>,
    /// Inventory warnings, and vaults the logs name that the inventory lacks.
    pub warnings: Vec<String>,
    pub min_observation_days: u32,
}

/// Who a principal is: names from the directory listings, the events, the assignments.
pub(super) fn who(
    oid: &str,
    inventory: &Inventory,
    facts: &EventEntities,
    grant: &Grant<'_>,
) -> Who {
    let listed = inventory.principals.get(oid);
    let seen = facts.identities.get(oid);
    let name = listed
        .map(|p| p.display_name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| seen.map(|f| f.name.clone()).filter(|n| !n.is_empty()))
        .or_else(|| {
            grant
                .roles
                .iter()
                .find_map(|r| r.assignment.principal_name.clone())
        });
    let kind = seen
        .map(|f| f.kind.clone())
        .filter(|k| !k.is_empty() && k != "unknown")
        .or_else(|| listed.map(|p| p.kind.clone()))
        .or_else(|| {
            grant.roles.first().map(|r| {
                crate::ingest::inventory::kind_of_principal_type(&r.assignment.principal_type)
                    .to_owned()
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    Who {
        key: oid.to_owned(),
        object_id: Some(oid.to_owned()),
        name,
        kind,
    }
}

fn is_group(oid: &str, inventory: &Inventory, grant: &Grant<'_>) -> bool {
    inventory
        .principals
        .get(oid)
        .is_some_and(|p| p.kind == "group")
        || grant.roles.iter().any(|r| {
            r.assignment
                .principal_type
                .to_ascii_lowercase()
                .ends_with("group")
        })
}

/// Whether `principal` (an object id) holds any grant on `vault` in the
/// inventory: an access-policy entry or a role assignment in its scope.
/// The scheduled job asks it of a least-privilege finding no longer raised,
/// to say whether the grant was removed or only narrowed.
pub fn holds_grant(inventory: &Inventory, principal: &str, vault: &str) -> bool {
    let Some(vault) = inventory.vaults.get(&vault.to_ascii_lowercase()) else {
        return false;
    };
    grants_on(inventory, vault, PermissionMap::get()).contains_key(&principal.to_ascii_lowercase())
}

/// Judges every inventoried vault.
pub fn analyze(
    events: &DataFrame,
    inventory: &Inventory,
    options: &PrivilegeOptions,
) -> anyhow::Result<PrivilegeAnalysis> {
    analyze_after(events, inventory, options, &UsageTable::default())
}

/// [`analyze`] with the permission use of older events (`prior`, the
/// scheduled job's history) added to what the frame shows.
pub fn analyze_after(
    events: &DataFrame,
    inventory: &Inventory,
    options: &PrivilegeOptions,
    prior: &UsageTable,
) -> anyhow::Result<PrivilegeAnalysis> {
    let mut usage = UsageTable::from_events(events)?;
    usage.absorb(prior);
    analyze_usage(events, inventory, options, &usage)
}

/// [`analyze`] with the permission use given: under `--pushdown` it comes
/// from the workspace (`queries/pushdown-usage.kql`), since the events frame
/// then holds only some events. `events` still names the callers.
pub fn analyze_usage(
    events: &DataFrame,
    inventory: &Inventory,
    options: &PrivilegeOptions,
    usage: &UsageTable,
) -> anyhow::Result<PrivilegeAnalysis> {
    let map = PermissionMap::get();
    let facts = EventEntities::from_events(events)?;
    let mut out = PrivilegeAnalysis {
        warnings: inventory.warnings.clone(),
        min_observation_days: options.min_observation_days,
        ..PrivilegeAnalysis::default()
    };
    for vault in usage.windows.keys() {
        if !inventory.vaults.contains_key(vault) {
            out.warnings.push(format!(
                "vault `{vault}` is in the logs but not in the inventory: its grants are not judged (add `az keyvault show --name {vault}` output)"
            ));
        }
    }
    for vault in inventory.vaults.values() {
        let grants = grants_on(inventory, vault, map);
        let (groups, people): (Vec<_>, Vec<_>) = grants
            .iter()
            .partition(|(oid, g)| is_group(oid, inventory, g));
        let mut observation = VaultObservation {
            vault: vault.name.clone(),
            permission_model: model(vault),
            first_seen: None,
            last_seen: None,
            observed_days: 0.0,
            events: 0,
            provisional: true,
            principals_with_grants: people.len(),
            group_grants: groups.len(),
            unknown_roles: grants
                .values()
                .flat_map(Grant::unknown_roles)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            callers_without_grant: 0,
        };
        let Some(window) = usage.windows.get(&vault.name).copied() else {
            no_data(vault, &people, inventory, &facts, &mut out);
            out.vaults.push(observation);
            continue;
        };
        let provisional = window.days() < f64::from(options.min_observation_days);
        observation.first_seen = Some(format_time(window.first_ns));
        observation.last_seen = Some(format_time(window.last_ns));
        observation.observed_days = round1(window.days());
        observation.events = window.events;
        observation.provisional = provisional;
        observation.callers_without_grant = usage
            .by_principal
            .iter()
            .filter(|((oid, v), ops)| {
                v == &vault.name
                    && !grants.contains_key(oid)
                    && ops.iter().any(|(op, u)| {
                        u.successes > 0
                            && map
                                .operation(op)
                                .is_some_and(|p| !p.management && p.access_policy.is_some())
                    })
            })
            .count();
        let ctx = VaultContext {
            vault,
            window,
            provisional,
            min_days: options.min_observation_days,
        };
        for (oid, grant) in people {
            let who = who(oid, inventory, &facts, grant);
            let used = usage.of(oid, &vault.name);
            match vault.rbac {
                Some(false) => {
                    escalation(&ctx, &who, grant, used, &mut out);
                    access_policy(&ctx, &who, grant, used, map, &mut out);
                }
                Some(true) => rbac(&ctx, &who, grant, used, map, &mut out),
                None => {}
            }
        }
        out.vaults.push(observation);
    }
    sort_findings(&mut out.findings);
    Ok(out)
}

#[cfg(test)]
mod tests;
