//! Serialisation of one event as a raw AuditEvent record (storage / Event
//! Hub shape): structs in the key order real records use, borrowing strings
//! from a reusable scratch so a record costs no heap allocation.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::model::{
    Event, Extra, ObjectType, Op, Plane, TICKS_PER_SEC, format_guid, format_time, token22,
    version_hex,
};
use super::population::{ACTORS, ClientDef, Kind, LOCATION, TENANT_ID, VaultRt, World};

/// Reusable buffers for the per-record strings.
pub(crate) struct Scratch {
    time: [u8; 28],
    corr: [u8; 36],
    ver: [u8; 32],
    tok: [u8; 22],
    uti: [u8; 22],
    dur: String,
    uri: String,
    id: String,
    desc: String,
    iat: String,
    nbf: String,
    exp: String,
    iss: String,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            time: [0; 28],
            corr: [0; 36],
            ver: [0; 32],
            tok: [0; 22],
            uti: [0; 22],
            dur: String::with_capacity(8),
            uri: String::with_capacity(160),
            id: String::with_capacity(128),
            desc: String::with_capacity(512),
            iat: String::new(),
            nbf: String::new(),
            exp: String::new(),
            iss: String::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord<'a> {
    time: &'a str,
    category: &'static str,
    operation_name: &'static str,
    result_type: &'static str,
    result_signature: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_description: Option<&'a str>,
    correlation_id: &'a str,
    caller_ip_address: &'a str,
    identity: Identity<'a>,
    properties: Properties<'a>,
    resource_id: &'a str,
    operation_version: &'a str,
    duration_ms: &'a str,
}

enum Identity<'a> {
    Empty,
    Short(ShortClaims<'a>),
    Arm(ArmClaims<'a>),
}

impl Serialize for Identity<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Identity::Empty => serializer.serialize_map(Some(0))?.end(),
            Identity::Short(c) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("claim", c)?;
                m.end()
            }
            Identity::Arm(c) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("claim", c)?;
                m.end()
            }
        }
    }
}

/// Data-plane claims (variants A, B, C), short JWT names.
#[derive(Serialize, Default)]
struct ShortClaims<'a> {
    oid: &'a str,
    appid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    xms_mirid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scp: Option<&'static str>,
    appidacr: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    idtyp: Option<&'static str>,
    xms_az_nwperimid: [&'static str; 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    upn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ipaddr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unique_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uti: Option<&'a str>,
}

/// ARM control-plane claims (variant D), URI names.
#[derive(Serialize)]
struct ArmClaims<'a> {
    #[serde(rename = "http://schemas.microsoft.com/identity/claims/objectidentifier")]
    oid: &'a str,
    #[serde(
        rename = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        skip_serializing_if = "Option::is_none"
    )]
    upn: Option<&'a str>,
    #[serde(
        rename = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        skip_serializing_if = "Option::is_none"
    )]
    name: Option<&'a str>,
    appid: &'a str,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_info: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_access_policy_match: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_rbac_authorized: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_properties: Option<KeyProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<VaultProperties<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added_access_policy: Option<AccessPolicy<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_grid_event_properties: Option<EventGridProperties<'a>>,
}

#[derive(Serialize)]
struct KeyProperties {
    #[serde(rename = "type")]
    kty: &'static str,
    size: u32,
    attributes: KeyAttributes,
    operations: &'static [&'static str],
}

#[derive(Serialize)]
struct KeyAttributes {
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VaultProperties<'a> {
    sku: Sku,
    tenant_id: &'a str,
    network_acls: NetworkAcls,
    enabled_for_deployment: bool,
    enabled_for_disk_encryption: bool,
    enabled_for_template_deployment: bool,
    enable_soft_delete: bool,
    soft_delete_retention_in_days: u32,
    enable_rbac_authorization: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_purge_protection: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Sku {
    family: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkAcls {
    bypass: &'static str,
    default_action: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccessPolicy<'a> {
    object_id: &'a str,
    tenant_id: &'a str,
    permissions: Permissions,
}

#[derive(Serialize)]
struct Permissions {
    keys: &'static [&'static str],
    secrets: &'static [&'static str],
    certificates: &'static [&'static str],
}

