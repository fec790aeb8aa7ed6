//! The raw AuditEvent record, as Key Vault writes it to storage accounts and
//! Event Hubs (camelCase keys, `identity.claim`, `properties`).
//!
//! Parsed into borrowed fields with serde: this is the hot path of ingest.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::ingest::identity::Claims;
use crate::ingest::lenient::field;
use crate::ingest::normalise::{RecordFields, Rejected};
use crate::ingest::rejections::RejectReason;
use crate::ingest::schema::{Cow, Event};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRecord<'a> {
    #[serde(borrow, default, deserialize_with = "field")]
    time: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    resource_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    operation_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    operation_version: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    category: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    result_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    result_signature: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    result_description: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    duration_ms: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    caller_ip_address: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    correlation_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "identity")]
    identity: Claims<'a>,
    #[serde(borrow, default)]
    properties: RawProperties<'a>,
    // Managed HSM records carry these at the top level instead of in `properties`.
    #[serde(borrow, default, deserialize_with = "field")]
    client_info: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    http_status_code: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    request_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field", rename = "TenantId")]
    tenant_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawProperties<'a> {
    #[serde(borrow, default, deserialize_with = "field")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    client_info: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    http_status_code: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    request_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    is_access_policy_match: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    is_rbac_authorized: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    applied_assignment_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    tls_version: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    algorithm: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_grid_event_properties: Option<EventGridProperties<'a>>,
}

/// The Event Grid event a `*EventGridNotification` record carries.
#[derive(Deserialize, Default)]
struct EventGridProperties<'a> {
    #[serde(borrow, default)]
    data: Option<EventGridData<'a>>,
}

#[derive(Deserialize, Default)]
struct EventGridData<'a> {
    #[serde(borrow, default, deserialize_with = "field", rename = "EXP")]
    expires: Option<Cow<'a, str>>,
}

/// `{"claim": {...}}`, `{}`, or the same JSON encoded in a string (Managed HSM).
#[derive(Deserialize, Default)]
pub(crate) struct IdentityEnvelope<'a> {
    #[serde(borrow, default)]
    claim: Claims<'a>,
}

impl<'a> IdentityEnvelope<'a> {
    /// Reads an identity written as JSON text (a table's dynamic column, an HSM record).
    pub(crate) fn from_json_text(json: &str) -> Result<Claims<'static>, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(json)?;
        IdentityEnvelope::deserialize(value).map(|e| e.claim)
    }
}

fn identity<'de, D: Deserializer<'de>>(d: D) -> Result<Claims<'de>, D::Error> {
    struct IdentityVisitor;
    impl<'de> Visitor<'de> for IdentityVisitor {
        type Value = Claims<'de>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an identity object or its JSON text")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            IdentityEnvelope::deserialize(de::value::MapAccessDeserializer::new(map))
                .map(|e| e.claim)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.trim().is_empty() {
                return Ok(Claims::default());
            }
            IdentityEnvelope::from_json_text(v)
                .map_err(|e| E::custom(format!("identity text: {e}")))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Claims::default())
        }
    }
    d.deserialize_any(IdentityVisitor)
}

/// Parses one raw AuditEvent record.
pub fn parse(json: &str) -> Result<Event<'_>, Rejected> {
    let record: RawRecord = serde_json::from_str(json).map_err(|e| field_error(json, e))?;
    let RawRecord {
        time,
        resource_id,
        operation_name,
        operation_version,
        category,
        result_type,
        result_signature,
        result_description,
        duration_ms,
        caller_ip_address,
        correlation_id,
        identity,
        properties: p,
        client_info,
        http_status_code,
        request_uri,
        tenant_id,
    } = record;
    RecordFields {
        time,
        category,
        resource_id,
        operation: operation_name,
        operation_version,
        result_type,
        result_signature,
        result_description,
        duration_ms,
        caller_ip: caller_ip_address,
        correlation_id,
        client_info: p.client_info.or(client_info),
        object_uri: p.id,
        request_uri: p.request_uri.or(request_uri),
        http_status: p.http_status_code.or(http_status_code),
        is_access_policy_match: p.is_access_policy_match,
        is_rbac_authorized: p.is_rbac_authorized,
        assignment_id: p.applied_assignment_id,
        tls_version: p.tls_version,
        algorithm: p.algorithm,
        expires: p
            .event_grid_event_properties
            .and_then(|e| e.data)
            .and_then(|d| d.expires),
        tenant_id,
        claims: identity,
        ..RecordFields::default()
    }
    .normalise()
}

/// Why a record did not deserialize. For a field of a type kvaudit cannot
/// read, the record is read again, tracking where it is, to name the field
/// (only then: the fast path knows no field names).
fn field_error(json: &str, e: serde_json::Error) -> Rejected {
    if e.classify() != serde_json::error::Category::Data {
        return super::json_error(e);
    }
    let mut de = serde_json::Deserializer::from_str(json);
    match serde_path_to_error::deserialize::<_, RawRecord>(&mut de) {
        Err(traced) => (
            RejectReason::InvalidField,
            format!("field `{}`: {}", traced.path(), traced.inner()),
        ),
        Ok(_) => super::json_error(e),
    }
}

/// Whether a JSON object is a raw AuditEvent rather than a table row.
pub fn looks_raw(json: &str) -> bool {
    memchr::memmem::find(json.as_bytes(), b"\"operationName\"").is_some()
        || memchr::memmem::find(json.as_bytes(), b"\"OperationName\"").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_of_the_wrong_type_is_rejected_by_name() {
        let record = |extra: &str| {
            format!(
                r#"{{"time":"2026-11-20T10:00:00Z","operationName":"SecretGet","category":"AuditEvent",
                "resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV",{extra}}}"#
            )
        };
        assert!(
            parse(&record(
                r#""durationMs":"12","identity":{"claim":{"xms_az_nwperimid":[]}}"#
            ))
            .is_ok()
        );
        for (extra, field) in [
            (r#""durationMs":{"v":12}"#, "durationMs"),
            (
                r#""properties":{"httpStatusCode":[200]}"#,
                "properties.httpStatusCode",
            ),
            (r#""identity":{"claim":{"oid":{"a":1}}}"#, "identity"),
            (r#""properties":{"httpStatusCode":"OK"}"#, "httpStatusCode"),
            (
                r#""properties":{"isRbacAuthorized":"perhaps"}"#,
                "isRbacAuthorized",
            ),
        ] {
            let json = record(extra);
            let (reason, detail) = parse(&json).unwrap_err();
            assert_eq!(reason, RejectReason::InvalidField, "{extra}");
            assert!(detail.contains(field), "{extra}: {detail}");
        }
    }
}
