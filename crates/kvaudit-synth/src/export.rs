//! The three output shapes: storage-account `PT1H.json` blobs (JSON Lines),
//! an Event Hub dump (`{"records":[…]}` per message, one per line) and a
//! Log Analytics `AzureDiagnostics` export as `az monitor log-analytics
//! query` prints it (a JSON array of objects whose values are all strings).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use super::model::{Event, TICKS_PER_HOUR};
use super::population::{SUBSCRIPTION_ID, WORKSPACE_ID, World};
use super::record::{Scratch, write_record};

const BUF: usize = 256 * 1024;

fn create(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    File::create(path)
}

/// Writes one `PT1H.json` (or `.json.gz`) blob; returns the bytes on disk.
pub(crate) fn write_blob(
    path: &Path,
    world: &World,
    events: &[Event],
    gzip: bool,
) -> io::Result<u64> {
    let file = create(path)?;
    let mut scratch = Scratch::default();
    if gzip {
        let mut w = BufWriter::with_capacity(BUF, GzEncoder::new(file, Compression::default()));
        write_lines(&mut w, world, events, &mut scratch)?;
        let gz = w.into_inner().map_err(|e| e.into_error())?;
        gz.finish()?;
    } else {
        let mut w = BufWriter::with_capacity(BUF, file);
        write_lines(&mut w, world, events, &mut scratch)?;
        w.flush()?;
    }
    Ok(std::fs::metadata(path)?.len())
}

