//! From the fields a record carries (whatever the export called them) to one
//! normalised [`Event`]. Every format reads its own field names into
//! [`RecordFields`]; the rules below run once for all of them.

use std::cell::RefCell;

use super::identity::Claims;
use super::lenient::{is_null_text, parse_bool, parse_integer};
use super::rejections::RejectReason;
use super::resource::{ObjectRef, ResourceRef};
use super::schema::{Cow, Event};
use super::time::{parse_time, plausible};
use crate::memo::{Memo, remembered};

/// A record's fields under their meaning, before normalisation.
#[derive(Debug, Default)]
pub struct RecordFields<'a> {
    pub time: Option<Cow<'a, str>>,
    pub category: Option<Cow<'a, str>>,
    pub resource_id: Option<Cow<'a, str>>,
    /// The resource name column of table exports (`Resource`), when there is no id.
    pub resource_name: Option<Cow<'a, str>>,
    pub resource_provider: Option<Cow<'a, str>>,
    pub operation: Option<Cow<'a, str>>,
    pub operation_version: Option<Cow<'a, str>>,
    pub result_type: Option<Cow<'a, str>>,
    pub result_signature: Option<Cow<'a, str>>,
    pub result_description: Option<Cow<'a, str>>,
    pub duration_ms: Option<Cow<'a, str>>,
    pub caller_ip: Option<Cow<'a, str>>,
    pub correlation_id: Option<Cow<'a, str>>,
    pub client_info: Option<Cow<'a, str>>,
    pub object_uri: Option<Cow<'a, str>>,
    pub request_uri: Option<Cow<'a, str>>,
    pub http_status: Option<Cow<'a, str>>,
    pub is_access_policy_match: Option<Cow<'a, str>>,
    pub is_rbac_authorized: Option<Cow<'a, str>>,
    pub assignment_id: Option<Cow<'a, str>>,
    pub tls_version: Option<Cow<'a, str>>,
    pub algorithm: Option<Cow<'a, str>>,
    /// `eventGridEventProperties.data.EXP`: Unix seconds.
    pub expires: Option<Cow<'a, str>>,
    pub tenant_id: Option<Cow<'a, str>>,
    pub claims: Claims<'a>,
}

// Values parsed per thread, by their text. A blob holds one vault's records
// and clients call the same objects again and again, so nearly every record
// repeats resource ids and object URIs already parsed.
thread_local! {
    static RESOURCES: Memo<String, ResourceRef> = RefCell::default();
    static OBJECTS: Memo<String, ObjectRef> = RefCell::default();
}

/// Why a record was rejected, with a detail for the user.
pub type Rejected = (RejectReason, String);

fn clean<'a>(value: Option<Cow<'a, str>>) -> Option<Cow<'a, str>> {
    value.filter(|v| !is_null_text(v))
}

/// A field that must be an integer: absent is fine, anything else is an
/// `invalid-field` rejection naming it.
fn integer(name: &str, value: Option<Cow<'_, str>>) -> Result<Option<u64>, Rejected> {
    match clean(value) {
        None => Ok(None),
        Some(v) => parse_integer(&v).map(Some).ok_or_else(|| {
            (
                RejectReason::InvalidField,
                format!("field `{name}`: {v:?} is not a whole number"),
            )
        }),
    }
}

fn out_of_range(name: &str, value: u64) -> Rejected {
    (
        RejectReason::InvalidField,
        format!("field `{name}`: {value} is out of range"),
    )
}

/// A field that must be a boolean (`true`, `"True"`, `1`, ...).
fn boolean(name: &str, value: Option<Cow<'_, str>>) -> Result<Option<bool>, Rejected> {
    match clean(value) {
        None => Ok(None),
        Some(v) => parse_bool(&v).map(Some).ok_or_else(|| {
            (
                RejectReason::InvalidField,
                format!("field `{name}`: {v:?} is not true or false"),
            )
        }),
    }
}

