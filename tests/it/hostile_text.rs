//! Log text that would act on the terminal, spreadsheet or page it is shown
//! in (escape sequences, a forged line, a bidirectional override) shows
//! escaped everywhere kvaudit prints or writes it.

use crate::common::kvaudit;

/// A purge by a user whose UPN retitles the terminal and clears it, of a
/// secret whose name carries a U+202E override and a forged second line.
fn hostile_records() -> String {
    let upn = "mallory\u{1b}]0;pwned\u{7}\u{1b}[2J@contoso.com";
    let secret = "invoice\u{202e}txt.exe\nkvaudit: 0 findings";
    let record = |time: &str, operation: &str, status: u16| {
        serde_json::json!({
            "time": time,
            "resourceId": "/SUBSCRIPTIONS/6F1A2B3C-4D5E-4F60-8A7B-9C0D1E2F3A4B/RESOURCEGROUPS/RG-PAYMENTS/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-PAYMENTS-PROD",
            "operationName": operation,
            "operationVersion": "7.4",
            "category": "AuditEvent",
            "resultType": "Success",
            "resultSignature": "OK",
            "durationMs": "12",
            "callerIpAddress": "203.0.113.66",
            "correlationId": "c0ffee00-0000-4000-8000-000000000001",
            "identity": {"claim": {
                "oid": "66666666-7777-4888-9999-000000000000",
                "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                "appidacr": "0",
                "upn": upn,
            }},
            "properties": {
                "clientInfo": "\u{1b}[31mred\u{1b}[0m",
                "httpStatusCode": status,
                "requestUri": format!("https://kv-payments-prod.vault.azure.net/deletedsecrets/{secret}?api-version=7.4"),
                "id": format!("https://kv-payments-prod.vault.azure.net/secrets/{secret}"),
                "tlsVersion": "TLS1_2",
            },
        })
        .to_string()
    };
    [
        record("2026-11-20T10:00:00.000Z", "SecretDelete", 200),
        record("2026-11-20T10:01:00.000Z", "SecretPurge", 204),
    ]
    .join("\n")
}

#[test]
fn escape_sequences_and_bidi_overrides_from_logs_show_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("PT1H.json");
    std::fs::write(&logs, hostile_records()).unwrap();
    let out = dir.path().join("out");
    let run = kvaudit()
        .args(["audit"])
        .arg(&logs)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    let stderr = String::from_utf8(run.stderr).unwrap();
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains('\u{1b}'),
            "{name} holds an escape byte:\n{text}"
        );
        assert!(!text.contains('\u{7}'), "{name} holds a bell");
        assert!(!text.contains('\u{202e}'), "{name} holds a bidi override");
    }
    assert!(stdout.contains("mallory\\u{1b}]0;pwned\\u{7}"), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.trim_start().starts_with("kvaudit: 0 findings")),
        "a forged line:\n{stdout}"
    );

    let csv = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    assert!(csv.contains("invoice\\u{202e}txt.exe"), "{csv}");
    assert!(!csv.contains('\u{202e}') && !csv.contains('\u{1b}'));
    let identities = std::fs::read_to_string(out.join("identities.csv")).unwrap();
    assert!(identities.contains("\\u{1b}[31mred"), "{identities}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains('\u{202e}') && !html.contains('\u{1b}'));
    assert!(html.contains("invoice\\u{202e}txt.exe"));
    // JSON keeps the value exactly: it is data for machines, and JSON
    // escapes the control characters itself.
    let findings = std::fs::read_to_string(out.join("findings.json")).unwrap();
    assert!(findings.contains("invoice\u{202e}txt.exe"), "{findings}");
    assert!(!findings.contains('\u{1b}'));
}
