//! Judging one principal's grant on one vault: the findings, the rows of
//! `unused-permissions.csv` and the recommended grant.

use std::collections::{BTreeMap, BTreeSet};

use crate::analyze::policy::entities::EventEntities;
use crate::analyze::policy::findings::{GrantActivity, RuleInfo, Who};
use crate::analyze::policy::{Category, Finding, Severity};
use crate::ingest::inventory::{Inventory, VaultInventory};
use crate::ingest::time::format_time;
use crate::text::noun;

use super::grants::Grant;
use super::map::{ApPermission, PermissionMap};
use super::recommend;
use super::usage::{OpUse, Window};
use super::{
    DORMANT_RULE, ESCALATION_RULE, NO_DATA_RULE, PrivilegeAnalysis, UNUSED_RULE, UnusedPermission,
    who,
};

pub(super) fn rule(
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
pub(super) fn is_metadata_read(permission: &str) -> bool {
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

pub(super) fn round1(days: f64) -> f64 {
    (days * 10.0).round() / 10.0
}

/// Everything needed to judge one vault.
pub(super) struct VaultContext<'a> {
    pub(super) vault: &'a VaultInventory,
    pub(super) window: Window,
    pub(super) provisional: bool,
    pub(super) min_days: u32,
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

pub(super) fn model(vault: &VaultInventory) -> &'static str {
    match vault.rbac {
        Some(true) => "rbac",
        Some(false) => "access-policy",
        None => "unknown",
    }
}

/// The principal's activity in a vault: operations with counts, first and last use.
pub(super) fn activity(
    used: Option<&BTreeMap<String, OpUse>>,
    window: &Window,
) -> (GrantActivity, String) {
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

/// A vault without one event: its grants are listed, never judged.
pub(super) fn no_data(
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
            "Vault `{}` has {} {} in the inventory and no event in the logs: no recommendation is made.",
            vault.name,
            people.len(),
            noun(
                people.len() as u64,
                "principal with a grant",
                "principals with grants"
            )
        ),
    ));
}

/// Anyone who can write an access-policy vault can write themselves an access policy.
pub(super) fn escalation(
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

pub(super) fn access_policy(
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

pub(super) fn rbac(
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