impl<'a> RecordFields<'a> {
    /// Applies the normalisation rules; a record that is not a Key Vault
    /// audit event, or lacks its time or operation, is rejected.
    pub fn normalise(self) -> Result<Event<'a>, Rejected> {
        let resource = self
            .resource_id
            .as_deref()
            .map(|id| remembered(&RESOURCES, id, ResourceRef::parse))
            .unwrap_or_default();
        let provider_is_key_vault = resource.is_key_vault()
            && self
                .resource_provider
                .as_deref()
                .is_none_or(|p| is_null_text(p) || p.eq_ignore_ascii_case("microsoft.keyvault"));
        let operation = clean(self.operation);
        let time = clean(self.time);
        if !provider_is_key_vault {
            let what = self
                .resource_id
                .as_deref()
                .or(self.resource_provider.as_deref());
            return Err((
                RejectReason::NotKeyVaultRecord,
                format!("resource {} is not a Key Vault", what.unwrap_or("?")),
            ));
        }
        if operation.is_none() && time.is_none() {
            return Err((
                RejectReason::NotKeyVaultRecord,
                "no operationName and no time: not a Key Vault audit record".into(),
            ));
        }
        if let Some(category) = self.category.as_deref().filter(|c| !is_null_text(c))
            && !category.eq_ignore_ascii_case("AuditEvent")
        {
            return Err((
                RejectReason::NotAuditEvent,
                format!("category {category:?} is not AuditEvent"),
            ));
        }
        let Some(operation) = operation else {
            return Err((RejectReason::MissingOperation, "no operationName".into()));
        };
        let Some(time) = time else {
            return Err((
                RejectReason::MissingTime,
                format!("{operation} record has no time"),
            ));
        };
        let Some(time_ns) = parse_time(&time) else {
            return Err((
                RejectReason::InvalidTime,
                format!("time {time:?} is not a date and time"),
            ));
        };
        if let Err(why) = plausible(time_ns) {
            return Err((RejectReason::ImplausibleTime, format!("{why} ({time:?})")));
        }

        let object_uri = clean(self.object_uri);
        let request_uri = clean(self.request_uri);
        let object = object_uri
            .as_deref()
            .or(request_uri.as_deref())
            .map(|uri| remembered(&OBJECTS, uri, ObjectRef::parse))
            .unwrap_or_default();
        let vault = resource
            .name
            .or_else(|| clean(self.resource_name).map(|n| n.to_ascii_lowercase()))
            .or(object.vault);
        let resource_type = resource.resource_type.or_else(|| {
            object_uri
                .as_deref()
                .or(request_uri.as_deref())
                .filter(|u| u.contains(".managedhsm."))
                .map(|_| "managedhsms".to_owned())
        });

        let (authorization, authorized) = match (
            boolean("isAccessPolicyMatch", self.is_access_policy_match)?,
            boolean("isRbacAuthorized", self.is_rbac_authorized)?,
        ) {
            (_, Some(rbac)) => (Some("rbac"), Some(rbac)),
            (Some(policy), None) => (Some("access-policy"), Some(policy)),
            (None, None) => (None, None),
        };

        let principal = self.claims.into_principal();
        let tenant_id = principal
            .tenant_id
            .or_else(|| clean(self.tenant_id).map(|t| t.to_ascii_lowercase()));

        Ok(Event {
            time_ns,
            vault,
            resource_type,
            subscription_id: resource.subscription_id,
            resource_group: resource.resource_group,
            operation,
            operation_version: clean(self.operation_version),
            object_type: object.object_type,
            object_name: object.name,
            object_version: object.version,
            expires_ns: integer("eventGridEventProperties.data.EXP", self.expires)?
                .map(|seconds| {
                    i64::try_from(seconds)
                        .ok()
                        .and_then(|s| s.checked_mul(1_000_000_000))
                        .ok_or_else(|| out_of_range("eventGridEventProperties.data.EXP", seconds))
                })
                .transpose()?,
            http_status: integer("httpStatusCode", self.http_status)?
                .map(|v| u16::try_from(v).map_err(|_| out_of_range("httpStatusCode", v)))
                .transpose()?,
            result_type: clean(self.result_type),
            result_signature: clean(self.result_signature),
            result_description: clean(self.result_description),
            duration_ms: integer("durationMs", self.duration_ms)?
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
            caller_ip: clean(self.caller_ip),
            tls_version: clean(self.tls_version),
            client_info: clean(self.client_info),
            correlation_id: clean(self.correlation_id),
            request_uri,
            principal_id: principal.principal_id,
            app_id: principal.app_id,
            upn: principal.upn,
            tenant_id,
            identity_kind: principal.kind,
            credential_kind: principal.credential,
            managed_identity: principal.managed_identity,
            authorization,
            authorized,
            assignment_id: clean(self.assignment_id),
            algorithm: clean(self.algorithm),
        })
    }
}
