//! How an audit event maps onto the Cedar model of `policies/kvaudit.cedarschema`:
//! operation names to actions, callers to `Identity` ids, objects to resources.
//!
//! The schema is the one source of truth for actions and their groups: an
//! operation name is an action when the schema declares it, and every other
//! name becomes [`UNKNOWN_ACTION`] (the set of operation names is open-ended;
//! unknown names are data, not errors).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema};
use chrono::DateTime;

use crate::memo::{Memo, remembered};

/// The action of every operation name the schema does not declare.
pub const UNKNOWN_ACTION: &str = "UnknownOperation";

pub const IDENTITY: &str = "Identity";
pub const GROUP: &str = "Group";
pub const VAULT: &str = "Vault";
/// The `Identity` of facts about a vault rather than a caller (a logging
/// gap): it is always in the entities, with kind `none`, so that policies
/// reading `principal.kind` evaluate on such facts too.
pub const NO_IDENTITY: &str = "none";
pub const SECRET: &str = "Secret";
pub const KEY: &str = "Key";
pub const CERTIFICATE: &str = "Certificate";

/// The entity type names of the model, parsed once (parsing runs Cedar's
/// parser, far too slow to do per request).
fn type_name(name: &str) -> EntityTypeName {
    static NAMES: OnceLock<HashMap<&'static str, EntityTypeName>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        [IDENTITY, GROUP, VAULT, SECRET, KEY, CERTIFICATE, "Action"]
            .into_iter()
            .map(|n| {
                let parsed = EntityTypeName::from_str(n)
                    .unwrap_or_else(|_| panic!("`{n}` is a valid entity type name"));
                (n, parsed)
            })
            .collect()
    });
    names.get(name).cloned().unwrap_or_else(|| {
        EntityTypeName::from_str(name)
            .unwrap_or_else(|_| panic!("`{name}` is a valid entity type name"))
    })
}

/// Builds an entity uid; entity type names here are constants of the schema.
pub fn uid(type_name_str: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name(type_name_str), EntityId::new(id))
}

/// The operation actions the schema declares (action groups excluded).
#[derive(Debug, Clone)]
pub struct ActionMap {
    operations: HashSet<String>,
    groups: HashSet<String>,
    /// Every action's groups (transitively), sorted.
    ancestors: BTreeMap<String, Vec<String>>,
    /// Every operation action's uid.
    uids: HashMap<String, EntityUid>,
}

impl ActionMap {
    pub fn from_schema(schema: &Schema) -> Self {
        let groups: HashSet<String> = schema
            .action_groups()
            .map(|a| a.id().unescaped().to_owned())
            .collect();
        let operations: HashSet<String> = schema
            .actions()
            .map(|a| a.id().unescaped().to_owned())
            .filter(|a| !groups.contains(a))
            .collect();
        let mut ancestors = BTreeMap::new();
        if let Ok(entities) = schema.action_entities() {
            for action in schema.actions() {
                let mut names: Vec<String> = entities
                    .ancestors(action)
                    .into_iter()
                    .flatten()
                    .map(|a| a.id().unescaped().to_owned())
                    .collect();
                names.sort();
                ancestors.insert(action.id().unescaped().to_owned(), names);
            }
        }
        let uids = operations
            .iter()
            .map(|op: &String| (op.clone(), uid("Action", op)))
            .collect();
        Self {
            operations,
            groups,
            ancestors,
            uids,
        }
    }

    /// The groups an operation's action is in (transitively), sorted.
    pub fn groups_of(&self, operation: &str) -> &[String] {
        self.ancestors
            .get(self.action_id(operation))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether the schema declares this operation name.
    pub fn is_known(&self, operation: &str) -> bool {
        self.operations.contains(operation) && operation != UNKNOWN_ACTION
    }

    /// The action id of an operation name.
    pub fn action_id<'a>(&self, operation: &'a str) -> &'a str {
        if self.is_known(operation) {
            operation
        } else {
            UNKNOWN_ACTION
        }
    }

    pub fn action_uid(&self, operation: &str) -> EntityUid {
        let id = self.action_id(operation);
        self.uids
            .get(id)
            .cloned()
            .unwrap_or_else(|| uid("Action", id))
    }

    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.operations.iter().map(String::as_str)
    }

    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(String::as_str)
    }
}

/// The `Identity` id of a caller: the object id, else `app:<appid>`, else the
/// identity kind (`unauthenticated` for the 401 challenge, `unknown`).
pub fn principal_key(
    principal_id: Option<&str>,
    app_id: Option<&str>,
    kind: Option<&str>,
) -> String {
    match (principal_id, app_id) {
        (Some(id), _) if !id.is_empty() => id.to_owned(),
        (_, Some(app)) if !app.is_empty() => format!("app:{app}"),
        _ => kind
            .filter(|k| !k.is_empty())
            .unwrap_or("unknown")
            .to_owned(),
    }
}

/// The resource of an event: entity type and id.
pub fn resource(
    vault: &str,
    object_type: Option<&str>,
    object_name: Option<&str>,
) -> (&'static str, String) {
    let object_type_name = match object_type {
        Some("secret" | "deleted-secret") => Some(SECRET),
        Some("key" | "deleted-key") => Some(KEY),
        Some("certificate" | "deleted-certificate") => Some(CERTIFICATE),
        _ => None,
    };
    match (object_type_name, object_name) {
        (Some(t), Some(name)) if !name.is_empty() => (t, format!("{vault}/{name}")),
        _ => (VAULT, vault.to_owned()),
    }
}

/// Lower-case English weekday of a day number (0 = Monday).
pub fn weekday_name(days_from_monday: u32) -> &'static str {
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ][days_from_monday as usize % 7]
}

