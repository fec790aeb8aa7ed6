//! What the `--pushdown` queries compute, done in Rust over the stand-in's
//! rows, as the service would run `queries/pushdown-*.kql` (recognised by
//! their `kvaudit:pushdown-…` marker line). Written from the queries' text,
//! not from kvaudit's code: it reads the raw export rows of both tables,
//! the way the KQL reads the table columns.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{parse_time, service_time};

pub enum Kind {
    Windows,
    Usage,
    Events,
    Flagged,
}

pub fn kind(query: &str) -> Option<Kind> {
    if query.contains("// kvaudit:pushdown-windows") {
        Some(Kind::Windows)
    } else if query.contains("// kvaudit:pushdown-usage") {
        Some(Kind::Usage)
    } else if query.contains("// kvaudit:pushdown-events") {
        Some(Kind::Events)
    } else if query.contains("// kvaudit:pushdown-flagged") {
        Some(Kind::Flagged)
    } else {
        None
    }
}

/// `kvaudit_routine` of pushdown-events.kql.
const ROUTINE: [&str; 19] = [
    "Authentication",
    "VaultGet",
    "VaultList",
    "SecretGet",
    "SecretListVersions",
    "KeyGet",
    "KeyList",
    "KeyListVersions",
    "KeyRotationPolicyGet",
    "KeySign",
    "KeyVerify",
    "KeyWrap",
    "KeyUnwrap",
    "KeyEncrypt",
    "KeyDecrypt",
    "CertificateGet",
    "CertificateList",
    "CertificateListVersions",
    "CertificatePolicyGet",
];
const LEGACY_TLS: [&str; 7] = [
    "SSL3", "SSL3_0", "TLS1_0", "TLS1_1", "TLS1", "TLS10", "TLS11",
];

