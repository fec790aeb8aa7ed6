//! Rows of the two Log Analytics tables Key Vault writes to, from JSON or CSV
//! exports: the legacy shared `AzureDiagnostics` table (flattened,
//! type-suffixed columns) and the resource-specific `AZKVAuditLogs` table
//! (PascalCase columns, `Identity` as a dynamic object).

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::ingest::formats::raw::IdentityEnvelope;
use crate::ingest::identity::Claims;
use crate::ingest::lenient::is_null_text;
use crate::ingest::normalise::{RecordFields, Rejected};
use crate::ingest::rejections::RejectReason;
use crate::ingest::schema::{Cow, Event};

/// Which table a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    AzureDiagnostics,
    AzkvAuditLogs,
}

/// One exported row: column name and its value as text (null values left out).
#[derive(Debug, Default)]
pub struct Row<'a> {
    fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Columns whose JSON value was a non-empty object or array.
    nested: Vec<Cow<'a, str>>,
}

/// Columns each table's rows are read from as scalars (besides the
/// AzureDiagnostics property and claim columns, matched by prefix): an
/// object or array there is a field kvaudit cannot read.
const AZURE_DIAGNOSTICS_SCALARS: [&str; 14] = [
    "TimeGenerated",
    "Category",
    "ResourceId",
    "_ResourceId",
    "Resource",
    "ResourceProvider",
    "OperationName",
    "OperationVersion",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CallerIPAddress",
    "CorrelationId",
];
const AZURE_DIAGNOSTICS_PROPERTIES: [&str; 10] = [
    "clientInfo",
    "id",
    "requestUri",
    "httpStatusCode",
    "isAccessPolicyMatch",
    "isRbacAuthorized",
    "appliedAssignmentId",
    "tlsVersion",
    "algorithm",
    "eventGridEventProperties_data_EXP",
];
const AZKV_AUDIT_LOGS_SCALARS: [&str; 21] = [
    "TimeGenerated",
    "Category",
    "_ResourceId",
    "ResourceId",
    "OperationName",
    "OperationVersion",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CallerIpAddress",
    "CallerIPAddress",
    "CorrelationId",
    "ClientInfo",
    "Id",
    "RequestUri",
    "HttpStatusCode",
    "IsAccessPolicyMatch",
    "IsRbacAuthorized",
    "AppliedAssignmentId",
    "Tlsversion",
];

/// Type suffixes AzureDiagnostics appends to property columns. The suffix is
/// fixed when a workspace first sees a field, so any of them may appear.
const TYPE_SUFFIXES: [&str; 5] = ["_s", "_d", "_b", "_g", "_t"];

impl<'a> Row<'a> {
    pub fn push(&mut self, name: Cow<'a, str>, value: Cow<'a, str>) {
        if !is_null_text(&value) {
            self.fields.push((name, value));
        }
    }