fn write_lines<W: Write>(
    w: &mut W,
    world: &World,
    events: &[Event],
    s: &mut Scratch,
) -> io::Result<()> {
    for ev in events {
        write_record(w, world, ev, s)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Most records in one Event Hub message.
pub(crate) const EVENT_HUB_BATCH: usize = 100;

/// Writes the Event Hub dump: messages of at most [`EVENT_HUB_BATCH`]
/// records, never spanning two UTC hours; returns (messages, bytes).
pub(crate) fn write_event_hub(
    path: &Path,
    world: &World,
    events: &[Event],
) -> io::Result<(usize, u64)> {
    let mut w = BufWriter::with_capacity(BUF, create(path)?);
    let mut s = Scratch::default();
    let mut messages = 0;
    let mut i = 0;
    while i < events.len() {
        let hour = events[i].ticks.div_euclid(TICKS_PER_HOUR);
        let mut j = i + 1;
        while j < events.len()
            && j - i < EVENT_HUB_BATCH
            && events[j].ticks.div_euclid(TICKS_PER_HOUR) == hour
        {
            j += 1;
        }
        w.write_all(b"{\"records\":[")?;
        for (k, ev) in events[i..j].iter().enumerate() {
            if k > 0 {
                w.write_all(b",")?;
            }
            write_record(&mut w, world, ev, &mut s)?;
        }
        w.write_all(b"]}\n")?;
        messages += 1;
        i = j;
    }
    w.flush()?;
    drop(w);
    Ok((messages, std::fs::metadata(path)?.len()))
}

/// Every column of the export, in the order `az` prints them (sorted by
/// byte value, as Python's `sort_keys`). Each row carries all of them.
pub(crate) const LA_COLUMNS: &[&str] = &[
    "CallerIPAddress",
    "Category",
    "CorrelationId",
    "DurationMs",
    "OperationName",
    "OperationVersion",
    "Resource",
    "ResourceGroup",
    "ResourceId",
    "ResourceProvider",
    "ResourceType",
    "ResultDescription",
    "ResultSignature",
    "ResultType",
    "SourceSystem",
    "SubscriptionId",
    "TableName",
    "TenantId",
    "TimeGenerated",
    "Type",
    "_ResourceId",
    "addedAccessPolicy_ObjectId_g",
    "addedAccessPolicy_Permissions_certificates_s",
    "addedAccessPolicy_Permissions_keys_s",
    "addedAccessPolicy_Permissions_secrets_s",
    "addedAccessPolicy_TenantId_g",
    "algorithm_s",
    "clientInfo_s",
    "eventGridEventProperties_data_EXP_d",
    "eventGridEventProperties_data_Id_s",
    "eventGridEventProperties_data_NBF_d",
    "eventGridEventProperties_data_ObjectName_s",
    "eventGridEventProperties_data_ObjectType_s",
    "eventGridEventProperties_data_VaultName_s",
    "eventGridEventProperties_data_Version_s",
    "eventGridEventProperties_subject_s",
    "httpStatusCode_d",
    "id_s",
    "identity_claim_amr_s",
    "identity_claim_appid_g",
    "identity_claim_appidacr_s",
    "identity_claim_aud_s",
    "identity_claim_exp_s",
    "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g",
    "identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_name_s",
    "identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s",
    "identity_claim_iat_s",
    "identity_claim_idtyp_s",
    "identity_claim_ipaddr_s",
    "identity_claim_iss_s",
    "identity_claim_nbf_s",
    "identity_claim_oid_g",
    "identity_claim_scp_s",
    "identity_claim_unique_name_s",
    "identity_claim_upn_s",
    "identity_claim_uti_s",
    "identity_claim_xms_az_nwperimid_s",
    "identity_claim_xms_mirid_s",
    "isAccessPolicyMatch_b",
    "isRbacAuthorized_b",
    "keyProperties_attributes_enabled_b",
    "keyProperties_operations_s",
    "keyProperties_size_d",
    "keyProperties_type_s",
    "properties_enablePurgeProtection_b",
    "properties_enableRbacAuthorization_b",
    "properties_enableSoftDelete_b",
    "properties_enabledForDeployment_b",
    "properties_enabledForDiskEncryption_b",
    "properties_enabledForTemplateDeployment_b",
    "properties_networkAcls_bypass_s",
    "properties_networkAcls_defaultAction_s",
    "properties_sku_Family_s",
    "properties_sku_Name_s",
    "properties_softDeleteRetentionInDays_d",
    "properties_tenantId_g",
    "requestUri_s",
    "tlsVersion_s",
];

/// Column lookup by flattened name without its type suffix.
struct LaSchema {
    by_base: HashMap<&'static str, usize>,
}

impl LaSchema {
    fn new() -> Self {
        let mut by_base = HashMap::new();
        for (i, c) in LA_COLUMNS.iter().enumerate() {
            let base = match c.rsplit_once('_') {
                Some((b, "s" | "d" | "b" | "g" | "t")) if !b.is_empty() => b,
                _ => c,
            };
            by_base.insert(base, i);
        }
        LaSchema { by_base }
    }
}

/// Value of a missing column: "" for strings, "None" for the other types.
fn missing_value(column: &str) -> &'static str {
    if column.ends_with("_s") || !column.contains('_') || column == "_ResourceId" {
        ""
    } else {
        "None"
    }
}

/// `az` renders every cell with Python's `str()`.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Null => "None".to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

/// Claim names become column names with `/`, `:` and `.` (runs of them) as `_`.
fn mangle(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut last_sep = false;
    for ch in key.chars() {
        if matches!(ch, '/' | ':' | '.') {
            if !last_sep {
                out.push('_');
            }
            last_sep = true;
        } else {
            out.push(ch);
            last_sep = false;
        }
    }
    out
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}_{k}")
                };
                flatten(&name, child, out);
            }
        }
        _ => out.push((prefix.to_string(), cell(v))),
    }
}

struct OwnedRow(Vec<String>);

impl Serialize for OwnedRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(LA_COLUMNS.len()))?;
        for (k, v) in LA_COLUMNS.iter().zip(&self.0) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The AzureDiagnostics row of one event, values in `LA_COLUMNS` order.