/// One row of either table, read through the columns the queries use.
struct Raw<'a> {
    row: &'a Map<String, Value>,
    azkv: bool,
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s == "None" => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl<'a> Raw<'a> {
    /// The row as a query leg sees it; `None` for rows the leg filters out.
    fn of(row: &'a Map<String, Value>) -> Option<Raw<'a>> {
        match row.get("Type").and_then(Value::as_str)? {
            "AZKVAuditLogs" => Some(Raw { row, azkv: true }),
            "AzureDiagnostics" => {
                let raw = Raw { row, azkv: false };
                (raw.get("ResourceProvider") == "MICROSOFT.KEYVAULT"
                    && raw.get("Category") == "AuditEvent")
                    .then_some(raw)
            }
            _ => None,
        }
    }

    fn get(&self, column: &str) -> String {
        text(self.row.get(column))
    }

    fn pick(&self, azkv: &str, diagnostics: &str) -> String {
        self.get(if self.azkv { azkv } else { diagnostics })
    }

    fn time(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.get("TimeGenerated"))
    }

    fn operation(&self) -> String {
        self.get("OperationName")
    }

    fn status(&self) -> Option<i64> {
        let value = self.pick("HttpStatusCode", "httpStatusCode_d");
        value.parse::<f64>().ok().map(|f| f as i64)
    }

    /// A claim: `Identity.claim[name]`, or AzureDiagnostics'
    /// `identity_claim_<name, URI punctuation as _>_g|_s`.
    fn claim(&self, name: &str) -> String {
        if self.azkv {
            let identity = match self.row.get("Identity") {
                Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
                Some(v) => v.clone(),
                None => Value::Null,
            };
            return text(identity.get("claim").and_then(|c| c.get(name)));
        }
        let mangled = name.replace("://", "_").replace(['/', '.'], "_");
        for suffix in ["_g", "_s"] {
            let value = self.get(&format!("identity_claim_{mangled}{suffix}"));
            if !value.is_empty() {
                return value;
            }
        }
        String::new()
    }

    fn first_claim(&self, names: &[&str]) -> String {
        names
            .iter()
            .map(|n| self.claim(n))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    }

    fn oid(&self) -> String {
        self.first_claim(&[
            "oid",
            "http://schemas.microsoft.com/identity/claims/objectidentifier",
        ])
        .to_lowercase()
    }

    fn app_id(&self) -> String {
        self.first_claim(&["appid", "azp"]).to_lowercase()
    }

    fn upn(&self) -> String {
        self.first_claim(&[
            "upn",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            "unique_name",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        ])
    }

    fn acr(&self) -> String {
        self.first_claim(&["appidacr", "azpacr"])
    }

    fn resource_id(&self) -> String {
        self.get("_ResourceId")
    }

    fn uri(&self) -> String {
        let id = self.pick("Id", "id_s");
        if id.is_empty() {
            self.pick("RequestUri", "requestUri_s")
        } else {
            id
        }
    }

    fn vault(&self) -> String {
        let id = self.resource_id().to_lowercase();
        if let Some(at) = id.find("/providers/microsoft.keyvault/") {
            let rest = &id[at + "/providers/microsoft.keyvault/".len()..];
            if let Some(name) = rest.split('/').nth(1).filter(|n| !n.is_empty()) {
                return name.to_owned();
            }
        }
        let resource = if self.azkv {
            String::new()
        } else {
            self.get("Resource")
        };
        if !resource.is_empty() {
            return resource.to_lowercase();
        }
        let (host, _) = host_and_path(&self.uri());
        match host.split_once('.') {
            Some((name, rest)) if rest.starts_with("vault.") || rest.starts_with("managedhsm.") => {
                name.to_owned()
            }
            _ => String::new(),
        }
    }

    fn secret(&self) -> String {
        let (host, path) = host_and_path(&self.uri());
        if !(host.contains(".vault.") || host.contains(".managedhsm.")) {
            return String::new();
        }
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        match (segments.next(), segments.next()) {
            (Some(collection), Some(name)) if collection.eq_ignore_ascii_case("secrets") => {
                name.to_lowercase()
            }
            _ => String::new(),
        }
    }

    fn caller(&self) -> String {
        let (oid, app) = (self.oid(), self.app_id());
        let (upn, scope, idtyp) = (self.upn(), self.claim("scp"), self.claim("idtyp"));
        let tid = self.first_claim(&[
            "tid",
            "http://schemas.microsoft.com/identity/claims/tenantid",
        ]);
        if !oid.is_empty() {
            oid
        } else if !app.is_empty() {
            format!("app:{app}")
        } else if !self.claim("xms_mirid").is_empty() {
            "managed-identity".into()
        } else if !idtyp.eq_ignore_ascii_case("app") && (!upn.is_empty() || !scope.is_empty()) {
            "user".into()
        } else if upn.is_empty()
            && scope.is_empty()
            && idtyp.is_empty()
            && self.acr().is_empty()
            && tid.is_empty()
        {
            "unauthenticated".into()
        } else {
            "unknown".into()
        }
    }

    fn challenge(&self) -> bool {
        self.operation() == "Authentication" && self.status() == Some(401)
    }

    fn success(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }
}

fn host_and_path(uri: &str) -> (String, String) {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split(['?', '#']).next().unwrap_or("");
    (host.to_lowercase(), path.to_owned())
}

/// The rows of `rows` each leg reads in `[start, end)`.
pub fn in_slice<'a>(
    rows: &[&'a Map<String, Value>],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<&'a Map<String, Value>> {
    rows.iter()
        .copied()
        .filter(|row| {
            Raw::of(row)
                .and_then(|r| r.time())
                .is_some_and(|t| t >= start && t < end)
        })
        .collect()
}

fn table(columns: &[(&str, &str)], rows: Vec<Vec<Value>>, drop: Option<&str>) -> String {
    let keep: Vec<usize> = (0..columns.len())
        .filter(|&i| Some(columns[i].0) != drop)
        .collect();
    let columns: Vec<Value> = keep
        .iter()
        .map(|&i| json!({"name": columns[i].0, "type": columns[i].1}))
        .collect();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|row| Value::Array(keep.iter().map(|&i| row[i].clone()).collect()))
        .collect();
    json!({"tables": [{"name": "PrimaryResult", "columns": columns, "rows": rows}]}).to_string()
}

#[derive(Default)]
struct WindowCounts {
    requests: i64,
    secret_reads: i64,
    secrets: BTreeSet<String>,
    denied: i64,
    throttled: i64,
    ips: BTreeSet<String>,
}

