//! Which vault and which object a record is about, from the ARM resource id
//! and the request or object URI.

/// The parts of an ARM resource id
/// (`/SUBSCRIPTIONS/{sub}/RESOURCEGROUPS/{rg}/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{name}`),
/// lower-cased because Azure writes them in any case.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub provider: Option<String>,
    pub resource_type: Option<String>,
    pub name: Option<String>,
}

impl ResourceRef {
    pub fn parse(resource_id: &str) -> ResourceRef {
        let segments: Vec<&str> = resource_id.split('/').filter(|s| !s.is_empty()).collect();
        let mut out = ResourceRef::default();
        let mut i = 0;
        while i + 1 < segments.len() {
            let (key, value) = (segments[i], segments[i + 1]);
            if key.eq_ignore_ascii_case("subscriptions") {
                out.subscription_id = Some(value.to_ascii_lowercase());
            } else if key.eq_ignore_ascii_case("resourcegroups") {
                out.resource_group = Some(value.to_ascii_lowercase());
            } else if key.eq_ignore_ascii_case("providers") && i + 3 < segments.len() {
                out.provider = Some(value.to_ascii_lowercase());
                out.resource_type = Some(segments[i + 2].to_ascii_lowercase());
                out.name = Some(segments[i + 3].to_ascii_lowercase());
                break;
            }
            i += 2;
        }
        out
    }

    /// Whether the id names a Key Vault resource (or names no provider at all).
    pub fn is_key_vault(&self) -> bool {
        self.provider
            .as_deref()
            .is_none_or(|p| p == "microsoft.keyvault")
    }
}

/// The object a call addressed, from `properties.id` or `requestUri`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Vault name from a data-plane host (`{vault}.vault.azure.net`).
    pub vault: Option<String>,
    pub object_type: Option<&'static str>,
    pub name: Option<String>,
    pub version: Option<String>,
}

fn is_version(segment: &str) -> bool {
    segment.len() == 32 && segment.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Path segments after the collection that are verbs or sub-resources, not names.
const COLLECTION_VERBS: [&str; 2] = ["restore", "import"];

impl ObjectRef {
    pub fn parse(uri: &str) -> ObjectRef {
        let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        let path = path.split(['?', '#']).next().unwrap_or("");
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

        let data_plane = host.contains(".vault.") || host.contains(".managedhsm.");
        let is_arm = segments.iter().any(|s| s.eq_ignore_ascii_case("providers"));
        if !data_plane || is_arm {
            let vault = is_arm.then(|| ResourceRef::parse(path).name).flatten();
            return ObjectRef {
                vault,
                object_type: is_arm.then_some("vault"),
                ..ObjectRef::default()
            };
        }
        let vault = host.split('.').next().map(str::to_owned);
        let Some(collection) = segments.first() else {
            return ObjectRef {
                vault,
                object_type: Some("vault"),
                ..ObjectRef::default()
            };
        };
        let collection = collection.to_ascii_lowercase();
        let object_type = match collection.as_str() {
            "secrets" => "secret",
            "keys" => "key",
            "certificates" => match segments.get(1).map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("issuers") => {
                    return ObjectRef {
                        vault,
                        object_type: Some("certificate-issuer"),
                        name: segments.get(2).map(|s| s.to_ascii_lowercase()),
                        version: None,
                    };
                }
                Some("contacts") => {
                    return ObjectRef {
                        vault,
                        object_type: Some("certificate-contacts"),
                        ..ObjectRef::default()
                    };
                }
                _ => "certificate",
            },
            "deletedsecrets" => "deleted-secret",
            "deletedkeys" => "deleted-key",
            "deletedcertificates" => "deleted-certificate",
            "storage" | "deletedstorage" => "storage",
            _ => {
                return ObjectRef {
                    vault,
                    ..ObjectRef::default()
                };
            }
        };
        let name = segments
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| !COLLECTION_VERBS.contains(&s.as_str()));
        let version = name
            .as_ref()
            .and(segments.get(2))
            .filter(|s| is_version(s))
            .map(|s| s.to_ascii_lowercase());
        ObjectRef {
            vault,
            object_type: Some(object_type),
            name,
            version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_id_parts_are_lower_case() {
        let r = ResourceRef::parse(
            "/SUBSCRIPTIONS/361DA5D4-A47A/RESOURCEGROUPS/CONTOSOGROUP/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/CONTOSOKEYVAULT",
        );
        assert_eq!(r.subscription_id.as_deref(), Some("361da5d4-a47a"));
        assert_eq!(r.resource_group.as_deref(), Some("contosogroup"));
        assert_eq!(r.resource_type.as_deref(), Some("vaults"));
        assert_eq!(r.name.as_deref(), Some("contosokeyvault"));
        assert!(r.is_key_vault());
        assert!(
            !ResourceRef::parse(
                "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/x"
            )
            .is_key_vault()
        );
    }

    #[test]
    fn secret_with_version() {
        let o = ObjectRef::parse(
            "https://Kv-Pay.vault.azure.net/secrets/DbPassword/0123456789abcdef0123456789ABCDEF",
        );
        assert_eq!(o.vault.as_deref(), Some("kv-pay"));
        assert_eq!(o.object_type, Some("secret"));
        assert_eq!(o.name.as_deref(), Some("dbpassword"));
        assert_eq!(
            o.version.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
    }

    #[test]
    fn request_uris_with_verbs_ports_and_queries() {
        let o = ObjectRef::parse(
            "https://kv.vault.azure.net:443/keys/signer/abcdefabcdefabcdefabcdefabcdefab/sign?api-version=7.4",
        );
        assert_eq!(
            (o.object_type, o.name.as_deref()),
            (Some("key"), Some("signer"))
        );
        assert!(o.version.is_some());
        let list =
            ObjectRef::parse("https://kv.vault.azure.net/secrets?api-version=7.3&maxresults=25");
        assert_eq!((list.object_type, list.name), (Some("secret"), None));
        let backup =
            ObjectRef::parse("https://kv.vault.azure.net/secrets/db/backup?api-version=7.4");
        assert_eq!((backup.name.as_deref(), backup.version), (Some("db"), None));
        let restore = ObjectRef::parse("https://kv.vault.azure.net/keys/restore?api-version=7.4");
        assert_eq!((restore.object_type, restore.name), (Some("key"), None));
        let issuer = ObjectRef::parse("https://kv.vault.azure.net/certificates/issuers/DigiCert");
        assert_eq!(issuer.object_type, Some("certificate-issuer"));
        assert_eq!(issuer.name.as_deref(), Some("digicert"));
        let deleted = ObjectRef::parse("https://kv.vault.azure.net/deletedsecrets/db/recover");
        assert_eq!(deleted.object_type, Some("deleted-secret"));
    }

    #[test]
    fn vault_root_and_arm_calls_are_the_vault() {
        let root = ObjectRef::parse("https://contosokeyvault.vault.azure.net/");
        assert_eq!(
            (root.object_type, root.vault.as_deref()),
            (Some("vault"), Some("contosokeyvault"))
        );
        let arm = ObjectRef::parse(
            "https://control-prod-wus.vaultcore.azure.net/subscriptions/s/resourcegroups/r/providers/Microsoft.KeyVault/vaults/ContosoKeyVault?api-version=2015-06-01",
        );
        assert_eq!(
            (arm.object_type, arm.vault.as_deref()),
            (Some("vault"), Some("contosokeyvault"))
        );
        let hsm = ObjectRef::parse("https://<hsm-name>.managedhsm.azure.net/backup");
        assert_eq!(hsm.object_type, None);
    }
}
