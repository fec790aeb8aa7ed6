//! Tests of the generator: determinism, layout, record schema, the
//! documented incident counts (`sample-logs/README.md`), and scaling.
//!
//! Most tests share one generated week (seed 42, scale 1.0, plain JSON),
//! parsed back from disk into [`Rec`]s whatever the output shape.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::export::{EVENT_HUB_BATCH, LA_COLUMNS};
use super::population::{
    ACTORS, ALICE, BOB, BOB_HOME_IP, BREAKGLASS, DANA, DEV_APPS, FRONTEND_NEW_IP, GITHUB_DEPLOY,
    INVENTORY_SYNC, OFFICE_IP, PAYMENTS_API, RELEASE_SIGNING, REPORTING_VM, SETTLEMENT_WORKER,
    UNKNOWN_SP, UNKNOWN_SP_IP, WEB_ADMIN_SITE, WEB_CATALOG, WEB_FRONTEND,
};
use super::{GenerationSummary, GeneratorConfig, LOG_ANALYTICS_EXPORT, generate};

const SUB_UPPER: &str = "D23F0824-128B-4F33-8C5C-7FD0A6A3A450";
const OID_URI: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const UPN_URI: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";

fn config(out: &Path, scale: f64, seed: u64, gzip: bool) -> GeneratorConfig {
    GeneratorConfig {
        out: out.to_path_buf(),
        days: 7,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
        scale,
        seed,
        gzip,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    Blob,
    EventHub,
    LogAnalytics,
}

/// One record, whatever file it came from.
#[derive(Debug, Clone)]
struct Rec {
    src: Src,
    time: String,
    vault: String,
    op: String,
    status: u16,
    signature: String,
    ip: String,
    oid: String,
    appid: String,
    appidacr: String,
    upn: String,
    uri: String,
    id: String,
    tls: String,
    /// The raw record (storage and Event Hub only).
    raw: Option<Value>,
}

impl Rec {
    fn from_raw(src: Src, v: Value) -> Rec {
        let s = |x: Option<&Value>| x.and_then(Value::as_str).unwrap_or("").to_string();
        let claim = v.get("identity").and_then(|i| i.get("claim"));
        let c = |k: &str| s(claim.and_then(|c| c.get(k)));
        let p = v.get("properties");
        let pp = |k: &str| p.and_then(|p| p.get(k));
        let oid = if c("oid").is_empty() {
            c(OID_URI)
        } else {
            c("oid")
        };
        let upn = if c("upn").is_empty() {
            c(UPN_URI)
        } else {
            c("upn")
        };
        let rec = Rec {
            src,
            time: s(v.get("time")),
            vault: s(v.get("resourceId"))
                .rsplit('/')
                .next()
                .unwrap()
                .to_lowercase(),
            op: s(v.get("operationName")),
            status: pp("httpStatusCode").and_then(Value::as_u64).unwrap_or(0) as u16,
            signature: s(v.get("resultSignature")),
            ip: s(v.get("callerIpAddress")),
            oid,
            appid: c("appid"),
            appidacr: c("appidacr"),
            upn,
            uri: s(pp("requestUri")),
            id: s(pp("id")),
            tls: s(pp("tlsVersion")),
            raw: None,
        };
        Rec {
            raw: Some(v),
            ..rec
        }
    }

    fn from_la(row: &serde_json::Map<String, Value>) -> Rec {
        let s = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let none = |x: String| if x == "None" { String::new() } else { x };
        let oid = none(s("identity_claim_oid_g"));
        let oid = if oid.is_empty() {
            none(s(
                "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g",
            ))
        } else {
            oid
        };
        let upn = s("identity_claim_upn_s");
        let upn = if upn.is_empty() {
            s("identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s")
        } else {
            upn
        };
        Rec {
            src: Src::LogAnalytics,
            time: s("TimeGenerated"),
            vault: s("Resource").to_lowercase(),
            op: s("OperationName"),
            status: s("httpStatusCode_d").parse().unwrap(),
            signature: s("ResultSignature"),
            ip: s("CallerIPAddress"),
            oid,
            appid: none(s("identity_claim_appid_g")),
            appidacr: s("identity_claim_appidacr_s"),
            upn,
            uri: s("requestUri_s"),
            id: s("id_s"),
            tls: s("tlsVersion_s"),
            raw: None,
        }
    }

    /// Secret/key/certificate name from the request URI (or the id).
    fn object(&self) -> &str {
        let src = if self.uri.is_empty() {
            &self.id
        } else {
            &self.uri
        };
        let path = src.split('?').next().unwrap();
        let mut parts = path.split('/');
        while let Some(p) = parts.next() {
            if matches!(p, "secrets" | "keys" | "certificates" | "deletedsecrets") {
                return parts.next().unwrap_or("");
            }
        }
        ""
    }

    fn between(&self, from: &str, to: &str) -> bool {
        self.time.as_str() >= from && self.time.as_str() < to
    }

    fn hour(&self) -> &str {
        &self.time[..13]
    }
}

struct Parsed {
    summary: GenerationSummary,
    /// Relative path → the indexes in `recs` of that blob's records, in file order.
    blobs: BTreeMap<String, std::ops::Range<usize>>,
    event_hub_file: String,
    /// Records per Event Hub message.
    event_hub: Vec<usize>,
    la_rows: Vec<serde_json::Map<String, Value>>,
    /// All records in file order (blobs by path, then Event Hub, then Log Analytics).
    recs: Vec<Rec>,
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read_text(p: &Path) -> String {
    let bytes = std::fs::read(p).unwrap();
    if p.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

fn parse(root: &Path, summary: GenerationSummary) -> Parsed {
    let mut blobs = BTreeMap::new();
    let mut event_hub = Vec::new();
    let mut event_hub_file = String::new();
    let mut la_rows = Vec::new();
    let mut recs = Vec::new();
    for p in files(root) {
        let r = rel(root, &p);
        let text = read_text(&p);
        if r.starts_with("insights-logs-auditevent/") {
            assert!(text.ends_with('\n'), "{r} not newline-terminated");
            let first = recs.len();
            for l in text.lines() {
                let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{r}: {e}: {l}"));
                recs.push(Rec::from_raw(Src::Blob, v));
            }
            blobs.insert(r, first..recs.len());
        } else if r.starts_with("eventhub/") {
            event_hub_file = r.clone();
            for line in text.lines() {
                let msg: Value = serde_json::from_str(line).unwrap();
                let obj = msg.as_object().unwrap();
                assert_eq!(obj.len(), 1, "a message has only `records`");
                let records = obj["records"].as_array().unwrap().clone();
                event_hub.push(records.len());
                recs.extend(records.into_iter().map(|v| Rec::from_raw(Src::EventHub, v)));
            }
        } else if r == LOG_ANALYTICS_EXPORT {
            let v: Value = serde_json::from_str(&text).unwrap();
            for row in v.as_array().unwrap() {
                let row = row.as_object().unwrap().clone();
                recs.push(Rec::from_la(&row));
                la_rows.push(row);
            }
        } else {
            panic!("unexpected file {r}");
        }
    }
    Parsed {
        summary,
        blobs,
        event_hub_file,
        event_hub,
        la_rows,
        recs,
    }
}

/// The shared week: seed 42, scale 1.0, plain JSON.
fn week() -> &'static Parsed {
    static WEEK: OnceLock<Parsed> = OnceLock::new();
    WEEK.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let summary = generate(&config(dir.path(), 1.0, 42, false)).unwrap();
        parse(dir.path(), summary)
    })
}

