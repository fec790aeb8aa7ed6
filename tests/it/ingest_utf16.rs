//! UTF-16 exports: Windows PowerShell 5.1 writes UTF-16LE with a byte order
//! mark (and CRLF line ends) for `>` and `Out-File`, which is how many people
//! save `az monitor log-analytics query` output. Such a file reads exactly as
//! its UTF-8 original: the same records, counts, rejections and lines.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

use crate::common::{data, kvaudit};

#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

/// `text` as PowerShell 5.1's `>` writes it: CRLF line ends, UTF-16 with its BOM.
fn powershell(text: &str, order: Order, bom: bool) -> Vec<u8> {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let units = bom
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(crlf.encode_utf16());
    units
        .flat_map(|u| match order {
            Order::Little => u.to_le_bytes(),
            Order::Big => u.to_be_bytes(),
        })
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Audits the one file `name` holding `bytes`, from its own directory (so
/// the reports name it alike whatever its encoding); the exit code and
/// summary.json.
fn audit_file(name: &str, bytes: &[u8]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let output = kvaudit()
        .current_dir(dir.path())
        .args([
            "audit",
            "--allow-empty",
            "--format",
            "json",
            "--out",
            "out",
            name,
        ])
        .output()
        .unwrap();
    let summary = std::fs::read_to_string(dir.path().join("out/summary.json"))
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), summary, stderr)
}

fn sample(relative: &str) -> String {
    std::fs::read_to_string(data(relative)).unwrap()
}

/// JSON Lines with one damaged record, so that line numbers are compared too.
fn json_lines_with_damage() -> String {
    let text = sample("same-events/PT1H.json");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(
        3,
        "{\"time\": \"2026-11-20T10:00:00Z\", \"operationName\": ",
    );
    lines.join("\n") + "\n"
}

/// Every case reads as the UTF-8 original (CRLF too) reads: summary.json
/// whole, rejections and their lines included.
fn assert_reads_like_utf8(name: &str, utf8: &str, encoded: &[u8]) {
    let (code, expected, stderr) = audit_file(name, utf8.replace('\n', "\r\n").as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        expected["records_analyzed"].as_u64().unwrap() > 3,
        "{expected}"
    );
    let (code, got, stderr) = audit_file(name, encoded);
    assert_eq!(code, 0, "{stderr}");
    for key in ["records_read", "records_analyzed", "records_rejected"] {
        assert_eq!(got[key], expected[key], "{key}");
    }
    assert_eq!(got, expected);
}

#[test]
fn a_powershell_utf16le_export_reads_as_its_utf8_original() {
    // `az monitor log-analytics query ... > export.json`: a JSON array.
    let array = sample("same-events/azurediagnostics-az-cli.json");
    assert_reads_like_utf8(
        "export.json",
        &array,
        &powershell(&array, Order::Little, true),
    );
    // JSON Lines, with a damaged record on line 4.
    let lines = json_lines_with_damage();
    assert_reads_like_utf8(
        "PT1H.json",
        &lines,
        &powershell(&lines, Order::Little, true),
    );
    let (_, summary, _) = audit_file("PT1H.json", &powershell(&lines, Order::Little, true));
    let example = summary["rejections"][0]["examples"][0].as_str().unwrap();
    assert!(example.starts_with("PT1H.json:4:"), "{example}");
}

#[test]
fn utf16be_and_gzip_compressed_utf16_read_alike() {
    let lines = json_lines_with_damage();
    assert_reads_like_utf8("PT1H.json", &lines, &powershell(&lines, Order::Big, true));
    // The BOM is looked for after decompression.
    let array = sample("same-events/azkvauditlogs-export.json");
    assert_reads_like_utf8(
        "export.json",
        &array,
        &gzip(&powershell(&array, Order::Little, true)),
    );
    // A CSV export saved by PowerShell.
    let csv = sample("same-events/azkvauditlogs-portal.csv");
    assert_reads_like_utf8("export.csv", &csv, &powershell(&csv, Order::Little, true));
}

#[test]
fn an_unpaired_surrogate_costs_only_its_record() {
    let lines = sample("same-events/PT1H.json");
    let count = lines.lines().count() as u64;
    let mut bytes = powershell(&lines, Order::Little, true);
    // A lone high surrogate ten characters into the second record.
    let second = lines.lines().next().unwrap().len() + 2; // + CRLF
    let at = 2 + 2 * (second + 10);
    bytes.splice(at..at, 0xD800_u16.to_le_bytes());
    let (code, summary, stderr) = audit_file("PT1H.json", &bytes);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["records_read"].as_u64(), Some(count));
    assert_eq!(summary["records_rejected"].as_u64(), Some(1));
    assert_eq!(summary["rejections"][0]["reason"], "invalid-utf8");
    let example = summary["rejections"][0]["examples"][0].as_str().unwrap();
    assert!(example.starts_with("PT1H.json:2:"), "{example}");
}

#[test]
fn utf16_without_a_bom_is_one_rejection_that_says_how_to_convert_it() {
    let array = sample("same-events/azkvauditlogs-export.json");
    for (order, name) in [(Order::Little, "UTF-16LE"), (Order::Big, "UTF-16BE")] {
        let (code, summary, stderr) = audit_file("export.json", &powershell(&array, order, false));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(summary["records_read"].as_u64(), Some(1));
        assert_eq!(summary["records_analyzed"].as_u64(), Some(0));
        let rejection = &summary["rejections"][0];
        assert_eq!(rejection["reason"], "utf16-without-bom");
        assert_eq!(rejection["count"].as_u64(), Some(1));
        let example = rejection["examples"][0].as_str().unwrap();
        assert!(
            example.contains(&format!("iconv -f {name} -t UTF-8")),
            "{example}"
        );
        assert!(
            rejection["advice"]
                .as_str()
                .unwrap()
                .contains("Out-File -Encoding utf8"),
            "{rejection}"
        );
        // Without --allow-empty, nothing analysed is exit 4, and says why.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.json");
        std::fs::write(&file, powershell(&array, order, false)).unwrap();
        let output = kvaudit()
            .args(["audit", "--format", "json", "--out"])
            .arg(dir.path().join("out"))
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains("the only record was rejected: utf16-without-bom 1"),
            "{stderr}"
        );
    }
}
