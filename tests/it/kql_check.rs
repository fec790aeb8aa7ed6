//! Every query in `queries/` passes Microsoft's Kusto parser and semantic
//! analyzer (`@kusto/language-service-next`, run by `.ci/kql/check.js` with
//! Node) against the Key Vault table schemas: both tables, only one, and
//! AzureDiagnostics without its optional Key Vault columns. The prelude is
//! the one the client sends, so the checked text is the text that runs.
//!
//! Needs Node and `npm ci --prefix .ci/kql` (done by `.ci/run`).

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use kvaudit::ingest::azure_monitor::pushdown::{FlaggedWindow, flagged_query_text};
use kvaudit::ingest::azure_monitor::query::{Slice, prelude};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn check(queries: &Path) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join(".ci/kql/node_modules/@kusto/language-service-next");
    assert!(
        modules.is_dir(),
        "the Kusto language service is not installed: run `npm ci --prefix .ci/kql`"
    );
    let slice = Slice {
        start: t("2026-11-01T00:00:00Z"),
        end: t("2026-11-02T00:00:00Z"),
    };
    let output = Command::new("node")
        .arg(root.join(".ci/kql/check.js"))
        .arg(queries)
        .arg(prelude(&slice))
        .output()
        .expect("node runs (Node 20 or later)");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn bundled_queries_pass_the_kusto_language_service_in_every_workspace_shape() {
    let (ok, text) = check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"));
    assert!(ok, "{text}");
    assert!(text.contains("0 problems"), "{text}");
}

/// `queries/pushdown-flagged.kql` is checked above with its placeholder (an
/// empty datatable); this checks the text kvaudit sends, with windows
/// written in, quotes and a fraction of a second included.
#[test]
fn the_flagged_window_query_passes_with_its_windows_written_in() {
    let window = |caller: &str, vault: &str, start: &str, end: &str| FlaggedWindow {
        caller: caller.to_owned(),
        vault: vault.to_owned(),
        range: Slice {
            start: t(start),
            end: t(end),
        },
    };
    let text = flagged_query_text(&[
        window(
            "0f0e0d0c-0000-4000-8000-000000000001",
            "kv-payments-prod",
            "2026-11-01T10:00:00Z",
            "2026-11-01T10:05:00Z",
        ),
        window(
            "app:\"odd\\name",
            "",
            "2026-11-01T10:00:00.5Z",
            "2026-11-02T00:00:00Z",
        ),
    ]);
    assert!(text.contains("\"app:\\\"odd\\\\name\""), "{text}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pushdown-flagged.kql"), text).unwrap();
    let (ok, text) = check(dir.path());
    assert!(ok, "{text}");
    assert!(
        text.contains("1 queries x 5 workspaces: 5 checks, 0 problems"),
        "{text}"
    );
}

#[test]
fn the_check_catches_a_column_azure_diagnostics_may_lack_and_a_split_union_column() {
    let bundled = include_str!("../../queries/keyvault-audit.kql");
    let dir = tempfile::tempdir().unwrap();
    let bare = bundled.replace(
        "todouble(column_ifexists(\"httpStatusCode_d\", real(null)))",
        "todouble(httpStatusCode_d)",
    );
    let split = bundled.replace("DurationMs = tolong(DurationMs),", "DurationMs,");
    assert_ne!(bare, bundled);
    assert_ne!(split, bundled);
    std::fs::write(dir.path().join("bare.kql"), bare).unwrap();
    std::fs::write(dir.path().join("split.kql"), split).unwrap();
    let (ok, text) = check(dir.path());
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "bare.kql:64: [AzureDiagnostics only, without Key Vault columns] Error KS142"
        ),
        "{text}"
    );
    assert!(
        text.contains("split.kql: [both tables] result column DurationMs_int:int"),
        "{text}"
    );
}