/// The managed identity's resource name: the last segment of `xms_mirid`.
pub fn managed_identity_name(mirid: &str) -> Option<&str> {
    mirid.rsplit('/').next().filter(|s| !s.is_empty())
}

// Each `RestrictedExpression::new_datetime` and `new_ip` runs Cedar's
// parser on the extension's name; that was half the cost of building a
// request. Requests repeat hours and addresses, so each thread keeps the
// expressions it made.
thread_local! {
    static DATETIMES: Memo<i64, RestrictedExpression> = RefCell::default();
    static ADDRESSES: Memo<String, RestrictedExpression> = RefCell::default();
}

/// `datetime("…")` of a time (nanoseconds since the epoch), to the second.
pub fn datetime_expression(nanos: i64) -> RestrictedExpression {
    remembered(&DATETIMES, &nanos, |&nanos| {
        let time = DateTime::from_timestamp_nanos(nanos);
        RestrictedExpression::new_datetime(time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

/// `ip("…")` of a caller address, when it is one.
pub fn ip_expression(text: &str) -> Option<RestrictedExpression> {
    let ip = parse_ip(text)?;
    Some(remembered(&ADDRESSES, ip.as_str(), |ip| {
        RestrictedExpression::new_ip(ip)
    }))
}

/// An IP address Cedar's `ipaddr` accepts (no port, no zone), in its
/// canonical text.
pub fn parse_ip(text: &str) -> Option<String> {
    text.trim()
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::policy::pack::{default_schema, event_schema};

    /// The 78 operation names of Microsoft's table (log-formats.md section 3).
    const DOCUMENTED: &str = "Authentication VaultGet VaultPut VaultDelete VaultPatch VaultRecover VaultAccessPolicyChangedEventGridNotification \
        KeyCreate KeyGet KeyImport KeyDelete KeySign KeyVerify KeyWrap KeyUnwrap KeyEncrypt KeyDecrypt KeyUpdate KeyList KeyListVersions KeyPurge KeyBackup KeyRestore KeyRecover KeyGetDeleted KeyListDeleted KeyNearExpiryEventGridNotification KeyExpiredEventGridNotification KeyRotate KeyRotateIfDue KeyRotationPolicyGet KeyRotationPolicySet \
        SecretSet SecretGet SecretUpdate SecretDelete SecretList SecretListVersions SecretPurge SecretBackup SecretRestore SecretRecover SecretGetDeleted SecretListDeleted SecretNearExpiryEventGridNotification SecretExpiredEventGridNotification \
        CertificateGet CertificateCreate CertificateImport CertificateUpdate CertificateList CertificateListVersions CertificateDelete CertificatePurge CertificateBackup CertificateRestore CertificateRecover CertificateGetDeleted CertificateListDeleted CertificatePolicyGet CertificatePolicyUpdate CertificatePolicySet CertificateContactsGet CertificateContactsSet CertificateContactsDelete CertificateIssuerGet CertificateIssuerSet CertificateIssuerUpdate CertificateIssuerDelete CertificateIssuersList CertificateEnroll CertificateRenew CertificatePendingGet CertificatePendingMerge CertificatePendingUpdate CertificatePendingDelete CertificateNearExpiryEventGridNotification CertificateExpiredEventGridNotification";

    #[test]
    fn every_documented_operation_is_an_action_in_a_group() {
        let schema = default_schema();
        let map = ActionMap::from_schema(&schema);
        let names: Vec<&str> = DOCUMENTED.split_whitespace().collect();
        assert_eq!(names.len(), 78);
        for name in names {
            assert!(map.is_known(name), "{name} is not in the schema");
            assert!(
                !map.groups_of(name).is_empty(),
                "{name} is in no action group"
            );
        }
        for group in [
            "read-secret-value",
            "enumerate",
            "write",
            "delete-and-purge",
            "backup-restore",
            "crypto-use",
            "vault-management",
            "access-policy-change",
        ] {
            assert!(map.groups().any(|g| g == group), "group {group}");
        }
    }

    #[test]
    fn unknown_operations_map_to_the_generic_action() {
        let map = ActionMap::from_schema(&event_schema());
        assert_eq!(map.action_id("SecretTeleport"), UNKNOWN_ACTION);
        assert_eq!(
            map.action_id("read"),
            UNKNOWN_ACTION,
            "groups are not operations"
        );
        assert!(!map.is_known(UNKNOWN_ACTION));
        assert_eq!(map.groups_of("SecretTeleport"), ["unknown"]);
        assert!(
            map.groups_of("SecretPurge")
                .contains(&"delete-and-purge".to_owned()),
            "transitive through purge"
        );
        assert_eq!(
            map.action_id("VaultList"),
            "VaultList",
            "removed names still map"
        );
    }

    #[test]
    fn principals_and_resources() {
        assert_eq!(principal_key(Some("oid"), Some("app"), Some("user")), "oid");
        assert_eq!(
            principal_key(None, Some("app"), Some("service-principal")),
            "app:app"
        );
        assert_eq!(
            principal_key(None, None, Some("unauthenticated")),
            "unauthenticated"
        );
        assert_eq!(principal_key(None, None, None), "unknown");
        assert_eq!(
            resource("kv", Some("secret"), Some("db")),
            (SECRET, "kv/db".to_owned())
        );
        assert_eq!(
            resource("kv", Some("deleted-key"), Some("k")),
            (KEY, "kv/k".to_owned())
        );
        assert_eq!(
            resource("kv", Some("certificate-issuer"), Some("i")),
            (VAULT, "kv".to_owned())
        );
        assert_eq!(resource("kv", None, None), (VAULT, "kv".to_owned()));
        assert_eq!(weekday_name(6), "sunday");
        assert_eq!(
            managed_identity_name("/subscriptions/s/x/userAssignedIdentities/web"),
            Some("web")
        );
    }
}