#[derive(Serialize)]
struct EventGridProperties<'a> {
    subject: &'a str,
    data: EventGridData<'a>,
}

#[derive(Serialize)]
struct EventGridData<'a> {
    #[serde(rename = "Id")]
    id: &'a str,
    #[serde(rename = "VaultName")]
    vault_name: &'a str,
    #[serde(rename = "ObjectType")]
    object_type: &'static str,
    #[serde(rename = "ObjectName")]
    object_name: &'a str,
    #[serde(rename = "Version", skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(rename = "NBF", skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(rename = "EXP", skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// Permissions Bob grants himself in incident 5.
const GRANTED: Permissions = Permissions {
    keys: &["get", "list", "delete", "backup", "purge"],
    secrets: &["get", "list", "delete", "backup", "purge"],
    certificates: &[],
};

const KEY_OPERATIONS: &[&str] = &[
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
];

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    }
}

fn user_agent(client: &ClientDef, t: ObjectType) -> &'static str {
    match t {
        ObjectType::Key => client.ua_keys,
        ObjectType::Certificate => client.ua_certs,
        ObjectType::Secret | ObjectType::Vault => client.ua_secrets,
    }
}

/// Serialises `ev` as one compact JSON object (no trailing newline).
pub(crate) fn write_record<W: Write>(
    w: &mut W,
    world: &World,
    ev: &Event,
    s: &mut Scratch,
) -> serde_json::Result<()> {
    let v: &VaultRt = &world.vaults[ev.vault as usize];
    let actor = &ACTORS[ev.actor as usize];
    let client = ev.client;
    let plane = ev.op.plane();
    let req_op = if plane == Plane::Challenge {
        ev.inner
    } else {
        ev.op
    };
    let vault_name = v.def.name;

    let time = format_time(ev.ticks, &mut s.time);
    let corr = if ev.correlation == 0 {
        ""
    } else {
        format_guid(ev.correlation, &mut s.corr)
    };
    s.dur.clear();
    let _ = write!(s.dur, "{}", ev.duration_ms);

    // Object version (for ids with a version segment).
    let ver: &str = if ev.op == Op::SecretSet {
        version_hex(
            &[
                vault_name.as_bytes(),
                ev.object.as_bytes(),
                &ev.ticks.to_le_bytes(),
            ],
            &mut s.ver,
        )
    } else {
        let kind: &[u8] = match req_op.object_type() {
            ObjectType::Secret => b"secrets",
            ObjectType::Key => b"keys",
            ObjectType::Certificate => b"certificates",
            ObjectType::Vault => b"vault",
        };
        version_hex(
            &[vault_name.as_bytes(), kind, ev.object.as_bytes()],
            &mut s.ver,
        )
    };

    // requestUri and id.
    s.uri.clear();
    s.id.clear();
    let base = if client.port443 { &v.host443 } else { &v.host };
    let host = &v.host;
    let av = client.api_version;
    let ok = ev.status == 200 || ev.status == 204;
    let o = ev.object;
    match req_op {
        Op::SecretGet => {
            let _ = write!(s.uri, "{base}/secrets/{o}/?api-version={av}");
            if ok {
                let _ = write!(s.id, "{host}/secrets/{o}/{ver}");
            } else {
                let _ = write!(s.id, "{host}/secrets/{o}");
            }
        }
        Op::SecretList => {
            let _ = write!(s.uri, "{base}/secrets?api-version={av}");
            if client.max_results {
                s.uri.push_str("&maxresults=25");
            }
            if let Extra::Page(p) = ev.extra {
                let tok = token22(&[vault_name.as_bytes(), &[p]], &mut s.tok);
                let _ = write!(s.uri, "&$skiptoken={tok}");
            }
        }
        Op::SecretListVersions => {
            let _ = write!(s.uri, "{base}/secrets/{o}/versions?api-version={av}");
        }
        Op::SecretSet => {
            let _ = write!(s.uri, "{base}/secrets/{o}?api-version={av}");
            if ok {
                let _ = write!(s.id, "{host}/secrets/{o}/{ver}");
            } else {
                let _ = write!(s.id, "{host}/secrets/{o}");
            }
        }
        Op::SecretBackup => {
            let _ = write!(s.uri, "{base}/secrets/{o}/backup?api-version={av}");
            let _ = write!(s.id, "{host}/secrets/{o}");
        }
        Op::SecretDelete => {
            let _ = write!(s.uri, "{base}/secrets/{o}?api-version={av}");
            let _ = write!(s.id, "{host}/secrets/{o}");
        }
        Op::SecretPurge => {
            let _ = write!(s.uri, "{base}/deletedsecrets/{o}?api-version={av}");
            let _ = write!(s.id, "{host}/deletedsecrets/{o}");
        }
        Op::KeyGet => {
            let _ = write!(s.uri, "{base}/keys/{o}/?api-version={av}");
            if ok {
                let _ = write!(s.id, "{host}/keys/{o}/{ver}");
            } else {
                let _ = write!(s.id, "{host}/keys/{o}");
            }
        }
        Op::KeyWrap | Op::KeyUnwrap | Op::KeySign => {
            let action = match req_op {
                Op::KeyWrap => "wrapkey",
                Op::KeyUnwrap => "unwrapkey",
                _ => "sign",
            };
            let _ = write!(s.uri, "{base}/keys/{o}/{ver}/{action}?api-version={av}");
            let _ = write!(s.id, "{host}/keys/{o}/{ver}");
        }
        Op::KeyDelete => {
            let _ = write!(s.uri, "{base}/keys/{o}?api-version={av}");
            let _ = write!(s.id, "{host}/keys/{o}");
        }
        Op::CertificateGet => {
            let _ = write!(s.uri, "{base}/certificates/{o}/?api-version={av}");
            if ok {
                let _ = write!(s.id, "{host}/certificates/{o}/{ver}");
            } else {
                let _ = write!(s.id, "{host}/certificates/{o}");
            }
        }
        Op::VaultGet | Op::VaultPatch => {
            let _ = write!(
                s.uri,
                "{}{}?api-version={}",
                client.arm_host, v.arm_path, client.arm_api_version
            );
            let _ = write!(s.id, "{host}/");
        }
        Op::SecretNearExpiryEventGridNotification => {
            let _ = write!(s.id, "{host}/secrets/{o}/{ver}");
        }
        Op::VaultAccessPolicyChangedEventGridNotification => {
            let _ = write!(s.id, "{host}/");
        }
        Op::Authentication => {}
    }

    // Caller ids as they appear in error texts.
    let caller_appid = match actor.kind {
        Kind::User { .. } => client.appid.unwrap_or(""),
        _ => actor.appid,
    };

    // resultDescription.
    s.desc.clear();
    if plane == Plane::Data {
        match ev.status {
            403 => forbidden_text(&mut s.desc, v, req_op, o, caller_appid, actor.oid),
            404 => {
                let what = match req_op.object_type() {
                    ObjectType::Key => "key",
                    ObjectType::Certificate => "certificate",
                    _ => "secret",
                };
                let _ = write!(
                    s.desc,
                    "A {what} with (name/id) {o} was not found in this key vault. If you recently deleted this {what} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
                );
            }
            _ => {}
        }
    }

    // Identity.
    let identity = match plane {
        Plane::Challenge | Plane::Internal => Identity::Empty,
        Plane::Arm => match actor.kind {
            Kind::User { upn } => Identity::Arm(ArmClaims {
                oid: actor.oid,
                upn: Some(upn),
                name: Some(upn),
                appid: caller_appid,
            }),
            _ => Identity::Arm(ArmClaims {
                oid: actor.oid,
                upn: None,
                name: None,
                appid: actor.appid,
            }),
        },
        Plane::Data => match actor.kind {
            Kind::User { upn } => Identity::Short(ShortClaims {
                oid: actor.oid,
                appid: caller_appid,
                scp: Some("user_impersonation"),
                appidacr: "0",
                upn: Some(upn),
                ipaddr: Some(ev.ip),
                unique_name: Some(upn),
                amr: Some("pwd"),
                ..ShortClaims::default()
            }),
            Kind::UserAssignedMi { .. } | Kind::SystemAssignedMi { .. } => {
                Identity::Short(ShortClaims {
                    oid: actor.oid,
                    appid: actor.appid,
                    xms_mirid: world.mirids[ev.actor as usize].as_deref(),
                    appidacr: "2",
                    idtyp: Some("app"),
                    ..ShortClaims::default()
                })
            }
            Kind::ServicePrincipal { certificate } => {
                let secs = ev.ticks.div_euclid(TICKS_PER_SEC);
                let iat = secs - secs.rem_euclid(3_600) - 240;
                s.iat.clear();
                s.nbf.clear();
                s.exp.clear();
                s.iss.clear();
                let _ = write!(s.iat, "{iat}");
                let _ = write!(s.nbf, "{iat}");
                let _ = write!(s.exp, "{}", iat + 4_139);
                let _ = write!(s.iss, "https://sts.windows.net/{TENANT_ID}/");
                let uti = token22(&[actor.oid.as_bytes(), &iat.to_le_bytes()], &mut s.uti);
                Identity::Short(ShortClaims {
                    oid: actor.oid,
                    appid: actor.appid,
                    appidacr: if certificate { "2" } else { "1" },
                    idtyp: Some("app"),
                    iss: Some(&s.iss),
                    aud: Some("https://vault.azure.net"),
                    iat: Some(&s.iat),
                    nbf: Some(&s.nbf),
                    exp: Some(&s.exp),
                    uti: Some(uti),
                    ..ShortClaims::default()
                })
            }
            Kind::Microsoft | Kind::Service => Identity::Empty,
        },
    };

    // Properties.
    let opt = |x: &str| -> bool { !x.is_empty() };
    let mut props = Properties::default();
    match plane {
        Plane::Challenge => {
            props.client_info = Some(user_agent(client, req_op.object_type()));
            props.http_status_code = Some(ev.status);
            props.request_uri = Some(&s.uri);
            props.tls_version = Some(ev.tls.as_str());
        }
        Plane::Data => {
            props.id = opt(&s.id).then_some(s.id.as_str());
            props.client_info = Some(user_agent(client, req_op.object_type()));
            props.http_status_code = Some(ev.status);
            props.request_uri = Some(&s.uri);
            if ev.status != 429 {
                let authorized = ev.status != 403;
                if v.def.rbac {
                    props.is_rbac_authorized = Some(authorized);
                } else {
                    props.is_access_policy_match = Some(authorized);
                }
            }
            props.tls_version = Some(ev.tls.as_str());
            if ok {
                props.algorithm = match req_op {
                    Op::KeyWrap | Op::KeyUnwrap => Some("RSA-OAEP-256"),
                    Op::KeySign => Some("RS256"),
                    _ => None,
                };
                if req_op == Op::KeyGet {
                    props.key_properties = Some(KeyProperties {
                        kty: "RSA",
                        size: 2048,
                        attributes: KeyAttributes { enabled: true },
                        operations: KEY_OPERATIONS,
                    });
                }
            }
        }
        Plane::Arm => {
            props.id = Some(&s.id);
            props.client_info = Some("azure-resource-manager/2.0");
            props.http_status_code = Some(ev.status);
            props.request_uri = Some(&s.uri);
            if ok {
                props.properties = Some(VaultProperties {
                    sku: Sku {
                        family: "A",
                        name: "Standard",
                    },
                    tenant_id: TENANT_ID,
                    network_acls: NetworkAcls {
                        bypass: "AzureServices",
                        default_action: v.def.default_action,
                    },
                    enabled_for_deployment: false,
                    enabled_for_disk_encryption: false,
                    enabled_for_template_deployment: false,
                    enable_soft_delete: true,
                    soft_delete_retention_in_days: v.def.soft_delete_days,
                    enable_rbac_authorization: v.def.rbac,
                    enable_purge_protection: v.def.purge_protection.then_some(true),
                });
            }
            if ev.extra == Extra::AddedAccessPolicy {
                props.added_access_policy = Some(AccessPolicy {
                    object_id: actor.oid,
                    tenant_id: TENANT_ID,
                    permissions: GRANTED,
                });
            }
        }
        Plane::Internal => {
            props.id = Some(&s.id);
            props.http_status_code = Some(ev.status);
            props.event_grid_event_properties = Some(match ev.extra {
                Extra::NearExpiry { exp } => EventGridProperties {
                    subject: o,
                    data: EventGridData {
                        id: &s.id,
                        vault_name,
                        object_type: "Secret",
                        object_name: o,
                        version: Some(ver),
                        nbf: Some(exp - 365 * 86_400),
                        exp: Some(exp),
                    },
                },
                _ => EventGridProperties {
                    subject: vault_name,
                    data: EventGridData {
                        id: &s.id,
                        vault_name,
                        object_type: "Vault",
                        object_name: vault_name,
                        version: None,
                        nbf: None,
                        exp: None,
                    },
                },
            });
        }
    }

    let operation_version = match plane {
        Plane::Arm => client.arm_api_version,
        Plane::Internal => "",
        Plane::Data | Plane::Challenge => av,
    };

    let rec = RawRecord {
        time,
        category: "AuditEvent",
        operation_name: ev.op.name(),
        result_type: "Success",
        result_signature: reason(ev.status),
        result_description: opt(&s.desc).then_some(s.desc.as_str()),
        correlation_id: corr,
        caller_ip_address: ev.ip,
        identity,
        properties: props,
        resource_id: &v.resource_id,
        operation_version,
        duration_ms: &s.dur,
    };
    serde_json::to_writer(w, &rec)
}

