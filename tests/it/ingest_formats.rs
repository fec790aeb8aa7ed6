//! Every export form of Key Vault audit logs loads into the same schema.

use crate::common::{audit, data};
use indicatif::ProgressBar;
use kvaudit::ingest::{self, Input};
use polars::prelude::*;

#[test]
fn microsoft_documentation_samples_load_without_rejections() {
    let (code, text, summary) = audit(&[data("microsoft-docs").to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["records_read"], 4, "{text}");
    assert_eq!(summary["records_analyzed"], 4);
    assert_eq!(summary["records_rejected"], 0);
    let vaults: Vec<&str> = summary["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vaults, ["<hsm-name>", "contosokeyvault"]);
    // The record's 7 decimal places, as Key Vault wrote them.
    assert_eq!(summary["time_from"], "2016-01-05T01:32:01.2691226Z");
    assert_eq!(summary["time_to"], "2020-08-31T19:52:39.7630000Z");
}

const FORMS: [&str; 7] = [
    "PT1H.json",
    "eventhub-records.json",
    "records-array.json",
    "azurediagnostics-az-cli.json",
    "azurediagnostics-portal.csv",
    "azkvauditlogs-export.json",
    "azkvauditlogs-portal.csv",
];

fn normalised(file: &str) -> DataFrame {
    let input = Input::File(data("same-events").join(file));
    let ingested = ingest::ingest(&[input], &ProgressBar::hidden()).unwrap();
    assert!(
        ingested.rejections.is_empty(),
        "{file}: {:?}",
        ingested.rejections.by_reason()
    );
    ingested
        .events
        .drop_many(["source_format", "source_file", "source_line"])
}

#[test]
fn the_same_events_in_every_export_form_normalise_to_the_same_rows() {
    let reference = normalised(FORMS[0]);
    assert_eq!(reference.height(), 6);
    for form in &FORMS[1..] {
        let other = normalised(form);
        assert_eq!(other.schema(), reference.schema(), "{form}");
        for name in reference.get_column_names() {
            let (a, b) = (reference.column(name).unwrap(), other.column(name).unwrap());
            let (a, b) = (
                a.cast(&DataType::String).unwrap(),
                b.cast(&DataType::String).unwrap(),
            );
            assert!(
                a.equals_missing(&b),
                "{form}: column {name} differs:\n{a:?}\n{b:?}"
            );
        }
    }
}

#[test]
fn normalised_fields_of_a_managed_identity_secret_read() {
    let events = normalised("PT1H.json");
    let row = |name: &str| {
        events
            .column(name)
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .get(1)
            .map(str::to_owned)
    };
    assert_eq!(row("operation").as_deref(), Some("SecretGet"));
    assert_eq!(row("vault").as_deref(), Some("kv-payments-prod"));
    assert_eq!(
        row("subscription_id").as_deref(),
        Some("6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b")
    );
    assert_eq!(row("resource_group").as_deref(), Some("rg-payments"));
    assert_eq!(row("object_type").as_deref(), Some("secret"));
    assert_eq!(row("object_name").as_deref(), Some("db-password"));
    assert_eq!(
        row("object_version").as_deref(),
        Some("4f1c2a9e8b7d4c3a9f0e1d2c3b4a5968")
    );
    assert_eq!(row("http_status").as_deref(), Some("200"));
    assert_eq!(row("identity_kind").as_deref(), Some("managed-identity"));
    assert_eq!(row("credential_kind").as_deref(), Some("certificate"));
    assert_eq!(row("authorization").as_deref(), Some("access-policy"));
    assert_eq!(row("authorized").as_deref(), Some("true"));
    assert_eq!(row("duration_ms").as_deref(), Some("12"));
    assert_eq!(row("tls_version").as_deref(), Some("TLS1_2"));
    // the first row is the unauthenticated challenge before it
    let kinds = events
        .column("identity_kind")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    let kinds: Vec<_> = kinds.str().unwrap().iter().flatten().collect();
    assert_eq!(
        kinds,
        [
            "unauthenticated",
            "managed-identity",
            "user",
            "service-principal",
            "microsoft-service",
            "managed-identity"
        ]
    );
}

#[test]
fn categorical_and_typed_columns() {
    let input = Input::File(data("same-events/PT1H.json"));
    let events = ingest::ingest(&[input], &ProgressBar::hidden())
        .unwrap()
        .events;
    let schema = events.schema();
    assert!(matches!(
        schema.get("time"),
        Some(DataType::Datetime(TimeUnit::Nanoseconds, None))
    ));
    assert!(matches!(
        schema.get("vault"),
        Some(DataType::Categorical(_, _))
    ));
    assert!(matches!(
        schema.get("operation"),
        Some(DataType::Categorical(_, _))
    ));
    // u32, not u16: polars is built without its optional small-integer types
    assert_eq!(schema.get("http_status"), Some(&DataType::UInt32));
    assert_eq!(schema.get("duration_ms"), Some(&DataType::UInt32));
    assert_eq!(schema.get("authorized"), Some(&DataType::Boolean));
    assert_eq!(schema.get("source_line"), Some(&DataType::UInt32));
}

#[test]
fn every_form_at_once_through_the_binary() {
    let (code, text, summary) = audit(&[data("same-events").to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(summary["records_read"], 42);
    assert_eq!(summary["records_rejected"], 0);
    let layouts: Vec<&str> = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["layout"].as_str().unwrap())
        .collect();
    assert_eq!(
        layouts,
        [
            "json-lines",
            "json-document",
            "csv",
            "json-document",
            "csv",
            "json-lines",
            "json-document"
        ]
    );
    assert!(text.contains("kv-payments-prod"), "{text}");
}

/// `{"value": [...]}` (what `az rest`, ARM list calls and Resource Graph
/// exports write) is read like `{"records": [...]}`.
#[test]
fn a_value_envelope_is_read_like_a_records_envelope() {
    let text = std::fs::read_to_string(data("same-events/PT1H.json")).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let counts = |name: &str, envelope: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&envelope).unwrap()).unwrap();
        let (code, text, summary) = audit(&[path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0, "{text}");
        (
            summary["records_read"].as_u64().unwrap(),
            summary["records_analyzed"].as_u64().unwrap(),
        )
    };
    let n = records.len() as u64;
    assert_eq!(
        counts("records.json", serde_json::json!({ "records": records })),
        (n, n)
    );
    assert_eq!(
        counts("value.json", serde_json::json!({ "value": records })),
        (n, n)
    );
}