fn by_oid(actor: usize) -> impl Fn(&&Rec) -> bool {
    let oid = ACTORS[actor].oid;
    move |r: &&Rec| r.oid == oid
}

fn count(recs: &[Rec], f: impl Fn(&Rec) -> bool) -> usize {
    recs.iter().filter(|r| f(r)).count()
}

// ---------------------------------------------------------------- determinism

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    // Three days cover incidents on days 2 and 3 and an Event Hub / Log Analytics last day.
    let cfg = |out: &Path, seed| GeneratorConfig {
        days: 3,
        ..config(out, 0.5, seed, true)
    };
    let sa = generate(&cfg(a.path(), 7)).unwrap();
    let sb = generate(&cfg(b.path(), 7)).unwrap();
    generate(&cfg(c.path(), 8)).unwrap();
    assert_eq!(
        (sa.files, sa.records, sa.bytes),
        (sb.files, sb.records, sb.bytes)
    );
    let fa = files(a.path());
    let fb = files(b.path());
    assert_eq!(
        fa.iter().map(|p| rel(a.path(), p)).collect::<Vec<_>>(),
        fb.iter().map(|p| rel(b.path(), p)).collect::<Vec<_>>()
    );
    for (pa, pb) in fa.iter().zip(&fb) {
        assert!(
            std::fs::read(pa).unwrap() == std::fs::read(pb).unwrap(),
            "{} differs",
            pa.display()
        );
    }
    let other = files(c.path());
    let differing = fa
        .iter()
        .zip(&other)
        .filter(|(x, y)| std::fs::read(x).unwrap() != std::fs::read(y).unwrap())
        .count();
    assert!(differing > fa.len() / 2, "seed 8 should change most files");
}

#[test]
fn gzip_blobs_hold_the_same_lines_as_plain_ones() {
    let plain = tempfile::tempdir().unwrap();
    let gz = tempfile::tempdir().unwrap();
    let cfg = |out: &Path, gzip| GeneratorConfig {
        days: 2,
        ..config(out, 0.5, 11, gzip)
    };
    generate(&cfg(plain.path(), false)).unwrap();
    generate(&cfg(gz.path(), true)).unwrap();
    let fp = files(plain.path());
    let fg = files(gz.path());
    assert_eq!(fp.len(), fg.len());
    for (p, g) in fp.iter().zip(&fg) {
        let rp = rel(plain.path(), p);
        let rg = rel(gz.path(), g);
        if rp.starts_with("insights-logs-auditevent/") {
            assert!(rp.ends_with("/PT1H.json"));
            assert_eq!(format!("{rp}.gz"), rg);
        } else {
            assert_eq!(
                rp, rg,
                "Event Hub and Log Analytics files are never compressed"
            );
        }
        assert_eq!(read_text(p), read_text(g), "{rp}");
    }
}

#[test]
fn rerun_replaces_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        days: 1,
        ..config(dir.path(), 0.2, 3, false)
    };
    generate(&cfg).unwrap();
    let keep = dir.path().join("README.md");
    std::fs::write(&keep, "kept").unwrap();
    let s = generate(&GeneratorConfig { gzip: true, ..cfg }).unwrap();
    let all = files(dir.path());
    assert!(
        all.iter()
            .all(|p| !p.to_string_lossy().ends_with("PT1H.json"))
    );
    assert_eq!(
        all.len(),
        s.files + 1,
        "only the new files and the README remain"
    );
    assert_eq!(std::fs::read_to_string(keep).unwrap(), "kept");
}

#[test]
fn invalid_configs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        generate(&GeneratorConfig {
            days: 0,
            ..config(dir.path(), 1.0, 1, false)
        })
        .is_err()
    );
    assert!(generate(&config(dir.path(), -1.0, 1, false)).is_err());
    assert!(generate(&config(dir.path(), f64::NAN, 1, false)).is_err());
}

