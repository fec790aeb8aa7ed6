//! Least privilege: what identities were granted (the inventory) against
//! what they used (the events).
//!
//! - [`map`]: operations to access-policy permissions and RBAC actions, roles;
//! - [`usage`]: what each principal used per vault, and each vault's window;
//! - [`grants`]: what each principal holds per vault;
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
pub mod map;
pub mod recommend;
pub mod usage;

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::analyze::policy::entities::EventEntities;
use crate::analyze::policy::findings::{GrantActivity, RuleInfo, Who, sort_findings};
use crate::analyze::policy::{Category, Finding, Severity};
use crate::ingest::inventory::{Inventory, VaultInventory};
use crate::ingest::time::format_time;

use grants::{Grant, grants_on};
use map::{ApPermission, PermissionMap};
use usage::{OpUse, UsageTable, Window};

pub const UNUSED_RULE: &str = "unused-permission";
pub const DORMANT_RULE: &str = "dormant-grant";
pub const ESCALATION_RULE: &str = "access-policy-escalation";
pub const NO_DATA_RULE: &str = "unused-permission-no-data";

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

fn rule(
    id: &str,
    category: Category,
    severity: Severity,
    title: &str,
    remediation: String,
) -> RuleInfo {
    RuleInfo {
        id: id.to_owned(),
        category,
        severity,
        title: title.to_owned(),
        remediation,
    }
}

/// Reads (metadata and listings) are the least harmful permissions; any
/// other unused permission (values, writes, deletes, key use) raises severity.
fn is_metadata_read(permission: &str) -> bool {
    let p = permission.to_ascii_lowercase();
    if p.ends_with("/read") || p.ends_with("/readmetadata/action") {
        return true;
    }
    // Access policies: `get` of a key or certificate reads metadata and public
    // parts; `secrets:get` reads the value.
    match p.split_once(':') {
        Some(("secrets", name)) => name == "list",
        Some((_, name)) => matches!(
            name,
            "get" | "list" | "getrotationpolicy" | "getissuers" | "listissuers" | "listsas"
        ),
        None => false,
    }
}

fn round1(days: f64) -> f64 {
    (days * 10.0).round() / 10.0
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Everything needed to judge one vault.
struct VaultContext<'a> {
    vault: &'a VaultInventory,
    window: Window,
    provisional: bool,
    min_days: u32,
}

impl VaultContext<'_> {
    fn period(&self) -> String {
        format!(
            "{} days observed, {} to {}",
            round1(self.window.days()),
            format_time(self.window.first_ns),
            format_time(self.window.last_ns)
        )
    }

    /// Remediation text, with the provisional warning first when it applies.
    fn remediation(&self, text: String) -> String {
        if self.provisional {
            format!(
                "Provisional: only {} days of logs for this vault (minimum {}); confirm with a longer period before removing anything. {text}",
                round1(self.window.days()),
                self.min_days
            )
        } else {
            text
        }
    }

    /// An `unused-permission` category finding about one principal in this vault.
    fn finding(
        &self,
        (rule_id, severity, title): (&str, Severity, &str),
        who: &Who,
        activity: GrantActivity,
        message: String,
        advice: String,
    ) -> Finding {
        Finding::about_grant(
            rule(
                rule_id,
                Category::UnusedPermission,
                severity,
                &self.title(title),
                self.remediation(advice),
            ),
            who,
            &self.vault.name,
            activity,
            message,
        )
    }

    fn title(&self, title: &str) -> String {
        if self.provisional {
            format!("{title} (provisional)")
        } else {
            title.to_owned()
        }
    }

    fn row(
        &self,
        who: &Who,
        permission: String,
        granted_by: String,
        (status, finding_rule): (&'static str, &'static str),
        recommendation: &str,
    ) -> UnusedPermission {
        UnusedPermission {
            vault: self.vault.name.clone(),
            permission_model: model(self.vault),
            principal: who.key.clone(),
            principal_name: who.name.clone().unwrap_or_default(),
            principal_kind: who.kind.clone(),
            permission,
            granted_by,
            status,
            observed_from: format_time(self.window.first_ns),
            observed_to: format_time(self.window.last_ns),
            observed_days: round1(self.window.days()),
            provisional: self.provisional,
            recommendation: recommendation.to_owned(),
            finding_rule,
        }
    }
}

fn model(vault: &VaultInventory) -> &'static str {
    match vault.rbac {
        Some(true) => "rbac",
        Some(false) => "access-policy",
        None => "unknown",
    }
}