    /// Parses a JSON object row; nested objects and arrays are kept as JSON text.
    pub fn from_json(json: &'a str) -> Result<Row<'a>, Rejected> {
        let map: HashMap<String, &'a RawValue> =
            serde_json::from_str(json).map_err(super::json_error)?;
        let mut row = Row::default();
        for (name, raw) in map {
            let text = raw.get();
            let value = if text.starts_with('"') {
                match serde_json::from_str::<&'a str>(text) {
                    Ok(s) => Cow::Borrowed(s),
                    Err(_) => {
                        Cow::Owned(serde_json::from_str::<String>(text).map_err(super::json_error)?)
                    }
                }
            } else if text == "null" {
                continue;
            } else {
                if (text.starts_with('{') && text != "{}")
                    || (text.starts_with('[') && text != "[]")
                {
                    row.nested.push(Cow::Owned(name.clone()));
                }
                Cow::Borrowed(text)
            };
            row.push(Cow::Owned(name), value);
        }
        Ok(row)
    }

    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// An AzureDiagnostics property column under whichever type suffix it has.
    fn get_suffixed(&self, base: &str) -> Option<Cow<'a, str>> {
        self.fields
            .iter()
            .find(|(n, _)| {
                n.strip_prefix(base)
                    .is_some_and(|suffix| TYPE_SUFFIXES.contains(&suffix))
            })
            .map(|(_, v)| v.clone())
    }

    /// Which table the row belongs to, from its columns; `None` when neither.
    pub fn table(&self) -> Option<Table> {
        if let Some(kind) = self.get("Type") {
            if kind.eq_ignore_ascii_case("AzureDiagnostics") {
                return Some(Table::AzureDiagnostics);
            }
            if kind.eq_ignore_ascii_case("AZKVAuditLogs") {
                return Some(Table::AzkvAuditLogs);
            }
        }
        if !self.has("OperationName") {
            return None;
        }
        let diagnostics = self.has("ResourceProvider")
            || self.has("CallerIPAddress")
            || self.fields.iter().any(|(n, _)| {
                n.starts_with("identity_claim_") || TYPE_SUFFIXES.iter().any(|s| n.ends_with(s))
            });
        Some(if diagnostics {
            Table::AzureDiagnostics
        } else {
            Table::AzkvAuditLogs
        })
    }

    /// The first column read as a scalar that holds an object or array.
    fn nested_scalar(&self, table: Table) -> Option<&str> {
        self.nested
            .iter()
            .map(|n| n.as_ref())
            .find(|name| match table {
                Table::AzureDiagnostics => {
                    AZURE_DIAGNOSTICS_SCALARS.contains(name)
                        || name.strip_prefix("identity_claim_").is_some_and(|claim| {
                            let claim = TYPE_SUFFIXES
                                .iter()
                                .find_map(|s| claim.strip_suffix(s))
                                .unwrap_or(claim);
                            claim_slot(&mut Claims::default(), claim).is_some()
                        })
                        || AZURE_DIAGNOSTICS_PROPERTIES.iter().any(|base| {
                            name.strip_prefix(base)
                                .is_some_and(|suffix| TYPE_SUFFIXES.contains(&suffix))
                        })
                }
                Table::AzkvAuditLogs => {
                    AZKV_AUDIT_LOGS_SCALARS.contains(name)
                        || ["TlsVersion", "Algorithm"].contains(name)
                }
            })
    }

    pub fn normalise(&self, table: Table) -> Result<Event<'a>, Rejected> {
        if let Some(column) = self.nested_scalar(table) {
            return Err((
                RejectReason::InvalidField,
                format!("field `{column}`: an object or array where a single value belongs"),
            ));
        }
        match table {
            Table::AzureDiagnostics => self.azure_diagnostics(),
            Table::AzkvAuditLogs => self.azkv_audit_logs(),
        }
    }

    fn azure_diagnostics(&self) -> Result<Event<'a>, Rejected> {
        RecordFields {
            time: self.get("TimeGenerated"),
            category: self.get("Category"),
            resource_id: self.get("ResourceId").or_else(|| self.get("_ResourceId")),
            resource_name: self.get("Resource"),
            resource_provider: self.get("ResourceProvider"),
            operation: self.get("OperationName"),
            operation_version: self.get("OperationVersion"),
            result_type: self.get("ResultType"),
            result_signature: self.get("ResultSignature"),
            result_description: self.get("ResultDescription"),
            duration_ms: self.get("DurationMs"),
            caller_ip: self.get("CallerIPAddress"),
            correlation_id: self.get("CorrelationId"),
            client_info: self.get_suffixed("clientInfo"),
            object_uri: self.get_suffixed("id"),
            request_uri: self.get_suffixed("requestUri"),
            http_status: self.get_suffixed("httpStatusCode"),
            is_access_policy_match: self.get_suffixed("isAccessPolicyMatch"),
            is_rbac_authorized: self.get_suffixed("isRbacAuthorized"),
            assignment_id: self.get_suffixed("appliedAssignmentId"),
            tls_version: self.get_suffixed("tlsVersion"),
            algorithm: self.get_suffixed("algorithm"),
            expires: self.get_suffixed("eventGridEventProperties_data_EXP"),
            // `TenantId` in a workspace table is the workspace id, not the caller's tenant.
            claims: self.claim_columns(),
            ..RecordFields::default()
        }
        .normalise()
    }

    fn azkv_audit_logs(&self) -> Result<Event<'a>, Rejected> {
        let claims = match self.get("Identity") {
            Some(json) => IdentityEnvelope::from_json_text(&json).map_err(|e| {
                (
                    RejectReason::InvalidField,
                    format!("Identity is not a JSON identity object: {e}"),
                )
            })?,
            None => Claims::default(),
        };
        RecordFields {
            time: self.get("TimeGenerated"),
            category: self.get("Category"),
            resource_id: self.get("_ResourceId").or_else(|| self.get("ResourceId")),
            operation: self.get("OperationName"),
            operation_version: self.get("OperationVersion"),
            result_type: self.get("ResultType"),
            result_signature: self.get("ResultSignature"),
            result_description: self.get("ResultDescription"),
            duration_ms: self.get("DurationMs"),
            caller_ip: self
                .get("CallerIpAddress")
                .or_else(|| self.get("CallerIPAddress")),
            correlation_id: self.get("CorrelationId"),
            client_info: self.get("ClientInfo"),
            object_uri: self.get("Id"),
            request_uri: self.get("RequestUri"),
            http_status: self.get("HttpStatusCode"),
            is_access_policy_match: self.get("IsAccessPolicyMatch"),
            is_rbac_authorized: self.get("IsRbacAuthorized"),
            assignment_id: self.get("AppliedAssignmentId"),
            tls_version: self.get("Tlsversion").or_else(|| self.get("TlsVersion")),
            algorithm: self.get("Algorithm"),
            expires: self
                .get("EventGridEventProperties")
                .and_then(|json| event_grid_expiry(&json)),
            claims,
            ..RecordFields::default()
        }
        .normalise()
    }

    /// `identity_claim_<claim>_<suffix>` columns back into claims; URI claim
    /// names have their `/`, `:` and `.` replaced by `_` in these columns.
    fn claim_columns(&self) -> Claims<'a> {
        let mut claims = Claims::default();
        for (name, value) in &self.fields {
            let Some(claim) = name.strip_prefix("identity_claim_") else {
                continue;
            };
            let claim = TYPE_SUFFIXES
                .iter()
                .find_map(|s| claim.strip_suffix(s))
                .unwrap_or(claim);
            let Some(slot) = claim_slot(&mut claims, claim) else {
                continue;
            };
            *slot = Some(value.clone());
        }
        claims
    }
}