#[test]
fn short_runs_skip_later_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&GeneratorConfig {
        days: 2,
        ..config(dir.path(), 0.2, 5, false)
    })
    .unwrap();
    let p = parse(dir.path(), s);
    assert!(p.recs.iter().all(|r| r.time.as_str() < "2026-11-18"));
    // Day 2 is the last day: kv-web-prod in Event Hub, kv-shared-dev in Log Analytics.
    assert_eq!(p.event_hub_file, "eventhub/kv-web-prod_2026-11-17.json");
    assert!(
        p.recs
            .iter()
            .filter(|r| r.src == Src::EventHub)
            .all(|r| r.time.starts_with("2026-11-17"))
    );
    assert!(p.recs.iter().any(|r| r.src == Src::LogAnalytics));
    // Alice's read (day 2) is there, the developer's mass retrieval (day 4) is not.
    assert_eq!(
        count(&p.recs, |r| r.oid == ACTORS[ALICE].oid
            && r.op == "SecretGet"),
        3
    );
    assert_eq!(
        count(&p.recs, |r| r.oid == ACTORS[DANA].oid
            && r.vault == "kv-payments-prod"),
        0
    );
}

// ---------------------------------------------------------------- layout

#[test]
fn vault_inventory_matches_the_readme() {
    use super::population::VAULTS;
    type Row = (
        &'static str,
        &'static str,
        bool,
        Vec<(&'static str, &'static str)>,
    );
    let summary: Vec<Row> = VAULTS
        .iter()
        .map(|v| (v.name, v.resource_group, v.rbac, v.tags.to_vec()))
        .collect();
    let expected: Vec<Row> = vec![
        (
            "kv-payments-prod",
            "rg-prod-apps",
            true,
            vec![("env", "prod"), ("data", "pci")],
        ),
        ("kv-web-prod", "rg-prod-apps", false, vec![("env", "prod")]),
        ("kv-shared-dev", "rg-dev-apps", false, vec![("env", "dev")]),
    ];
    assert_eq!(summary, expected);
    assert_eq!(VAULTS[0].secrets.len(), 60);
}

#[test]
fn layout_matches_the_storage_account_convention() {
    let w = week();
    let mut per_vault: HashMap<String, usize> = HashMap::new();
    for (path, range) in &w.blobs {
        let lines: Vec<&Value> = w.recs[range.clone()]
            .iter()
            .map(|r| r.raw.as_ref().unwrap())
            .collect();
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(parts.len(), 16, "{path}");
        assert_eq!(parts[0], "insights-logs-auditevent");
        assert_eq!(parts[1], "resourceId=");
        assert_eq!(parts[2..5], ["SUBSCRIPTIONS", SUB_UPPER, "RESOURCEGROUPS"]);
        assert!(
            ["RG-PROD-APPS", "RG-DEV-APPS"].contains(&parts[5]),
            "{path}"
        );
        assert_eq!(parts[6..9], ["PROVIDERS", "MICROSOFT.KEYVAULT", "VAULTS"]);
        let vault = parts[9];
        assert!(["KV-PAYMENTS-PROD", "KV-WEB-PROD", "KV-SHARED-DEV"].contains(&vault));
        assert_eq!(parts[10], "y=2026");
        assert_eq!(parts[11], "m=11");
        assert!(parts[12].starts_with("d=") && parts[12].len() == 4);
        assert!(parts[13].starts_with("h=") && parts[13].len() == 4);
        assert_eq!(parts[14], "m=00");
        assert_eq!(parts[15], "PT1H.json");
        assert!(!lines.is_empty());
        // Blob hour vs record times: time order, and within the hour (a few
        // records received late carry a time up to a second before it).
        let hour_start = chrono::NaiveDate::from_ymd_opt(2026, 11, parts[12][2..].parse().unwrap())
            .unwrap()
            .and_hms_opt(parts[13][2..].parse().unwrap(), 0, 0)
            .unwrap()
            .and_utc();
        let mut last = String::new();
        for l in &lines {
            let t = l["time"].as_str().unwrap().to_string();
            assert!(t >= last, "{path}: records out of order");
            let at = chrono::DateTime::parse_from_rfc3339(&t).unwrap();
            let offset = at.signed_duration_since(hour_start).num_milliseconds();
            assert!((-2_000..3_600_000).contains(&offset), "{path}: {t}");
            assert!(l["resourceId"].as_str().unwrap().ends_with(vault));
            last = t;
        }
        *per_vault.entry(vault.to_string()).or_default() += 1;
        if vault != "KV-PAYMENTS-PROD" {
            assert!(parts[12] != "d=22", "last day of {vault} is not in storage");
        }
    }
    // Busy vaults have a blob every hour; the dev vault is idle some nights.
    assert_eq!(per_vault["KV-PAYMENTS-PROD"], 168);
    assert_eq!(per_vault["KV-WEB-PROD"], 144);
    assert!((130..=144).contains(&per_vault["KV-SHARED-DEV"]));
    assert_eq!(w.event_hub_file, "eventhub/kv-web-prod_2026-11-22.json");
    assert_eq!(w.summary.files, w.blobs.len() + 2);
    assert_eq!(w.summary.records as usize, w.recs.len());
}

#[test]
fn event_hub_and_log_analytics_hold_the_last_day_of_their_vault_only() {
    let w = week();
    for r in &w.recs {
        match r.src {
            Src::EventHub => {
                assert_eq!(r.vault, "kv-web-prod");
                assert!(
                    r.time.starts_with("2026-11-22") || r.time.starts_with("2026-11-21T23:59:59")
                );
            }
            Src::LogAnalytics => {
                assert_eq!(r.vault, "kv-shared-dev");
                assert!(r.time.starts_with("2026-11-22"));
            }
            Src::Blob => {
                if r.vault != "kv-payments-prod" {
                    assert!(r.time.as_str() < "2026-11-22T00:00:01", "{r:?}");
                }
            }
        }
    }
    assert!(w.event_hub.len() > 3);
    for m in &w.event_hub {
        assert!((1..=EVENT_HUB_BATCH).contains(m));
    }
    assert!(w.la_rows.len() > 20);
    // No record is in two places.
    let mut seen = BTreeSet::new();
    for r in &w.recs {
        let key = format!("{}|{}|{}|{}", r.time, r.vault, r.op, r.ip);
        assert!(seen.insert(key.clone()), "duplicate {key}");
    }
}

