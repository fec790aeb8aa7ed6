//! The inventory: what identities *may* do, from the JSON the Azure CLI
//! prints, unchanged.
//!
//! | Command | What kvaudit takes from it |
//! |---|---|
//! | `az keyvault show --name V` / `az keyvault list --resource-group RG` | name, id, tags, `enableRbacAuthorization`, access policies (object id, application id, key / secret / certificate / storage permissions), network default action |
//! | `az role assignment list --all --include-inherited` (or `--scope <vault id>`) | principal id and type, role definition id and name, scope |
//! | `az ad sp list ...` / `az ad user list ...` (optional) | display names and kinds of principals |
//!
//! Each file's shape is detected from its content: a JSON array of any of
//! these (or one object, as `az keyvault show` prints it, or a REST
//! `{"value": [...]}` page). A file kvaudit cannot read is an error naming
//! the file (and the line, for broken JSON) and the command that makes it.
//! `az keyvault list` without `--resource-group` prints vaults without their
//! `properties`: such a vault keeps its tags and is marked as having an
//! unknown permission model (a warning says what to run instead).

mod parse;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use parse::{kind_of_principal_type, parse_document};

/// One vault as the inventory describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VaultInventory {
    /// Lower case, as the normalised events spell vault names.
    pub name: String,
    /// ARM resource id as printed.
    pub id: String,
    pub resource_group: String,
    pub subscription: String,
    pub tags: BTreeMap<String, String>,
    /// `properties.enableRbacAuthorization`; None when the export had no properties.
    pub rbac: Option<bool>,
    pub access_policies: Vec<AccessPolicy>,
    /// `properties.networkAcls.defaultAction` (`Allow` / `Deny`), when present.
    pub network_default_action: Option<String>,
    /// File the vault came from.
    pub source: String,
}

/// One vault access policy entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessPolicy {
    /// Lower case.
    pub object_id: String,
    /// Compound identity: the user acting through this application.
    pub application_id: Option<String>,
    /// Permission lists by name (`keys`, `secrets`, `certificates`, `storage`),
    /// values as printed (case varies between tools).
    pub permissions: BTreeMap<String, Vec<String>>,
}

/// One role assignment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleAssignment {
    pub id: String,
    /// Lower case.
    pub principal_id: String,
    /// `User`, `Group`, `ServicePrincipal`, `ForeignGroup`, or "" when not printed.
    pub principal_type: String,
    pub principal_name: Option<String>,
    pub role_definition_id: String,
    pub role_definition_name: String,
    pub scope: String,
    pub source: String,
}

impl RoleAssignment {
    /// Whether the assignment's scope is the vault or above it (resource
    /// group, subscription, root). Management-group scopes cannot be placed
    /// from the inventory and are taken to apply to every vault.
    pub fn applies_to(&self, vault_id: &str) -> bool {
        let scope = self.scope.trim_end_matches('/').to_lowercase();
        let vault = vault_id.to_lowercase();
        scope.is_empty()
            || scope.starts_with("/providers/microsoft.management/managementgroups/")
            || vault == scope
            || vault
                .strip_prefix(&scope)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// A principal's display name and kind, from `az ad` listings or assignments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrincipalInfo {
    pub display_name: String,
    /// kvaudit's identity kinds: `user`, `service-principal`, `managed-identity`, `group`.
    pub kind: String,
}

/// What one inventory file held.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InventoryFile {
    pub name: String,
    /// `keyvault`, `role-assignments`, `service-principals`, `users`, `empty`.
    pub kind: &'static str,
    pub items: usize,
}

/// Everything read from the inventory files.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// By lower-case vault name.
    pub vaults: BTreeMap<String, VaultInventory>,
    pub assignments: Vec<RoleAssignment>,
    /// By lower-case object id.
    pub principals: BTreeMap<String, PrincipalInfo>,
    pub files: Vec<InventoryFile>,
    pub warnings: Vec<String>,
    /// Keys of the assignments kept, to drop the same one exported twice.
    seen_assignments: HashSet<String>,
}

/// One parsed file, before merging.
#[derive(Debug, Default)]
pub struct Document {
    pub vaults: Vec<VaultInventory>,
    pub assignments: Vec<RoleAssignment>,
    pub principals: Vec<(String, PrincipalInfo)>,
    pub kind: &'static str,
    pub items: usize,
    pub warnings: Vec<String>,
}

impl Inventory {
    pub fn is_empty(&self) -> bool {
        self.vaults.is_empty() && self.assignments.is_empty()
    }

    /// Reads files, and the `.json` files of folders (recursively, sorted).
    pub fn load(paths: &[PathBuf]) -> anyhow::Result<Inventory> {
        let mut inventory = Inventory::default();
        for path in paths {
            for file in json_files(path)? {
                let name = file.display().to_string();
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read inventory file {name}"))?;
                inventory.add(parse_document(&text, &name)?, &name);
            }
        }
        Ok(inventory)
    }

    /// Merges one file in: a vault seen twice keeps the fullest description
    /// (tags merged); an assignment seen twice (same id) is kept once.
    pub fn add(&mut self, doc: Document, name: &str) {
        self.files.push(InventoryFile {
            name: name.to_owned(),
            kind: doc.kind,
            items: doc.items,
        });
        self.warnings.extend(doc.warnings);
        for vault in doc.vaults {
            match self.vaults.get_mut(&vault.name) {
                Some(old) => {
                    let mut tags = old.tags.clone();
                    tags.extend(vault.tags.clone());
                    if old.rbac.is_none() {
                        *old = vault;
                    }
                    old.tags = tags;
                }
                None => {
                    self.vaults.insert(vault.name.clone(), vault);
                }
            }
        }
        for assignment in doc.assignments {
            // The same grant: same principal, role and scope (its id is one
            // function of those, so `--all` and `--scope` exports agree).
            let key = format!(
                "{}|{}|{}",
                assignment.principal_id,
                assignment.role_definition_id.to_lowercase(),
                assignment.scope.trim_end_matches('/').to_lowercase()
            );
            if self.seen_assignments.insert(key) {
                if let Some(name) = &assignment.principal_name {
                    self.principals
                        .entry(assignment.principal_id.clone())
                        .or_insert_with(|| PrincipalInfo {
                            display_name: name.clone(),
                            kind: parse::kind_of_principal_type(&assignment.principal_type)
                                .to_owned(),
                        });
                }
                self.assignments.push(assignment);
            }
        }
        // Directory listings are the better source of names and kinds.
        for (id, info) in doc.principals {
            self.principals.insert(id, info);
        }
    }

    /// Role assignments that apply to a vault.
    pub fn assignments_for<'a>(
        &'a self,
        vault: &'a VaultInventory,
    ) -> impl Iterator<Item = &'a RoleAssignment> + 'a {
        self.assignments
            .iter()
            .filter(move |a| a.applies_to(&vault.id))
    }

    /// Vault tags, by vault name, for the policy entities.
    pub fn vault_tags(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.vaults
            .iter()
            .filter(|(_, v)| !v.tags.is_empty())
            .map(|(name, v)| (name.clone(), v.tags.clone()))
            .collect()
    }
}

fn json_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let metadata = std::fs::metadata(path)
        .with_context(|| format!("cannot read inventory {}", path.display()))?;
    if metadata.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "no .json files in inventory folder {}; save the output of `az keyvault show` and `az role assignment list` there (see README, Inventory)",
            path.display()
        );
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