/// pushdown-windows.kql.
pub fn windows(rows: &[&Map<String, Value>], drop: Option<&str>) -> String {
    let mut windows: BTreeMap<(String, String, i64, i64), WindowCounts> = BTreeMap::new();
    for raw in rows.iter().filter_map(|r| Raw::of(r)) {
        let caller = raw.caller();
        if raw.challenge() || caller == "unauthenticated" {
            continue;
        }
        let t = raw.time().unwrap().timestamp_nanos_opt().unwrap();
        let read = raw.operation() == "SecretGet" && raw.success();
        for minutes in [1i64, 5, 60, 1440] {
            let length = minutes * 60_000_000_000;
            // bin(): the multiple of the length at or below t.
            let start = t - t.rem_euclid(length);
            let w = windows
                .entry((caller.clone(), raw.vault(), minutes, start))
                .or_default();
            w.requests += 1;
            if read {
                w.secret_reads += 1;
                let secret = raw.secret();
                if !secret.is_empty() {
                    w.secrets.insert(secret);
                }
            }
            let status = raw.status();
            w.denied += i64::from(status == Some(401) || status == Some(403));
            w.throttled += i64::from(status == Some(429));
            let ip = raw.pick("CallerIpAddress", "CallerIPAddress");
            if !ip.is_empty() {
                w.ips.insert(ip);
            }
        }
    }
    let rows = windows
        .into_iter()
        .map(|((caller, vault, minutes, start), w)| {
            vec![
                json!(caller),
                json!(vault),
                json!(minutes),
                json!(service_time(DateTime::from_timestamp_nanos(start))),
                json!(w.requests),
                json!(w.secret_reads),
                json!(w.secrets.len()),
                json!(w.denied),
                json!(w.throttled),
                json!(w.ips.len()),
            ]
        })
        .collect();
    table(
        &[
            ("caller", "string"),
            ("vault", "string"),
            ("minutes", "long"),
            ("start", "datetime"),
            ("requests", "long"),
            ("secret_reads", "long"),
            ("distinct_secrets", "long"),
            ("denied", "long"),
            ("throttled", "long"),
            ("distinct_ips", "long"),
        ],
        rows,
        drop,
    )
}

/// pushdown-usage.kql: `use` rows, then `vault` rows.
pub fn usage(rows: &[&Map<String, Value>], drop: Option<&str>) -> String {
    type Use = (i64, i64, DateTime<Utc>, DateTime<Utc>);
    let mut uses: BTreeMap<(String, String, String), Use> = BTreeMap::new();
    let mut vaults: BTreeMap<String, Use> = BTreeMap::new();
    let add = |entry: &mut Use, t: DateTime<Utc>, success: bool| {
        entry.0 += 1;
        entry.1 += i64::from(success);
        entry.2 = entry.2.min(t);
        entry.3 = entry.3.max(t);
    };
    for raw in rows.iter().filter_map(|r| Raw::of(r)) {
        let (vault, t) = (raw.vault(), raw.time().unwrap());
        if vault.is_empty() {
            continue;
        }
        let fresh = (0, 0, t, t);
        add(vaults.entry(vault.clone()).or_insert(fresh), t, false);
        let oid = raw.oid();
        if !oid.is_empty() {
            let key = (oid, vault, raw.operation());
            add(uses.entry(key).or_insert(fresh), t, raw.success());
        }
    }
    let time = |t: DateTime<Utc>| json!(service_time(t));
    let mut out: Vec<Vec<Value>> = uses
        .into_iter()
        .map(|((oid, vault, op), (calls, ok, first, last))| {
            vec![
                json!("use"),
                json!(oid),
                json!(vault),
                json!(op),
                json!(calls),
                json!(ok),
                time(first),
                time(last),
            ]
        })
        .collect();
    out.extend(vaults.into_iter().map(|(vault, (calls, _, first, last))| {
        vec![
            json!("vault"),
            json!(""),
            json!(vault),
            json!(""),
            json!(calls),
            json!(0),
            time(first),
            time(last),
        ]
    }));
    table(
        &[
            ("row", "string"),
            ("principal_id", "string"),
            ("vault", "string"),
            ("operation", "string"),
            ("calls", "long"),
            ("successes", "long"),
            ("first_time", "datetime"),
            ("last_time", "datetime"),
        ],
        out,
        drop,
    )
}