/// Fails if the record has a field no column takes.
fn la_row_with(
    schema: &LaSchema,
    world: &World,
    ev: &Event,
    s: &mut Scratch,
    buf: &mut Vec<u8>,
) -> io::Result<Vec<String>> {
    buf.clear();
    write_record(&mut *buf, world, ev, s)?;
    let rec: Value = serde_json::from_slice(buf)?;
    let v = &world.vaults[ev.vault as usize];
    let mut row: Vec<Option<String>> = vec![None; LA_COLUMNS.len()];
    let mut set = |col: &str, value: String| -> io::Result<()> {
        let i = LA_COLUMNS
            .binary_search(&col)
            .ok()
            .or_else(|| schema.by_base.get(col).copied())
            .ok_or_else(|| io::Error::other(format!("no AzureDiagnostics column for {col}")))?;
        row[i] = Some(value);
        Ok(())
    };
    let text = |k: &str| rec.get(k).map(cell).unwrap_or_default();
    set("TenantId", WORKSPACE_ID.to_string())?;
    set("TimeGenerated", text("time"))?;
    set("ResourceId", text("resourceId"))?;
    set("_ResourceId", v.resource_id_lower.clone())?;
    set("SubscriptionId", SUBSCRIPTION_ID.to_string())?;
    set("ResourceGroup", v.rg_upper.clone())?;
    set("Resource", v.name_upper.clone())?;
    set("ResourceProvider", "MICROSOFT.KEYVAULT".to_string())?;
    set("ResourceType", "VAULTS".to_string())?;
    set("Category", text("category"))?;
    set("OperationName", text("operationName"))?;
    set("OperationVersion", text("operationVersion"))?;
    set("ResultType", text("resultType"))?;
    set("ResultSignature", text("resultSignature"))?;
    set("ResultDescription", text("resultDescription"))?;
    set("CorrelationId", text("correlationId"))?;
    set("CallerIPAddress", text("callerIpAddress"))?;
    set("DurationMs", text("durationMs"))?;
    set("SourceSystem", "Azure".to_string())?;
    set("Type", "AzureDiagnostics".to_string())?;
    set("TableName", "PrimaryResult".to_string())?;
    let mut flat = Vec::new();
    if let Some(props) = rec.get("properties") {
        flatten("", props, &mut flat);
    }
    if let Some(Value::Object(claims)) = rec.get("identity").and_then(|i| i.get("claim")) {
        for (k, val) in claims {
            flat.push((format!("identity_claim_{}", mangle(k)), cell(val)));
        }
    }
    for (k, val) in flat {
        set(&k, val)?;
    }
    Ok(row
        .into_iter()
        .zip(LA_COLUMNS)
        .map(|(v, c)| v.unwrap_or_else(|| missing_value(c).to_string()))
        .collect())
}

/// Writes the Log Analytics export (pretty-printed, 2-space indent, as `az`
/// prints JSON); returns the bytes on disk.
pub(crate) fn write_log_analytics(path: &Path, world: &World, events: &[Event]) -> io::Result<u64> {
    let schema = LaSchema::new();
    let mut w = BufWriter::with_capacity(BUF, create(path)?);
    let mut s = Scratch::default();
    let mut buf = Vec::with_capacity(4096);
    let mut err = None;
    {
        let mut ser = serde_json::Serializer::pretty(&mut w);
        let rows =
            events.iter().map_while(
                |ev| match la_row_with(&schema, world, ev, &mut s, &mut buf) {
                    Ok(values) => Some(values),
                    Err(e) => {
                        err = Some(e);
                        None
                    }
                },
            );
        ser.collect_seq(rows.map(OwnedRow))?;
    }
    if let Some(e) = err {
        return Err(e);
    }
    w.write_all(b"\n")?;
    w.flush()?;
    drop(w);
    Ok(std::fs::metadata(path)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_sorted_like_python_sort_keys() {
        let mut sorted = LA_COLUMNS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, LA_COLUMNS);
    }

    #[test]
    fn claim_names_mangle_like_azure_diagnostics() {
        assert_eq!(
            mangle("http://schemas.microsoft.com/identity/claims/objectidentifier"),
            "http_schemas_microsoft_com_identity_claims_objectidentifier"
        );
        assert_eq!(
            mangle("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"),
            "http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn"
        );
        assert_eq!(mangle("xms_az_nwperimid"), "xms_az_nwperimid");
    }
}