/// The principal's activity in a vault: operations with counts, first and last use.
fn activity(used: Option<&BTreeMap<String, OpUse>>, window: &Window) -> (GrantActivity, String) {
    let Some(used) = used.filter(|u| !u.is_empty()) else {
        return (
            GrantActivity {
                operations: Vec::new(),
                first_ns: window.first_ns,
                last_ns: window.last_ns,
                event_count: 0,
            },
            "nothing".to_owned(),
        );
    };
    let described = used
        .iter()
        .map(|(op, u)| format!("{op} ×{}", u.calls))
        .collect::<Vec<_>>()
        .join(", ");
    (
        GrantActivity {
            operations: used.keys().cloned().collect(),
            first_ns: used.values().map(|u| u.first_ns).min().unwrap_or(0),
            last_ns: used.values().map(|u| u.last_ns).max().unwrap_or(0),
            event_count: used.values().map(|u| u.calls).sum(),
        },
        described,
    )
}

/// Who a principal is: names from the directory listings, the events, the assignments.
fn who(oid: &str, inventory: &Inventory, facts: &EventEntities, grant: &Grant<'_>) -> Who {
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

/// Judges every inventoried vault.
pub fn analyze(
    events: &DataFrame,
    inventory: &Inventory,
    options: &PrivilegeOptions,
) -> anyhow::Result<PrivilegeAnalysis> {
    let map = PermissionMap::get();
    let usage = UsageTable::from_events(events)?;
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

/// A vault without one event: its grants are listed, never judged.
fn no_data(
    vault: &VaultInventory,
    people: &[(&String, &Grant<'_>)],
    inventory: &Inventory,
    facts: &EventEntities,
    out: &mut PrivilegeAnalysis,
) {
    if people.is_empty() {
        return;
    }
    let recommendation =
        "none: no events for this vault in the logs; check its diagnostic settings";
    for (oid, grant) in people {
        let who = who(oid, inventory, facts, grant);
        let mut permissions: Vec<(String, String)> = grant
            .access_policy
            .iter()
            .map(|p| (p.to_string(), "access policy".to_owned()))
            .collect();
        for r in &grant.roles {
            permissions.push((format!("role: {}", r.name()), r.assignment.scope.clone()));
        }
        for (permission, granted_by) in permissions {
            out.unused.push(UnusedPermission {
                vault: vault.name.clone(),
                permission_model: model(vault),
                principal: who.key.clone(),
                principal_name: who.name.clone().unwrap_or_default(),
                principal_kind: who.kind.clone(),
                permission,
                granted_by,
                status: "no-data",
                observed_from: String::new(),
                observed_to: String::new(),
                observed_days: 0.0,
                provisional: true,
                recommendation: recommendation.to_owned(),
                finding_rule: NO_DATA_RULE,
            });
        }
    }
    let nobody = Who {
        key: String::new(),
        object_id: None,
        name: None,
        kind: "none".to_owned(),
    };
    out.findings.push(Finding::about_grant(
        rule(
            NO_DATA_RULE,
            Category::UnusedPermission,
            Severity::Info,
            "No events for an inventoried vault: its grants were not judged",
            format!("Check that vault `{}` sends AuditEvent diagnostic logs to where they were collected, then audit a period with its logs. kvaudit does not call a grant unused without evidence.", vault.name),
        ),
        &nobody,
        &vault.name,
        GrantActivity::default(),
        format!(
            "Vault `{}` has {} in the inventory and no event in the logs: no recommendation is made.",
            vault.name,
            plural(people.len(), "principal with a grant", "principals with grants")
        ),
    ));
}

/// Anyone who can write an access-policy vault can write themselves an access policy.
fn escalation(
    ctx: &VaultContext<'_>,
    who: &Who,
    grant: &Grant<'_>,
    used: Option<&BTreeMap<String, OpUse>>,
    out: &mut PrivilegeAnalysis,
) {
    let writers = grant.vault_writers();
    if writers.is_empty() {
        return;
    }
    let roles = writers
        .iter()
        .map(|r| format!("{} (scope {})", r.name(), r.assignment.scope))
        .collect::<Vec<_>>()
        .join(", ");
    let (activity, described) = activity(used, &ctx.window);
    let wrote = used
        .map(|u| {
            u.iter()
                .filter(|(op, _)| matches!(op.as_str(), "VaultPut" | "VaultPatch"))
                .map(|(op, u)| format!("{op} ×{}", u.calls))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let name = who.name.clone().unwrap_or_else(|| who.key.clone());
    let mut message = format!(
        "{name} ({}) holds {roles} on vault `{}`, which uses access policies: vaults/write lets it add itself an access policy with any key, secret or certificate permission.",
        who.kind, ctx.vault.name
    );
    if !wrote.is_empty() {
        message.push_str(&format!(
            " It wrote the vault in the period: {}.",
            wrote.join(", ")
        ));
    }
    message.push_str(&format!(
        " Activity in the vault: {described} ({}).",
        ctx.period()
    ));
    let remediation = format!(
        "Move `{}` to the Azure RBAC permission model (migrate its access policies to role assignments, then `az keyvault update --name {} --enable-rbac-authorization true`), or narrow the role to one without Microsoft.KeyVault/vaults/write.",
        ctx.vault.name,
        recommend::shell_word(&ctx.vault.name)
    );
    out.findings.push(Finding::about_grant(
        rule(
            ESCALATION_RULE,
            Category::LeastPrivilege,
            Severity::High,
            "Can grant itself data access: vault write on an access-policy vault",
            remediation,
        ),
        who,
        &ctx.vault.name,
        activity,
        message,
    ));
}

fn access_policy(
    ctx: &VaultContext<'_>,
    who: &Who,
    grant: &Grant<'_>,
    used: Option<&BTreeMap<String, OpUse>>,
    map: &PermissionMap,
    out: &mut PrivilegeAnalysis,
) {
    if grant.access_policy.is_empty() {
        return;
    }
    let needed: BTreeSet<ApPermission> = used
        .into_iter()
        .flat_map(|u| u.keys())
        .filter_map(|op| map.operation(op)?.access_policy.clone())
        .collect();
    let unused: BTreeSet<ApPermission> = grant.access_policy.difference(&needed).cloned().collect();
    if unused.is_empty() {
        return;
    }
    let minimal: BTreeSet<ApPermission> =
        grant.access_policy.intersection(&needed).cloned().collect();
    let app = grant.application_id.as_deref();
    let (activity, described) = activity(used, &ctx.window);
    let dormant = activity.event_count == 0;
    let command = if minimal.is_empty() {
        recommend::delete_policy(&ctx.vault.name, &who.key, app)
    } else {
        recommend::replace_policy(&ctx.vault.name, &who.key, app, &minimal)
    };
    let sensitive = unused.iter().any(|p| !is_metadata_read(&p.to_string()));
    let severity = if sensitive {
        Severity::Medium
    } else {
        Severity::Low
    };
    let name = who.name.clone().unwrap_or_else(|| who.key.clone());
    let (rule_id, title, status, message, advice) = if dormant {
        (
            DORMANT_RULE,
            "Access policy with no activity",
            "dormant",
            format!(
                "{name} ({}) holds an access policy on vault `{}` ({}) and made no call to the vault ({}).",
                who.kind,
                ctx.vault.name,
                recommend::describe_permissions(&grant.access_policy),
                ctx.period()
            ),
            format!(
                "Remove the access policy if the identity no longer needs the vault: `{command}`"
            ),
        )
    } else {
        let keep = if minimal.is_empty() {
            "no data-plane permission (it used the vault's management plane only)".to_owned()
        } else {
            recommend::describe_permissions(&minimal)
        };
        (
            UNUSED_RULE,
            "Access-policy permissions granted and never used",
            "unused",
            format!(
                "{name} ({}) used {} of {} access-policy permissions on vault `{}` ({}): {described}. Never used: {}. Needed: {keep}.",
                who.kind,
                minimal.len(),
                grant.access_policy.len(),
                ctx.vault.name,
                ctx.period(),
                recommend::describe_permissions(&unused)
            ),
            format!("Keep only what was used: `{command}`"),
        )
    };
    for p in &unused {
        out.unused.push(ctx.row(
            who,
            p.to_string(),
            "access policy".to_owned(),
            (status, rule_id),
            &command,
        ));
    }
    out.findings
        .push(ctx.finding((rule_id, severity, title), who, activity, message, advice));
}

fn rbac(
    ctx: &VaultContext<'_>,
    who: &Who,
    grant: &Grant<'_>,
    used: Option<&BTreeMap<String, OpUse>>,
    map: &PermissionMap,
    out: &mut PrivilegeAnalysis,
) {
    let data_roles: Vec<_> = grant.roles.iter().filter(|r| r.grants_data()).collect();
    if data_roles.is_empty() {
        return;
    }
    let granted = grant.data_actions();
    let wanted: BTreeSet<String> = used
        .into_iter()
        .flat_map(|u| u.keys())
        .filter_map(|op| {
            let p = map.operation(op)?;
            (!p.management).then(|| p.rbac_action.clone()).flatten()
        })
        .collect();
    let needed: BTreeSet<String> = granted.intersection(&wanted).cloned().collect();
    let unused: BTreeSet<String> = granted.difference(&needed).cloned().collect();
    if unused.is_empty() {
        return;
    }
    let role_names = data_roles
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ");
    let granted_by = |action: &str| -> String {
        data_roles
            .iter()
            .filter(|r| {
                r.role
                    .is_some_and(|role| role.data_actions.contains(action))
            })
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let assignment_ids: Vec<&str> = data_roles
        .iter()
        .map(|r| r.assignment.id.as_str())
        .collect();
    let (activity, described) = activity(used, &ctx.window);
    let name = who.name.clone().unwrap_or_else(|| who.key.clone());
    let sensitive = unused.iter().any(|a| !is_metadata_read(a));
    let severity = if sensitive {
        Severity::Medium
    } else {
        Severity::Low
    };

    let smallest = map.smallest_role_covering(&needed);
    let current_is_smallest = data_roles.len() == 1
        && smallest.is_some_and(|s| data_roles[0].role.is_some_and(|r| r.id == s.id));
    let smaller_builtin = smallest
        .filter(|s| s.data_actions.is_subset(&granted) && s.data_actions.len() < granted.len());

    let (rule_id, title, status, message, advice, command) = if activity.event_count == 0 {
        let commands = recommend::replace_roles(&ctx.vault.id, &who.key, None, &assignment_ids);
        (
            DORMANT_RULE,
            "Role assignment with no activity",
            "dormant",
            format!(
                "{name} ({}) holds {role_names} on vault `{}` and made no call to the vault ({}).",
                who.kind,
                ctx.vault.name,
                ctx.period()
            ),
            format!(
                "Remove the role assignment(s) if the identity no longer needs the vault: `{}`",
                commands.join(" && ")
            ),
            commands.join(" && "),
        )
    } else if needed.is_empty() {
        let commands = recommend::replace_roles(&ctx.vault.id, &who.key, None, &assignment_ids);
        (
            UNUSED_RULE,
            "Data-plane role never used",
            "unused",
            format!(
                "{name} ({}) holds {role_names} on vault `{}` and used no data action of it ({}): {described}.",
                who.kind,
                ctx.vault.name,
                ctx.period()
            ),
            format!("Remove the data-plane role(s): `{}`", commands.join(" && ")),
            commands.join(" && "),
        )
    } else if current_is_smallest && !sensitive {
        // Only metadata reads unused, and no built-in role is narrower: a
        // custom role for that is not worth its upkeep. Listed, not a finding.
        let keep = format!("keep {role_names}: the smallest built-in role that covers the use");
        for a in &unused {
            out.unused
                .push(ctx.row(who, a.clone(), granted_by(a), ("unused", ""), &keep));
        }
        return;
    } else if let Some(role) = smaller_builtin {
        let commands = recommend::replace_roles(
            &ctx.vault.id,
            &who.key,
            Some(role.name.as_str()),
            &assignment_ids,
        );
        (
            UNUSED_RULE,
            "Role larger than the use: a smaller built-in role covers it",
            "unused",
            format!(
                "{name} ({}) holds {role_names} on vault `{}` and used {} of its {} data actions ({}): {described}. {} covers that use.",
                who.kind,
                ctx.vault.name,
                needed.len(),
                granted.len(),
                ctx.period(),
                role.name
            ),
            format!(
                "Replace {role_names} with {}: `{}`",
                role.name,
                commands.join(" && ")
            ),
            commands.join(" && "),
        )
    } else {
        let json = recommend::custom_role(&ctx.vault.name, &ctx.vault.id, &name, &needed);
        let role_name = format!("{} {name} (least privilege)", ctx.vault.name);
        let mut commands =
            vec!["az role definition create --role-definition @role.json".to_owned()];
        commands.extend(recommend::replace_roles(
            &ctx.vault.id,
            &who.key,
            Some(role_name.as_str()),
            &assignment_ids,
        ));
        (
            UNUSED_RULE,
            "Role larger than the use: no built-in role fits",
            "unused",
            format!(
                "{name} ({}) holds {role_names} on vault `{}` and used {} of its {} data actions ({}): {described}. No built-in role grants only these; a custom role does.",
                who.kind,
                ctx.vault.name,
                needed.len(),
                granted.len(),
                ctx.period()
            ),
            format!(
                "Create a custom role with exactly the used data actions (save as role.json), assign it, remove the old assignment(s): `{}`. role.json: {json}",
                commands.join(" && ")
            ),
            commands.join(" && "),
        )
    };
    // An assignment above the vault also grants on its siblings: say so
    // before anyone deletes it.
    let inherited: Vec<&str> = data_roles
        .iter()
        .map(|r| r.assignment.scope.as_str())
        .filter(|scope| !scope.eq_ignore_ascii_case(&ctx.vault.id))
        .collect();
    let advice = if inherited.is_empty() {
        advice
    } else {
        format!(
            "{advice} The role is assigned at {}, above the vault: removing it there also removes it from the other vaults under that scope.",
            inherited.join(", ")
        )
    };
    for a in &unused {
        out.unused
            .push(ctx.row(who, a.clone(), granted_by(a), (status, rule_id), &command));
    }
    out.findings
        .push(ctx.finding((rule_id, severity, title), who, activity, message, advice));
}

#[cfg(test)]
mod tests;