/// pushdown-events.kql's filter: the indices of the rows it keeps.
pub fn kept_events(
    rows: &[Map<String, Value>],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> HashSet<usize> {
    let in_slice = |raw: &Raw<'_>| raw.time().is_some_and(|t| t >= start && t < end);
    let key = |raw: &Raw<'_>| {
        let who = [raw.oid(), raw.app_id()]
            .into_iter()
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        format!("{who}|{}", raw.resource_id().to_lowercase())
    };
    let listers: HashSet<String> = rows
        .iter()
        .filter_map(Raw::of)
        .filter(|r| in_slice(r) && r.operation() == "SecretList")
        .map(|r| key(&r))
        .collect();
    // kvaudit_firsts: each key's first time in the slice.
    let mut firsts: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for raw in rows.iter().filter_map(Raw::of).filter(|r| in_slice(r)) {
        let t = raw.time().unwrap();
        firsts
            .entry(key(&raw))
            .and_modify(|first| *first = (*first).min(t))
            .or_insert(t);
    }
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| Some((i, Raw::of(row)?)))
        .filter(|(_, raw)| {
            let op = raw.operation();
            let person = !raw.claim("idtyp").eq_ignore_ascii_case("app")
                && (!raw.claim("scp").is_empty() || !raw.upn().is_empty());
            let tls = raw.pick("Tlsversion", "tlsVersion_s");
            let keep = !raw.success()
                || !ROUTINE.contains(&op.as_str())
                || person
                || raw.acr() == "1"
                || LEGACY_TLS.iter().any(|l| l.eq_ignore_ascii_case(&tls))
                || (op == "SecretGet" && listers.contains(&key(raw)))
                || firsts.get(&key(raw)) == raw.time().as_ref();
            in_slice(raw) && keep && !raw.challenge()
        })
        .map(|(i, _)| i)
        .collect()
}

/// One row of pushdown-flagged.kql's `kvaudit_flagged` datatable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedWindow {
    pub caller: String,
    pub vault: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The `datatable(...) [...]` rows of `kvaudit_flagged` as the query text
/// writes them: string literals (with `\"` and `\\` escapes) and
/// `datetime(...)` literals, four to a row.
pub fn flagged_windows(query: &str) -> Vec<FlaggedWindow> {
    let declared = query
        .find("let kvaudit_flagged = datatable(")
        .expect("pushdown-flagged.kql declares kvaudit_flagged");
    let rest = &query[declared..];
    // The rows: from the `[` after the column list to the `]` before `;`.
    let columns_end = rest.find(')').unwrap();
    let open = columns_end + rest[columns_end..].find('[').unwrap();
    let mut values: Vec<String> = Vec::new();
    let mut chars = rest[open + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ']' => break,
            '"' => {
                let mut value = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next().unwrap() {
                            'n' => value.push('\n'),
                            't' => value.push('\t'),
                            'r' => value.push('\r'),
                            other => value.push(other),
                        },
                        '"' => break,
                        c => value.push(c),
                    }
                }
                values.push(value);
            }
            'd' => {
                let word: String = std::iter::once(c)
                    .chain(chars.by_ref().take_while(|&c| c != '('))
                    .collect();
                assert_eq!(word, "datetime", "unexpected literal in the datatable");
                let value: String = chars.by_ref().take_while(|&c| c != ')').collect();
                values.push(value);
            }
            _ => {}
        }
    }
    assert_eq!(
        values.len() % 4,
        0,
        "datatable rows have four values: {values:?}"
    );
    values
        .chunks(4)
        .map(|row| FlaggedWindow {
            caller: row[0].clone(),
            vault: row[1].clone(),
            from: parse_time(&row[2]).unwrap(),
            to: parse_time(&row[3]).unwrap(),
        })
        .collect()
}

/// pushdown-flagged.kql's filter: the indices of the rows in `[start, end)`
/// whose caller and vault (as pushdown-windows.kql computes them) and time
/// fall in one of `windows`, the routine Authentication 401 challenge left
/// out.
pub fn kept_flagged(
    rows: &[Map<String, Value>],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    windows: &[FlaggedWindow],
) -> HashSet<usize> {
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| Some((i, Raw::of(row)?)))
        .filter(|(_, raw)| {
            let Some(t) = raw.time() else { return false };
            let (caller, vault) = (raw.caller(), raw.vault());
            t >= start
                && t < end
                && !raw.challenge()
                && windows
                    .iter()
                    .any(|w| w.caller == caller && w.vault == vault && t >= w.from && t < w.to)
        })
        .map(|(i, _)| i)
        .collect()
}