// ---------------------------------------------------------------- schema

fn is_time(t: &str) -> bool {
    let b = t.as_bytes();
    t.len() == 28
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[27] == b'Z'
        && t[20..27].bytes().all(|c| c.is_ascii_digit())
}

fn is_guid(g: &str) -> bool {
    g.len() == 36
        && g.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[test]
fn every_raw_record_has_the_real_field_types() {
    let w = week();
    let mut ops = BTreeSet::new();
    for r in w.recs.iter().filter(|r| r.src != Src::LogAnalytics) {
        let v = r.raw.as_ref().unwrap();
        let o = v.as_object().unwrap();
        for k in [
            "time",
            "category",
            "operationName",
            "resultType",
            "resultSignature",
            "correlationId",
            "callerIpAddress",
            "identity",
            "properties",
            "resourceId",
            "operationVersion",
            "durationMs",
        ] {
            assert!(o.contains_key(k), "{k} missing in {v}");
        }
        assert!(is_time(&r.time), "{}", r.time);
        assert_eq!(o["category"], "AuditEvent");
        assert_eq!(
            o["resultType"], "Success",
            "resultType is Success even on errors"
        );
        let dur = o["durationMs"].as_str().expect("durationMs is a string");
        assert!(!dur.is_empty() && dur.bytes().all(|c| c.is_ascii_digit()));
        let rid = o["resourceId"].as_str().unwrap();
        assert_eq!(rid, rid.to_uppercase());
        assert!(rid.starts_with(&format!("/SUBSCRIPTIONS/{SUB_UPPER}/RESOURCEGROUPS/")));
        let corr = o["correlationId"].as_str().unwrap();
        assert!(corr.is_empty() || is_guid(corr), "{corr}");
        assert!(o["operationVersion"].is_string());
        let props = o["properties"].as_object().unwrap();
        let status = props["httpStatusCode"]
            .as_u64()
            .expect("httpStatusCode is an int") as u16;
        let reason = match status {
            200 => "OK",
            204 => "No Content",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            429 => "Too Many Requests",
            s => panic!("unexpected status {s}"),
        };
        assert_eq!(r.signature, reason);
        if matches!(status, 403 | 404) {
            assert!(
                o["resultDescription"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
        }
        let identity = o["identity"].as_object().unwrap();
        let op = r.op.as_str();
        ops.insert(op.to_string());
        match op {
            "Authentication" => {
                assert!(identity.is_empty());
                assert_eq!(status, 401);
                assert!(props.contains_key("requestUri") && props.contains_key("tlsVersion"));
            }
            "SecretNearExpiryEventGridNotification"
            | "VaultAccessPolicyChangedEventGridNotification" => {
                assert!(identity.is_empty());
                assert!(props["eventGridEventProperties"]["data"]["VaultName"].is_string());
            }
            "VaultGet" | "VaultPatch" => {
                let c = identity["claim"].as_object().unwrap();
                assert!(is_guid(c[OID_URI].as_str().unwrap()));
                assert!(is_guid(c["appid"].as_str().unwrap()));
                assert!(
                    props["requestUri"]
                        .as_str()
                        .unwrap()
                        .contains("management.azure.com/subscriptions/")
                );
                assert_eq!(
                    props["id"].as_str().unwrap(),
                    format!("https://{}.vault.azure.net/", r.vault)
                );
                assert!(!props.contains_key("tlsVersion"));
            }
            _ => {
                let c = identity["claim"].as_object().unwrap();
                assert!(is_guid(c["oid"].as_str().unwrap()));
                assert!(is_guid(c["appid"].as_str().unwrap()));
                assert_eq!(c["xms_az_nwperimid"], Value::Array(vec![]));
                let acr = c["appidacr"].as_str().unwrap();
                match acr {
                    "0" => {
                        assert_eq!(c["scp"], "user_impersonation");
                        assert_eq!(c["upn"], c["unique_name"]);
                        assert_eq!(c["amr"], "pwd");
                        assert!(
                            c["appid"] == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
                                || c["appid"] == "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
                        );
                    }
                    "1" | "2" => {
                        assert_eq!(c["idtyp"], "app");
                        if let Some(m) = c.get("xms_mirid") {
                            let m = m.as_str().unwrap();
                            assert!(m.starts_with("/subscriptions/d23f0824-128b-4f33-8c5c-7fd0a6a3a450/resourcegroups/"));
                            assert!(
                                m.contains(
                                    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                                ) || m.contains("/providers/Microsoft.Web/sites/")
                            );
                            assert_eq!(acr, "2");
                        } else {
                            assert!(
                                c["iss"]
                                    .as_str()
                                    .unwrap()
                                    .starts_with("https://sts.windows.net/")
                            );
                        }
                    }
                    other => panic!("appidacr {other}"),
                }
                let uri = props["requestUri"].as_str().unwrap();
                assert!(
                    uri.starts_with(&format!("https://{}.vault.azure.net", r.vault)),
                    "{uri}"
                );
                assert!(uri.contains("api-version="));
                assert!(
                    ["TLS1_1", "TLS1_2", "TLS1_3"].contains(&props["tlsVersion"].as_str().unwrap())
                );
                if op == "SecretGet" && status == 200 {
                    let id = props["id"].as_str().unwrap();
                    let ver = id.rsplit('/').next().unwrap();
                    assert!(
                        id.starts_with(&format!("https://{}.vault.azure.net/secrets/", r.vault))
                    );
                    assert!(
                        ver.len() == 32 && ver.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{id}"
                    );
                }
                if status != 429 {
                    let (present, absent) = if r.vault == "kv-payments-prod" {
                        ("isRbacAuthorized", "isAccessPolicyMatch")
                    } else {
                        ("isAccessPolicyMatch", "isRbacAuthorized")
                    };
                    assert_eq!(props[present], Value::Bool(status != 403), "{v}");
                    assert!(!props.contains_key(absent));
                }
            }
        }
    }
    for op in [
        "Authentication",
        "SecretGet",
        "SecretList",
        "KeyGet",
        "KeyWrap",
        "KeyUnwrap",
        "KeySign",
        "CertificateGet",
        "VaultGet",
        "VaultPatch",
    ] {
        assert!(ops.contains(op), "{op} never generated");
    }
}

#[test]
fn log_analytics_export_is_all_strings_like_az_cli() {
    let w = week();
    let path_text = {
        // Pretty-printed array, as `az` prints it.
        let dir = tempfile::tempdir().unwrap();
        generate(&GeneratorConfig {
            days: 1,
            ..config(dir.path(), 0.2, 42, false)
        })
        .unwrap();
        std::fs::read_to_string(dir.path().join(LOG_ANALYTICS_EXPORT)).unwrap()
    };
    assert!(path_text.starts_with("[\n  {\n    \"CallerIPAddress\": "));
    for row in &w.la_rows {
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        let mut expected = LA_COLUMNS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        for (k, v) in row {
            assert!(v.is_string(), "{k} is not a string");
        }
        assert_eq!(row["TableName"], "PrimaryResult");
        assert_eq!(row["Type"], "AzureDiagnostics");
        assert_eq!(row["ResourceProvider"], "MICROSOFT.KEYVAULT");
        assert_eq!(row["ResourceType"], "VAULTS");
        assert_eq!(row["Resource"], "KV-SHARED-DEV");
        assert_eq!(row["ResourceGroup"], "RG-DEV-APPS");
        assert_eq!(row["Category"], "AuditEvent");
        assert!(is_time(row["TimeGenerated"].as_str().unwrap()));
        let status = row["httpStatusCode_d"].as_str().unwrap();
        assert!(status.parse::<u16>().is_ok(), "{status}");
        assert!(row["DurationMs"].as_str().unwrap().parse::<u32>().is_ok());
        for b in ["isAccessPolicyMatch_b", "isRbacAuthorized_b"] {
            assert!(["True", "False", "None"].contains(&row[b].as_str().unwrap()));
        }
        assert_eq!(
            row["isRbacAuthorized_b"], "None",
            "kv-shared-dev uses access policies"
        );
        let op = row["OperationName"].as_str().unwrap();
        if op == "Authentication" || op == "VaultGet" {
            assert_eq!(row["identity_claim_oid_g"], "None");
        } else {
            assert!(
                is_guid(row["identity_claim_oid_g"].as_str().unwrap()),
                "{row:?}"
            );
            assert_eq!(row["identity_claim_xms_az_nwperimid_s"], "[]");
        }
        if op == "VaultGet" {
            assert!(is_guid(
                row["identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g"]
                    .as_str()
                    .unwrap()
            ));
        }
    }
    assert!(w.la_rows.iter().any(|r| r["OperationName"] == "VaultGet"));
    assert!(
        w.la_rows
            .iter()
            .any(|r| r["OperationName"] == "Authentication")
    );
}

#[test]
fn traffic_looks_realistic() {
    let w = week();
    let recs = &w.recs;
    let total = recs.len();
    assert!(
        (20_000..=40_000).contains(&total),
        "{total} records at scale 1"
    );
    let auth = count(recs, |r| r.op == "Authentication");
    assert!(
        auth * 100 > total && auth * 100 < total * 10,
        "{auth} challenges of {total}"
    );
    assert!(count(recs, |r| r.status == 404) > 5);
    assert!(count(recs, |r| r.status == 429) > 5);
    let tls12 = count(recs, |r| r.tls == "TLS1_2");
    let tls13 = count(recs, |r| r.tls == "TLS1_3");
    assert!(tls12 * 10 > total && tls13 * 10 > total);
    // Diurnal: business hours busier than nights for the ordinary web apps.
    let frontend = |h: &str| {
        count(recs, |r| {
            r.oid == ACTORS[WEB_FRONTEND].oid && r.time[11..13] == *h
        })
    };
    assert!(frontend("14") > frontend("03") * 3 / 2);
    // Humans call from public addresses, apps from the VNet.
    for r in recs
        .iter()
        .filter(|r| r.appidacr == "2" && r.uri.contains(".vault.azure.net"))
    {
        if ACTORS[RELEASE_SIGNING].oid != r.oid && r.ip != FRONTEND_NEW_IP {
            assert!(r.ip.starts_with("10."), "{r:?}");
        }
    }
    for r in recs.iter().filter(|r| r.appidacr == "0") {
        assert!(!r.ip.starts_with("10."));
    }
    // Microsoft background callers.
    let graph = count(recs, |r| {
        r.appid == "509e4652-da8d-478d-a730-e9d4a1996ca4" && r.op == "VaultGet"
    });
    let policy = count(recs, |r| {
        r.appid == "8cae6e77-e04e-42ce-b5cb-50d82bce26b1" && r.op == "VaultGet"
    });
    assert!(graph > 50 && policy > 5, "{graph} {policy}");
}

// ---------------------------------------------------------------- incidents

#[test]
fn incident_1_mass_secret_retrieval() {
    let recs = &week().recs;
    let dana: Vec<&Rec> = recs
        .iter()
        .filter(by_oid(DANA))
        .filter(|r| r.vault == "kv-payments-prod")
        .collect();
    let lists: Vec<_> = dana.iter().filter(|r| r.op == "SecretList").collect();
    let gets: Vec<_> = dana.iter().filter(|r| r.op == "SecretGet").collect();
    assert_eq!(dana.len(), 55, "more than Sentinel's 50");
    assert_eq!(lists.len(), 3);
    assert_eq!(gets.len(), 52);
    let distinct: BTreeSet<&str> = gets.iter().map(|r| r.object()).collect();
    assert_eq!(distinct.len(), 52);
    for skipped in [
        "google-pay-merchant-key",
        "paypal-client-secret",
        "backup-encryption-passphrase",
        "hsm-admin-pin",
        "sql-admin-password",
    ] {
        assert!(!distinct.contains(skipped));
    }
    assert!(
        lists
            .iter()
            .all(|r| r.between("2026-11-19T14:02:05", "2026-11-19T14:02:08"))
    );
    assert_eq!(
        lists
            .iter()
            .filter(|r| r.uri.contains("$skiptoken="))
            .count(),
        2
    );
    assert!(
        gets.iter()
            .all(|r| r.between("2026-11-19T14:02:30", "2026-11-19T14:12:15"))
    );
    assert!(gets.iter().all(|r| r.status == 200
        && r.ip == OFFICE_IP
        && r.appid == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"));
    let challenges = count(recs, |r| {
        r.op == "Authentication"
            && r.vault == "kv-payments-prod"
            && r.ip == OFFICE_IP
            && r.between("2026-11-19T14:02", "2026-11-19T14:13")
    });
    assert_eq!(challenges, 53);
}

fn hourly(recs: &[Rec], actor: usize) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in recs.iter().filter(by_oid(actor)) {
        *m.entry(r.hour().to_string()).or_default() += 1;
    }
    m
}

fn median(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
fn incident_2_rate_spike_and_the_busy_app_that_is_not_one() {
    let recs = &week().recs;
    let worker = hourly(recs, SETTLEMENT_WORKER);
    assert_eq!(worker["2026-11-20T03"], 1_800);
    let others: Vec<usize> = worker
        .iter()
        .filter(|(h, _)| *h != "2026-11-20T03")
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(others.len(), 167);
    assert!(others.iter().all(|n| (8..=65).contains(n)), "{others:?}");
    let mean = others.iter().sum::<usize>() as f64 / others.len() as f64;
    assert!((27.0..=33.0).contains(&mean), "{mean}");
    assert!(1_800 / median(others) >= 40);
    let spike: Vec<_> = recs
        .iter()
        .filter(by_oid(SETTLEMENT_WORKER))
        .filter(|r| r.hour() == "2026-11-20T03")
        .collect();
    assert_eq!(count_op(&spike, "SecretGet"), 1_200);
    assert_eq!(count_op(&spike, "KeyUnwrap"), 600);

    let busy = hourly(recs, PAYMENTS_API);
    assert_eq!(busy.len(), 168, "busy every hour");
    let counts: Vec<usize> = busy.values().copied().collect();
    assert!(counts.iter().all(|n| *n >= 35), "{counts:?}");
    let max = *counts.iter().max().unwrap();
    assert!(
        max < 3 * median(counts.clone()),
        "busy app never spikes against itself"
    );
    let total: usize = counts.iter().sum();
    assert!((13_000..=16_500).contains(&total), "{total}");
}

fn count_op(recs: &[&Rec], op: &str) -> usize {
    recs.iter().filter(|r| r.op == op).count()
}

#[test]
fn incident_3_no_caching() {
    let recs = &week().recs;
    let reads: Vec<&Rec> = recs
        .iter()
        .filter(by_oid(WEB_CATALOG))
        .filter(|r| r.op == "SecretGet" && r.object() == "catalog-db-connection")
        .collect();
    let mut per_hour: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &reads {
        *per_hour.entry(r.hour()).or_default() += 1;
    }
    let jitter = [-12, 7, 15, -4, 9, -15, 3, -3];
    for day in 17..=19 {
        for (i, h) in (9..17).enumerate() {
            let n = per_hour[format!("2026-11-{day}T{h:02}").as_str()];
            let planted = (300 + jitter[i]) as usize;
            assert!(n >= planted && n <= planted + 20, "day {day} {h}: {n}");
        }
    }
    let window = reads
        .iter()
        .filter(|r| r.between("2026-11-17T09", "2026-11-19T17"))
        .count();
    assert!((8_480..=8_480 + 300).contains(&window), "{window}");
    // Outside the regression the app caches: a handful per hour.
    for (h, n) in &per_hour {
        if !(*h >= "2026-11-17T09" && *h < "2026-11-19T17") {
            assert!(*n < 20, "{h}: {n}");
        }
    }
}

#[test]
fn incident_4_client_secret_service_principal_reads_prod() {
    let recs = &week().recs;
    let ci: Vec<&Rec> = recs.iter().filter(by_oid(GITHUB_DEPLOY)).collect();
    assert!(ci.iter().all(|r| r.appidacr == "1" && r.ip == "192.0.2.10"));
    let n = |vault: &str, op: &str| ci.iter().filter(|r| r.vault == vault && r.op == op).count();
    assert_eq!(n("kv-payments-prod", "SecretGet"), 6);
    assert_eq!(n("kv-web-prod", "SecretGet"), 40);
    assert_eq!(n("kv-shared-dev", "SecretGet"), 20);
    assert_eq!(n("kv-shared-dev", "SecretSet"), 5);
    assert_eq!(ci.len(), 71);
    let payments: Vec<_> = ci
        .iter()
        .filter(|r| r.vault == "kv-payments-prod")
        .collect();
    assert!(
        payments
            .iter()
            .all(|r| r.between("2026-11-17T15:42", "2026-11-17T15:43")
                || r.between("2026-11-19T15:42", "2026-11-19T15:43"))
    );
    // The certificate principal is the contrast case.
    let cert: Vec<&Rec> = recs.iter().filter(by_oid(RELEASE_SIGNING)).collect();
    assert_eq!(cert.len(), 30);
    assert!(cert.iter().all(|r| r.appidacr == "2"));
}

#[test]
fn incident_5_sensitive_operations_at_night() {
    let recs = &week().recs;
    let mut bob: Vec<&Rec> = recs
        .iter()
        .filter(by_oid(BOB))
        .filter(|r| r.between("2026-11-21T23:41", "2026-11-21T23:54"))
        .collect();
    bob.sort_by(|a, b| a.time.cmp(&b.time));
    assert!(
        bob.iter()
            .all(|r| r.vault == "kv-web-prod" && r.ip == BOB_HOME_IP)
    );
    let ops: Vec<(&str, u16)> = bob.iter().map(|r| (r.op.as_str(), r.status)).collect();
    assert_eq!(
        ops,
        [
            ("SecretList", 403),
            ("VaultGet", 200),
            ("VaultPatch", 200),
            ("SecretList", 200),
            ("SecretGet", 200),
            ("SecretGet", 200),
            ("SecretGet", 200),
            ("SecretBackup", 200),
            ("SecretBackup", 200),
            ("SecretDelete", 200),
            ("SecretPurge", 204),
            ("KeyDelete", 200),
        ]
    );
    let patch = bob.iter().find(|r| r.op == "VaultPatch").unwrap();
    assert_eq!(
        patch.upn, "bob.martin@contosopay.com",
        "URI upn claim on ARM calls"
    );
    let added = &patch.raw.as_ref().unwrap()["properties"]["addedAccessPolicy"];
    assert_eq!(added["ObjectId"], ACTORS[BOB].oid);
    assert_eq!(added["TenantId"], "6513270e-269e-4d37-b2a7-4de452e6b438");
    assert_eq!(added["Permissions"]["secrets"][4], "purge");
    assert!(
        added["Permissions"]["certificates"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let purge = bob.iter().find(|r| r.op == "SecretPurge").unwrap();
    assert_eq!(purge.object(), "legacy-smtp-password");
    assert_eq!(
        bob.iter().find(|r| r.op == "KeyDelete").unwrap().object(),
        "web-data-encryption"
    );
    assert_eq!(
        count(recs, |r| r.op
            == "VaultAccessPolicyChangedEventGridNotification"),
        1
    );
    // His home address appears only here (12 requests + 10 challenges).
    assert_eq!(count(recs, |r| r.ip == BOB_HOME_IP), 22);
    // Nothing uses the purged secret or the deleted key afterwards.
    assert!(!recs.iter().any(|r| r.time.as_str() > "2026-11-21T23:54"
        && matches!(r.object(), "legacy-smtp-password" | "web-data-encryption")));
    for op in [
        "SecretPurge",
        "SecretBackup",
        "KeyDelete",
        "SecretDelete",
        "VaultPatch",
    ] {
        assert!(
            recs.iter()
                .filter(|r| r.op == op)
                .all(|r| r.oid == ACTORS[BOB].oid),
            "{op}"
        );
    }
}

#[test]
fn incident_6_humans_reading_prod_secrets() {
    let recs = &week().recs;
    let reads = |actor: usize| -> Vec<&Rec> {
        recs.iter()
            .filter(by_oid(actor))
            .filter(|r| r.op == "SecretGet" && r.vault != "kv-shared-dev")
            .collect()
    };
    let alice = reads(ALICE);
    assert_eq!(alice.len(), 3);
    assert!(alice.iter().all(|r| r.vault == "kv-payments-prod"
        && r.between("2026-11-17T16:21:30", "2026-11-17T16:24:03")
        && r.appid == "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"));
    assert!(alice.iter().all(|r| r.upn == "alice.nguyen@contosopay.com"));
    let glass = reads(BREAKGLASS);
    assert_eq!(glass.len(), 1);
    assert_eq!(glass[0].upn, "breakglass01@contosopay.onmicrosoft.com");
    assert!(glass[0].between("2026-11-20T10:42:25", "2026-11-20T10:42:26"));
    assert_eq!(glass[0].object(), "bank-api-client-secret");
    assert_eq!(reads(DANA).len(), 52);
    assert_eq!(reads(BOB).len(), 3);
    assert_eq!(
        count(recs, |r| r.appidacr == "0"
            && r.op == "SecretGet"
            && r.vault != "kv-shared-dev"),
        59
    );
}

#[test]
fn incident_7_denied_burst_from_an_unknown_principal() {
    let recs = &week().recs;
    let sp: Vec<&Rec> = recs.iter().filter(by_oid(UNKNOWN_SP)).collect();
    assert_eq!(sp.len(), 64);
    assert!(
        sp.iter()
            .all(|r| r.status == 403 && r.vault == "kv-payments-prod" && r.ip == UNKNOWN_SP_IP)
    );
    assert!(
        sp.iter()
            .all(|r| r.between("2026-11-18T19:40:02", "2026-11-18T19:53:00"))
    );
    assert_eq!(count_op(&sp, "SecretList"), 4);
    assert_eq!(count_op(&sp, "SecretGet"), 60);
    assert!(
        sp.iter()
            .all(|r| r.raw.as_ref().unwrap()["properties"]["isRbacAuthorized"] == false)
    );
    assert_eq!(count(recs, |r| r.ip == UNKNOWN_SP_IP), 65, "plus one 401");
    assert!(
        recs.iter()
            .filter(|r| r.ip == UNKNOWN_SP_IP)
            .all(|r| r.time.starts_with("2026-11-18T19:"))
    );
}

#[test]
fn incident_8_legacy_tls() {
    let recs = &week().recs;
    let old: Vec<&Rec> = recs.iter().filter(|r| r.tls == "TLS1_1").collect();
    assert_eq!(old.len(), 9);
    assert!(
        old.iter()
            .all(|r| r.vault == "kv-shared-dev" && r.ip == "10.30.2.15")
    );
    assert_eq!(
        old.iter()
            .filter(|r| r.oid == ACTORS[REPORTING_VM].oid)
            .count(),
        6
    );
    assert_eq!(old.iter().filter(|r| r.src == Src::LogAnalytics).count(), 3);
    let days: BTreeSet<&str> = old.iter().map(|r| &r.time[..13]).collect();
    assert_eq!(
        days,
        BTreeSet::from(["2026-11-18T02", "2026-11-20T02", "2026-11-22T02"])
    );
}

#[test]
fn incident_9_enumeration_without_reads() {
    let recs = &week().recs;
    let inv: Vec<&Rec> = recs.iter().filter(by_oid(INVENTORY_SYNC)).collect();
    assert_eq!(inv.len(), 336);
    assert!(
        inv.iter()
            .all(|r| r.op == "SecretList" && r.vault == "kv-web-prod")
    );
    assert!(inv.iter().all(|r| {
        r.uri
            .starts_with("https://kv-web-prod.vault.azure.net:443/secrets?")
    }));
    assert_eq!(inv.iter().filter(|r| r.src == Src::EventHub).count(), 48);
}

#[test]
fn incident_10_first_seen_ip_on_the_last_day() {
    let recs = &week().recs;
    let new: Vec<&Rec> = recs.iter().filter(|r| r.ip == FRONTEND_NEW_IP).collect();
    assert_eq!(new.len(), 13);
    assert!(
        new.iter()
            .all(|r| r.src == Src::EventHub && r.between("2026-11-22T13:05", "2026-11-22T13:25"))
    );
    let gets: Vec<_> = new.iter().filter(|r| r.op == "SecretGet").collect();
    assert_eq!(gets.len(), 12);
    assert!(gets.iter().all(|r| r.oid == ACTORS[WEB_FRONTEND].oid));
    // Before that the identity used only its two VNet addresses.
    let ips: BTreeSet<&str> = recs
        .iter()
        .filter(by_oid(WEB_FRONTEND))
        .filter(|r| r.ip != FRONTEND_NEW_IP)
        .map(|r| r.ip.as_str())
        .collect();
    assert_eq!(ips, BTreeSet::from(["10.20.1.20", "10.20.1.21"]));
}

#[test]
fn incident_11_secret_near_expiry() {
    let recs = &week().recs;
    let n: Vec<&Rec> = recs
        .iter()
        .filter(|r| r.op == "SecretNearExpiryEventGridNotification")
        .collect();
    assert_eq!(n.len(), 1);
    let r = n[0];
    assert_eq!(r.vault, "kv-payments-prod");
    assert!(r.between("2026-11-18T06:12:41", "2026-11-18T06:12:42"));
    let raw = r.raw.as_ref().unwrap();
    assert_eq!(raw["identity"], serde_json::json!({}));
    let eg = &raw["properties"]["eventGridEventProperties"];
    assert_eq!(eg["subject"], "acquirer-api-key");
    assert_eq!(eg["data"]["ObjectName"], "acquirer-api-key");
    assert_eq!(eg["data"]["ObjectType"], "Secret");
    assert_eq!(eg["data"]["VaultName"], "kv-payments-prod");
    let exp = eg["data"]["EXP"].as_i64().unwrap();
    let nbf = eg["data"]["NBF"].as_i64().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(&r.time)
        .unwrap()
        .timestamp();
    assert_eq!(exp - at, 30 * 86_400);
    assert_eq!(exp - nbf, 365 * 86_400);
    assert!(
        eg["data"]["Id"]
            .as_str()
            .unwrap()
            .ends_with(eg["data"]["Version"].as_str().unwrap())
    );
}

// ---------------------------------------------------------------- scale

#[test]
fn scale_two_doubles_ordinary_traffic_only() {
    let run = |scale| {
        let dir = tempfile::tempdir().unwrap();
        let s = generate(&GeneratorConfig {
            days: 2,
            ..config(dir.path(), scale, 42, false)
        })
        .unwrap();
        parse(dir.path(), s).recs
    };
    let one = &run(1.0);
    let two = run(2.0);
    let scaled = [PAYMENTS_API, WEB_FRONTEND, WEB_ADMIN_SITE, DEV_APPS];
    let normal =
        |recs: &[Rec]| count(recs, |r| scaled.iter().any(|a| ACTORS[*a].oid == r.oid)) as f64;
    let ratio = normal(&two) / normal(one);
    assert!((1.9..=2.1).contains(&ratio), "{ratio}");
    // Fixed traffic and incidents do not move.
    for actor in [
        SETTLEMENT_WORKER,
        DANA,
        GITHUB_DEPLOY,
        INVENTORY_SYNC,
        BOB,
        ALICE,
    ] {
        assert_eq!(
            count(&two, |r| r.oid == ACTORS[actor].oid),
            count(one, |r| r.oid == ACTORS[actor].oid),
            "{}",
            ACTORS[actor].key
        );
    }
    assert_eq!(
        hourly(&two, SETTLEMENT_WORKER),
        hourly(one, SETTLEMENT_WORKER)
    );
}
