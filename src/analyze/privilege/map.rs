//! The permission map: which access-policy permission and which RBAC action
//! each Key Vault operation needs, and what the built-in roles grant.
//!
//! The map is data (`data/permissions/`, sources in its README), embedded
//! and parsed once. Permission names and RBAC strings are case-insensitive
//! in Azure; the map compares them in lower case and prints them the way
//! Microsoft spells them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

const OPERATIONS_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/permissions/operation_permissions.csv"
));
const ACCESS_POLICY_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/permissions/access_policy_permissions.csv"
));
const ROLES_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/permissions/rbac_roles.json"
));

/// The ARM action that lets a caller rewrite a vault, access policies included.
pub const VAULT_WRITE: &str = "Microsoft.KeyVault/vaults/write";

/// The four permission lists of a vault access policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Keys,
    Secrets,
    Certificates,
    Storage,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 4] = [Self::Keys, Self::Secrets, Self::Certificates, Self::Storage];

    /// The name in access-policy JSON (`permissions.keys`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keys => "keys",
            Self::Secrets => "secrets",
            Self::Certificates => "certificates",
            Self::Storage => "storage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The `az keyvault set-policy` option that sets this list.
    pub fn az_option(self) -> &'static str {
        match self {
            Self::Keys => "--key-permissions",
            Self::Secrets => "--secret-permissions",
            Self::Certificates => "--certificate-permissions",
            Self::Storage => "--storage-permissions",
        }
    }
}

/// One access-policy permission, e.g. `secrets:get`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApPermission {
    pub object: ObjectKind,
    /// As the ARM enum spells it (`get`, `wrapKey`, `getrotationpolicy`).
    pub name: String,
}

impl fmt::Display for ApPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.object.as_str(), self.name)
    }
}

/// What one operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationPermission {
    pub operation: String,
    /// `vault`, `key`, `secret`, `certificate`.
    pub object_type: String,
    /// None for management-plane and service-initiated operations.
    pub access_policy: Option<ApPermission>,
    /// RBAC data action (data plane) or ARM action (management plane); None
    /// for service-initiated operations and `CertificateContactsGet`.
    pub rbac_action: Option<String>,
    /// Management plane: always authorised by Azure RBAC actions.
    pub management: bool,
}

/// One built-in role definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    /// The role definition GUID, lower case.
    pub id: String,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    /// Key Vault data actions the role grants, canonical spelling.
    pub data_actions: BTreeSet<String>,
}

impl Role {
    /// Whether the role's `actions` minus `notActions` allow an ARM action.
    pub fn allows_action(&self, action: &str) -> bool {
        self.actions.iter().any(|a| wildcard_match(a, action))
            && !self.not_actions.iter().any(|a| wildcard_match(a, action))
    }

    /// Under access policies, anyone who can write the vault can write
    /// themselves an access policy.
    pub fn can_write_vault(&self) -> bool {
        self.allows_action(VAULT_WRITE)
    }
}

/// Case-insensitive match where `*` stands for any run of characters.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Greedy with backtracking to the last star: linear for these short strings.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The whole map.
#[derive(Debug)]
pub struct PermissionMap {
    operations: HashMap<String, OperationPermission>,
    /// Every access-policy permission except `all`, by list, in file order.
    access_policy: BTreeMap<ObjectKind, Vec<String>>,
    /// RBAC data actions of each access-policy permission.
    access_policy_rbac: HashMap<ApPermission, Vec<String>>,
    roles: Vec<Role>,
    /// Lower case -> canonical spelling of the 52 data actions.
    data_actions: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RolesFile {
    #[serde(rename = "_meta")]
    meta: RolesMeta,
    roles: Vec<RoleJson>,
}

#[derive(Deserialize)]
struct RolesMeta {
    keyvault_data_actions_universe: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleJson {
    role_name: String,
    name: String,
    permissions: Vec<RolePermissionsJson>,
    #[serde(rename = "x_effective_keyvault_dataActions")]
    effective_data_actions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolePermissionsJson {
    actions: Vec<String>,
    not_actions: Vec<String>,
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl PermissionMap {
    /// The embedded map, parsed on first use.
    pub fn get() -> &'static PermissionMap {
        static MAP: OnceLock<PermissionMap> = OnceLock::new();
        #[allow(
            clippy::expect_used,
            reason = "the map is embedded at build time and a unit test parses it"
        )]
        MAP.get_or_init(|| {
            PermissionMap::parse(OPERATIONS_CSV, ACCESS_POLICY_CSV, ROLES_JSON)
                .expect("the embedded permission map is valid (tested)")
        })
    }

