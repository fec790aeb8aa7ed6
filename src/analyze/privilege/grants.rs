//! What each principal may do in each vault, from the inventory, expanded
//! through the permission map.

use std::collections::{BTreeMap, BTreeSet};

use crate::ingest::inventory::{Inventory, RoleAssignment, VaultInventory};

use super::map::{ApPermission, ObjectKind, PermissionMap, Role};

/// A role assignment that applies to a vault, with its definition when the
/// map knows it (built-in roles).
#[derive(Debug, Clone)]
pub struct AppliedRole<'a> {
    pub assignment: &'a RoleAssignment,
    pub role: Option<&'a Role>,
}

impl AppliedRole<'_> {
    /// The role's name as the inventory printed it, else the map's.
    pub fn name(&self) -> String {
        if !self.assignment.role_definition_name.is_empty() {
            self.assignment.role_definition_name.clone()
        } else if let Some(role) = self.role {
            role.name.clone()
        } else {
            self.assignment
                .role_definition_id
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned()
        }
    }

    pub fn grants_data(&self) -> bool {
        self.role.is_some_and(|r| !r.data_actions.is_empty())
    }
}

/// Everything one principal holds on one vault.
#[derive(Debug, Clone, Default)]
pub struct Grant<'a> {
    /// Access-policy permissions (expanded, `all` resolved); only on vaults
    /// that use access policies.
    pub access_policy: BTreeSet<ApPermission>,
    /// The policy entry's application id (compound identity), if any.
    pub application_id: Option<String>,
    /// Permission names the map does not know, as printed (`keys:frobnicate`).
    pub unknown_permissions: Vec<String>,
    pub roles: Vec<AppliedRole<'a>>,
}

impl Grant<'_> {
    /// Data actions of the built-in roles held (RBAC vaults).
    pub fn data_actions(&self) -> BTreeSet<String> {
        self.roles
            .iter()
            .filter_map(|r| r.role)
            .flat_map(|r| r.data_actions.iter().cloned())
            .collect()
    }

    /// Roles whose definition the map does not know (custom roles).
    pub fn unknown_roles(&self) -> Vec<String> {
        self.roles
            .iter()
            .filter(|r| r.role.is_none())
            .map(AppliedRole::name)
            .collect()
    }

    /// Roles that can rewrite the vault (and so its access policies).
    pub fn vault_writers(&self) -> Vec<&AppliedRole<'_>> {
        self.roles
            .iter()
            .filter(|r| r.role.is_some_and(Role::can_write_vault))
            .collect()
    }
}

/// Every principal's grant on one vault, by lower-case object id.
pub fn grants_on<'a>(
    inventory: &'a Inventory,
    vault: &'a VaultInventory,
    map: &'a PermissionMap,
) -> BTreeMap<String, Grant<'a>> {
    let mut grants: BTreeMap<String, Grant<'a>> = BTreeMap::new();
    if vault.rbac == Some(false) {
        for policy in &vault.access_policies {
            let grant = grants.entry(policy.object_id.clone()).or_default();
            if policy.application_id.is_some() {
                grant.application_id = policy.application_id.clone();
            }
            for (list, names) in &policy.permissions {
                for name in names {
                    let expanded = ObjectKind::parse(list)
                        .map(|kind| map.expand_access_policy(kind, name))
                        .unwrap_or_default();
                    if expanded.is_empty() {
                        grant.unknown_permissions.push(format!("{list}:{name}"));
                    }
                    grant.access_policy.extend(expanded);
                }
            }
        }
    }
    for assignment in inventory.assignments_for(vault) {
        let role = map.role(
            &assignment.role_definition_id,
            &assignment.role_definition_name,
        );
        grants
            .entry(assignment.principal_id.clone())
            .or_default()
            .roles
            .push(AppliedRole { assignment, role });
    }
    grants
}
