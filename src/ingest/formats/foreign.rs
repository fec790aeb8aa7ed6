//! Records of a vault that are not audit events: what they are, in words.
//!
//! Diagnostic settings and exports mix in a vault's other logs: its metrics
//! (`AzureMetrics` in a workspace, `insights-metrics-pt1m` blobs) and its
//! Activity Log (control-plane operations, from `az monitor activity-log
//! list` or `insights-activity-logs` blobs). Such a record has a time and
//! names the vault, so "not a Key Vault record" would be false, and a
//! metric is not damaged either: each is a `not-audit-event` that says what
//! it is. Only rejected records are looked at here, so the cost is theirs.

use serde_json::Value;

/// The categories of the Activity Log (Azure Monitor's event categories).
const ACTIVITY_LOG_CATEGORIES: [&str; 8] = [
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
];

/// Where kvaudit's records come from, said after each foreign record.
const WHERE_AUDIT_EVENTS_ARE: &str = "not a Key Vault audit event (kvaudit reads the vault's \
     AuditEvent diagnostic logs)";

/// `field`, or its PascalCase spelling (a workspace's column).
fn field<'v>(record: &'v Value, camel: &str) -> Option<&'v Value> {
    let mut pascal = camel.to_owned();
    if let Some(first) = pascal.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    record.get(camel).or_else(|| record.get(pascal.as_str()))
}

/// A text field, or the `value` of an Activity Log's `{value, localizedValue}`.
fn text<'v>(record: &'v Value, camel: &str) -> Option<&'v str> {
    match field(record, camel)? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("value")?.as_str(),
        _ => None,
    }
}

/// ` of vault NAME` from a resource id, when it names one.
fn of_vault(resource_id: Option<&str>) -> String {
    resource_id
        .and_then(|id| {
            let lower = id.to_ascii_lowercase();
            let at = lower.find("/vaults/")?;
            let name = id.get(at + "/vaults/".len()..)?;
            Some(name.split('/').next().unwrap_or(name).to_ascii_lowercase())
        })
        .map(|name| format!(" of vault {name}"))
        .unwrap_or_default()
}

/// What a metric record or row is.
pub fn metric(name: &str, resource_id: Option<&str>) -> String {
    format!(
        "an AzureMetrics record (metric {name}){}: a metric, {WHERE_AUDIT_EVENTS_ARE}",
        of_vault(resource_id)
    )
}

/// What a JSON record is, when it is a metric or an Activity Log entry.
pub fn describe(json: &str) -> Option<String> {
    let record: Value = serde_json::from_str(json).ok()?;
    let resource_id = text(&record, "resourceId").or_else(|| text(&record, "_ResourceId"));
    let kind = text(&record, "type");
    if let Some(name) = text(&record, "metricName") {
        return Some(metric(name, resource_id));
    }
    if kind.is_some_and(|t| t.eq_ignore_ascii_case("AzureMetrics")) {
        return Some(metric("?", resource_id));
    }
    let category = text(&record, "category");
    let structured = field(&record, "operationName").is_some_and(Value::is_object);
    let activity = record.get("eventTimestamp").is_some()
        || structured
        || kind.is_some_and(|t| t.eq_ignore_ascii_case("AzureActivity"))
        || category.is_some_and(|c| {
            ACTIVITY_LOG_CATEGORIES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(c))
        });
    if activity {
        let operation = text(&record, "operationName")
            .or_else(|| text(&record, "operationNameValue"))
            .unwrap_or("?");
        let category = category
            .or_else(|| text(&record, "categoryValue"))
            .unwrap_or("?");
        return Some(format!(
            "an Activity Log record (operation {operation}, category {category}){}: \
             {WHERE_AUDIT_EVENTS_ARE}",
            of_vault(resource_id)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT: &str = "/SUBSCRIPTIONS/6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B/RESOURCEGROUPS/RG-WEB/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-WEB-PROD";

    #[test]
    fn a_metric_blob_record_and_a_workspace_row_are_metrics() {
        let blob = format!(
            r#"{{"count": 3, "total": 3, "minimum": 1, "maximum": 1, "average": 1, "resourceId": "{VAULT}", "time": "2026-11-20T10:00:00.0000000Z", "metricName": "ServiceApiHit", "timeGrain": "PT1M"}}"#
        );
        let what = describe(&blob).unwrap();
        assert!(
            what.starts_with("an AzureMetrics record (metric ServiceApiHit) of vault kv-web-prod"),
            "{what}"
        );
        let row = format!(
            r#"{{"TimeGenerated": "2026-11-20T10:00:00Z", "ResourceId": "{VAULT}", "MetricName": "ServiceApiLatency", "Total": 12, "Type": "AzureMetrics"}}"#
        );
        assert!(describe(&row).unwrap().contains("metric ServiceApiLatency"));
    }

    #[test]
    fn activity_log_records_are_named_with_their_operation() {
        let cli = r#"{"caller": "bob.martin@contosopay.com", "category": {"localizedValue": "Administrative", "value": "Administrative"}, "eventTimestamp": "2026-11-20T10:00:00.1234567Z", "operationName": {"localizedValue": "Update Key Vault", "value": "Microsoft.KeyVault/vaults/write"}, "resourceId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-web-prod"}"#;
        assert_eq!(
            describe(cli).unwrap(),
            "an Activity Log record (operation Microsoft.KeyVault/vaults/write, category Administrative) of vault kv-web-prod: not a Key Vault audit event (kvaudit reads the vault's AuditEvent diagnostic logs)"
        );
        let blob = format!(
            r#"{{"time": "2026-11-20T10:00:00Z", "resourceId": "{VAULT}", "operationName": "MICROSOFT.KEYVAULT/VAULTS/WRITE", "category": "Administrative", "resultType": "Success"}}"#
        );
        assert!(
            describe(&blob)
                .unwrap()
                .contains("operation MICROSOFT.KEYVAULT/VAULTS/WRITE")
        );
    }

    #[test]
    fn an_audit_event_or_anything_else_is_not_described() {
        let audit = r#"{"time": "2026-11-20T10:00:00Z", "category": "AuditEvent", "operationName": "SecretGet", "resourceId": "/x/vaults/kv"}"#;
        assert_eq!(describe(audit), None);
        assert_eq!(describe(r#"{"hello": "world"}"#), None);
        assert_eq!(describe("not json"), None);
    }
}