    fn parse(operations: &str, access_policy: &str, roles: &str) -> anyhow::Result<Self> {
        let roles_file: RolesFile = serde_json::from_str(roles)?;
        let data_actions: BTreeMap<String, String> = roles_file
            .meta
            .keyvault_data_actions_universe
            .iter()
            .map(|a| (a.to_lowercase(), a.clone()))
            .collect();
        let canonical = |a: &str| data_actions.get(&a.to_lowercase()).cloned();

        let mut ap_lists: BTreeMap<ObjectKind, Vec<String>> = BTreeMap::new();
        let mut ap_rbac = HashMap::new();
        let mut reader = csv::Reader::from_reader(access_policy.as_bytes());
        for row in reader.records() {
            let row = row?;
            let object = ObjectKind::parse(&row[0])
                .ok_or_else(|| anyhow::anyhow!("unknown object type {}", &row[0]))?;
            let name = row[1].trim().to_owned();
            if name == "all" {
                continue;
            }
            let actions = row[2]
                .split(';')
                .filter_map(non_empty)
                .map(|a| canonical(&a).ok_or_else(|| anyhow::anyhow!("unknown data action {a}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            ap_lists.entry(object).or_default().push(name.clone());
            ap_rbac.insert(ApPermission { object, name }, actions);
        }

        let mut ops = HashMap::new();
        let mut reader = csv::Reader::from_reader(operations.as_bytes());
        for row in reader.records() {
            let row = row?;
            let access_policy = match non_empty(&row[2]) {
                None => None,
                Some(p) => {
                    let (object, name) = p
                        .split_once(':')
                        .ok_or_else(|| anyhow::anyhow!("bad permission {p}"))?;
                    let object = ObjectKind::parse(object)
                        .ok_or_else(|| anyhow::anyhow!("bad permission {p}"))?;
                    let name = ap_lists
                        .get(&object)
                        .and_then(|l| l.iter().find(|n| n.eq_ignore_ascii_case(name)))
                        .ok_or_else(|| anyhow::anyhow!("{p} is not an access-policy permission"))?
                        .clone();
                    Some(ApPermission { object, name })
                }
            };
            let management = &row[4] == "true";
            let rbac_action = non_empty(&row[3])
                .map(|a| {
                    if management {
                        Some(a.clone())
                    } else {
                        canonical(&a)
                    }
                })
                .map(|a| a.ok_or_else(|| anyhow::anyhow!("unknown data action in {}", &row[0])))
                .transpose()?;
            ops.insert(
                row[0].to_owned(),
                OperationPermission {
                    operation: row[0].to_owned(),
                    object_type: row[1].to_owned(),
                    access_policy,
                    rbac_action,
                    management,
                },
            );
        }

        let roles = roles_file
            .roles
            .into_iter()
            .map(|r| -> anyhow::Result<Role> {
                Ok(Role {
                    id: r.name.to_lowercase(),
                    name: r.role_name,
                    actions: r
                        .permissions
                        .iter()
                        .flat_map(|p| p.actions.clone())
                        .collect(),
                    not_actions: r
                        .permissions
                        .iter()
                        .flat_map(|p| p.not_actions.clone())
                        .collect(),
                    data_actions: r
                        .effective_data_actions
                        .iter()
                        .map(|a| canonical(a).ok_or_else(|| anyhow::anyhow!("unknown {a}")))
                        .collect::<anyhow::Result<_>>()?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(PermissionMap {
            operations: ops,
            access_policy: ap_lists,
            access_policy_rbac: ap_rbac,
            roles,
            data_actions,
        })
    }

    pub fn operation(&self, name: &str) -> Option<&OperationPermission> {
        self.operations.get(name)
    }

    pub fn operations(&self) -> impl Iterator<Item = &OperationPermission> {
        self.operations.values()
    }

    /// An access-policy permission as the ARM enum spells it; `all` expands
    /// to every permission of the list. Unknown names give nothing.
    pub fn expand_access_policy(&self, object: ObjectKind, name: &str) -> Vec<ApPermission> {
        let list = self
            .access_policy
            .get(&object)
            .map_or(&[][..], Vec::as_slice);
        list.iter()
            .filter(|n| name.eq_ignore_ascii_case("all") || n.eq_ignore_ascii_case(name))
            .map(|n| ApPermission {
                object,
                name: n.clone(),
            })
            .collect()
    }

    /// The RBAC data actions an access-policy permission corresponds to.
    pub fn rbac_of(&self, permission: &ApPermission) -> &[String] {
        self.access_policy_rbac
            .get(permission)
            .map_or(&[], Vec::as_slice)
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// A built-in role by definition GUID (the last segment of
    /// `roleDefinitionId`), else by name; both case-insensitive.
    pub fn role(&self, id_or_path: &str, name: &str) -> Option<&Role> {
        let guid = id_or_path.rsplit('/').next().unwrap_or("").to_lowercase();
        self.roles.iter().find(|r| r.id == guid).or_else(|| {
            self.roles
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(name))
        })
    }

    /// The canonical spelling of a Key Vault data action, if it is one.
    pub fn data_action(&self, action: &str) -> Option<&str> {
        self.data_actions
            .get(&action.to_lowercase())
            .map(String::as_str)
    }

    /// The built-in role with the fewest data actions that grants all of
    /// `used` (ties: by name), if any grants them all.
    pub fn smallest_role_covering(&self, used: &BTreeSet<String>) -> Option<&Role> {
        self.roles
            .iter()
            .filter(|r| !r.data_actions.is_empty() && used.is_subset(&r.data_actions))
            .min_by(|a, b| (a.data_actions.len(), &a.name).cmp(&(b.data_actions.len(), &b.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::model::ActionMap;
    use crate::analyze::policy::pack::event_schema;

    #[test]
    fn the_embedded_map_parses() {
        let map = PermissionMap::get();
        assert_eq!(map.operations().count(), 83);
        assert_eq!(map.roles().len(), 17);
        assert_eq!(map.data_actions.len(), 52);
        assert_eq!(
            map.expand_access_policy(ObjectKind::Secrets, "all").len(),
            8
        );
        assert_eq!(map.expand_access_policy(ObjectKind::Keys, "ALL").len(), 20);
        assert_eq!(
            map.expand_access_policy(ObjectKind::Certificates, "all")
                .len(),
            16
        );
        assert_eq!(
            map.expand_access_policy(ObjectKind::Storage, "all").len(),
            14
        );
    }

    /// Every operation the Cedar schema declares has a row in the map; rows
    /// without a caller permission are exactly the service-initiated ones
    /// (and the two documented gaps).
    #[test]
    fn every_schema_operation_maps_to_a_permission() {
        let actions = ActionMap::from_schema(&event_schema());
        let map = PermissionMap::get();
        let service_initiated = |op: &str| {
            op == "Authentication"
                || op.ends_with("EventGridNotification")
                || matches!(
                    op,
                    "KeyRotateIfDue" | "CertificateRenew" | "CertificateEnroll"
                )
        };
        let mut names: Vec<&str> = actions
            .operations()
            .filter(|o| actions.is_known(o))
            .collect();
        names.sort();
        assert_eq!(names.len(), 83, "{names:?}");
        for op in names {
            let row = map
                .operation(op)
                .unwrap_or_else(|| panic!("{op} is not in the permission map"));
            if service_initiated(op) {
                assert!(
                    row.access_policy.is_none() && row.rbac_action.is_none(),
                    "{op}"
                );
            } else if row.management {
                // The management plane is always Azure RBAC, never access policies.
                assert!(op.starts_with("Vault"), "{op}");
                assert!(row.access_policy.is_none(), "{op}");
                assert!(
                    row.rbac_action
                        .as_deref()
                        .is_some_and(|a| a.starts_with("Microsoft.KeyVault/")),
                    "{op}"
                );
            } else {
                assert!(
                    row.access_policy.is_some(),
                    "{op} has no access-policy permission"
                );
                if op != "CertificateContactsGet" {
                    let action = row.rbac_action.as_deref().unwrap_or_else(|| panic!("{op}"));
                    assert_eq!(map.data_action(action), Some(action), "{op}");
                }
            }
        }
    }

    #[test]
    fn rbac_reads_cover_get_and_list() {
        let map = PermissionMap::get();
        let action = |op: &str| map.operation(op).unwrap().rbac_action.clone().unwrap();
        let perm = |op: &str| map.operation(op).unwrap().access_policy.clone().unwrap();
        for (get, list) in [("KeyGet", "KeyList"), ("CertificateGet", "CertificateList")] {
            assert_eq!(
                action(get),
                action(list),
                "one RBAC read for {get} and {list}"
            );
            assert_ne!(
                perm(get),
                perm(list),
                "access policies split {get} from {list}"
            );
        }
        // Secrets are the exception: the value and the metadata are separate actions.
        assert_ne!(action("SecretGet"), action("SecretList"));
        // Secrets set authorises SecretUpdate too.
        assert_eq!(perm("SecretUpdate").to_string(), "secrets:set");
        assert_eq!(perm("KeyWrap").to_string(), "keys:wrapKey");
    }

    #[test]
    fn roles_expand_and_the_smallest_cover_is_found() {
        let map = PermissionMap::get();
        let used = |ops: &[&str]| -> BTreeSet<String> {
            ops.iter()
                .map(|o| map.operation(o).unwrap().rbac_action.clone().unwrap())
                .collect()
        };
        let name = |ops: &[&str]| {
            map.smallest_role_covering(&used(ops))
                .map(|r| r.name.clone())
        };
        assert_eq!(
            name(&["SecretGet"]).as_deref(),
            Some("Key Vault Secrets User")
        );
        assert_eq!(
            name(&["SecretGet", "SecretList"]).as_deref(),
            Some("Key Vault Secrets User")
        );
        assert_eq!(
            name(&["KeyUnwrap", "KeyGet"]).as_deref(),
            Some("Key Vault Crypto Service Encryption User")
        );
        assert_eq!(
            name(&["KeyRelease"]).as_deref(),
            Some("Key Vault Crypto Service Release User")
        );
        assert_eq!(
            name(&["SecretSet"]).as_deref(),
            Some("Key Vault Secrets Officer")
        );
        // Keys and secrets together: only the administrator, which a caller asking
        // for the smallest role gets offered only when nothing narrower exists.
        assert_eq!(
            name(&["SecretGet", "KeySign"]).as_deref(),
            Some("Key Vault Administrator")
        );

        let admin = map.role("/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/00482A5A-887F-4FB3-B363-3B7FE8E74483", "").unwrap();
        assert_eq!(admin.name, "Key Vault Administrator");
        assert_eq!(admin.data_actions.len(), 52);
        assert!(!admin.can_write_vault());
        assert_eq!(
            map.role("", "key vault secrets user")
                .unwrap()
                .data_actions
                .len(),
            2
        );
        for (role, writes) in [
            ("Contributor", true),
            ("Key Vault Contributor", true),
            ("Owner", true),
            ("Reader", false),
            ("Key Vault Reader", false),
            ("Key Vault Secrets Officer", false),
        ] {
            assert_eq!(
                map.role("", role).unwrap().can_write_vault(),
                writes,
                "{role}"
            );
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "Microsoft.KeyVault/vaults/write"));
        assert!(wildcard_match(
            "Microsoft.KeyVault/*",
            "microsoft.keyvault/VAULTS/write"
        ));
        assert!(wildcard_match("*/read", "Microsoft.KeyVault/vaults/read"));
        assert!(!wildcard_match("*/read", "Microsoft.KeyVault/vaults/write"));
        assert!(wildcard_match(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/keys/read"
        ));
        assert!(!wildcard_match(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/read"
        ));
        assert!(wildcard_match(
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/roleAssignments/write"
        ));
    }
}