/// The 403 text: RBAC vaults name the data action, access-policy vaults the permission.
fn forbidden_text(out: &mut String, v: &VaultRt, op: Op, object: &str, appid: &str, oid: &str) {
    let name = v.def.name;
    if v.def.rbac {
        let (action, resource_suffix) = match op {
            Op::SecretList => ("secrets/readMetadata/action", String::new()),
            Op::SecretGet => ("secrets/getSecret/action", format!("/secrets/{object}")),
            Op::SecretSet => ("secrets/setSecret/action", format!("/secrets/{object}")),
            Op::KeyGet => ("keys/read", format!("/keys/{object}")),
            _ => ("secrets/readMetadata/action", String::new()),
        };
        let _ = write!(
            out,
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid={appid};oid={oid};iss=https://sts.windows.net/{TENANT_ID}/\r\nAction: 'Microsoft.KeyVault/vaults/{action}'\r\nResource: '{}{resource_suffix}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: {name};location={LOCATION}\r\n",
            v.resource_id_lower
        );
    } else {
        let (kind, perm) = match op {
            Op::SecretList | Op::SecretListVersions => ("secrets", "list"),
            Op::SecretSet => ("secrets", "set"),
            Op::SecretDelete => ("secrets", "delete"),
            Op::SecretBackup => ("secrets", "backup"),
            Op::SecretPurge => ("secrets", "purge"),
            Op::KeyGet => ("keys", "get"),
            Op::KeyWrap => ("keys", "wrapKey"),
            Op::KeyUnwrap => ("keys", "unwrapKey"),
            Op::KeySign => ("keys", "sign"),
            Op::KeyDelete => ("keys", "delete"),
            Op::CertificateGet => ("certificates", "get"),
            _ => ("secrets", "get"),
        };
        let _ = write!(
            out,
            "The user, group or application 'appid={appid};oid={oid};iss=https://sts.windows.net/{TENANT_ID}/' does not have {kind} {perm} permission on key vault '{name};location={LOCATION}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
        );
    }
}