/// The claim an `identity_claim_<claim>` column fills, if kvaudit reads it.
fn claim_slot<'c, 'a>(
    claims: &'c mut Claims<'a>,
    claim: &str,
) -> Option<&'c mut Option<Cow<'a, str>>> {
    Some(match claim {
        "oid" => &mut claims.oid,
        "http_schemas_microsoft_com_identity_claims_objectidentifier" => {
            &mut claims.object_identifier
        }
        "appid" => &mut claims.appid,
        "azp" => &mut claims.azp,
        "appidacr" => &mut claims.appidacr,
        "azpacr" => &mut claims.azpacr,
        "upn" => &mut claims.upn,
        "http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn" => &mut claims.upn_uri,
        "unique_name" => &mut claims.unique_name,
        "http_schemas_xmlsoap_org_ws_2005_05_identity_claims_name" => &mut claims.name_uri,
        "idtyp" => &mut claims.idtyp,
        "xms_mirid" => &mut claims.xms_mirid,
        "tid" => &mut claims.tid,
        "http_schemas_microsoft_com_identity_claims_tenantid" => &mut claims.tenant_id_uri,
        "scp" | "http_schemas_microsoft_com_identity_claims_scope" => &mut claims.scp,
        _ => return None,
    })
}

/// `data.EXP` of an `EventGridEventProperties` dynamic value (JSON text).
fn event_grid_expiry(json: &str) -> Option<Cow<'static, str>> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    match &value["data"]["EXP"] {
        serde_json::Value::Number(n) => Some(Cow::Owned(n.to_string())),
        serde_json::Value::String(s) => Some(Cow::Owned(s.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::schema::IdentityKind;

    #[test]
    fn az_cli_export_with_every_value_a_string() {
        let json = r#"{"TenantId":"t","TimeGenerated":"2026-11-20T10:00:00.1234567Z",
            "ResourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-WEB",
            "Category":"AuditEvent","ResourceProvider":"MICROSOFT.KEYVAULT","Resource":"KV-WEB",
            "OperationName":"SecretGet","ResultType":"Success","ResultSignature":"OK","DurationMs":"12",
            "CallerIPAddress":"10.0.0.4","id_s":"https://kv-web.vault.azure.net/secrets/Db/0123456789abcdef0123456789abcdef",
            "httpStatusCode_d":"200.0","isAccessPolicyMatch_b":"True","identity_claim_oid_g":"OID",
            "identity_claim_appid_g":"APP","identity_claim_idtyp_s":"app","identity_claim_appidacr_s":"1",
            "identity_claim_upn_s":"None","TableName":"PrimaryResult"}"#;
        let row = Row::from_json(json).unwrap();
        assert_eq!(row.table(), Some(Table::AzureDiagnostics));
        let e = row.normalise(Table::AzureDiagnostics).unwrap();
        assert_eq!(e.vault.as_deref(), Some("kv-web"));
        assert_eq!(e.http_status, Some(200));
        assert_eq!(e.duration_ms, Some(12));
        assert_eq!(e.object_name.as_deref(), Some("db"));
        assert_eq!(e.authorized, Some(true));
        assert_eq!(e.identity_kind, Some(IdentityKind::ServicePrincipal));
        assert_eq!(e.upn, None);
    }

    #[test]
    fn azkv_row_with_identity_as_object_or_string() {
        for identity in [
            r#"{"claim":{"oid":"O","appid":"A","upn":"u@x.com"}}"#.to_owned(),
            serde_json::to_string(r#"{"claim":{"oid":"O","appid":"A","upn":"u@x.com"}}"#).unwrap(),
        ] {
            let json = format!(
                r#"{{"TimeGenerated":"2026-11-20T10:00:00Z","OperationName":"KeyGet","HttpStatusCode":403,
                "_ResourceId":"/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv1",
                "Identity":{identity},"Tlsversion":"TLS1_2","IsRbacAuthorized":false,"Type":"AZKVAuditLogs"}}"#
            );
            let row = Row::from_json(&json).unwrap();
            assert_eq!(row.table(), Some(Table::AzkvAuditLogs));
            let e = row.normalise(Table::AzkvAuditLogs).unwrap();
            assert_eq!(e.principal_id.as_deref(), Some("o"));
            assert_eq!(e.identity_kind, Some(IdentityKind::User));
            assert_eq!((e.authorization, e.authorized), (Some("rbac"), Some(false)));
            assert_eq!(e.http_status, Some(403));
        }
    }

    #[test]
    fn other_resource_providers_are_rejected() {
        let json = r#"{"TimeGenerated":"2026-11-20T10:00:00Z","OperationName":"GetBlob",
            "ResourceProvider":"MICROSOFT.STORAGE","Category":"StorageRead","Type":"AzureDiagnostics"}"#;
        let row = Row::from_json(json).unwrap();
        let (reason, _) = row.normalise(row.table().unwrap()).unwrap_err();
        assert_eq!(reason, RejectReason::NotKeyVaultRecord);
    }
}
