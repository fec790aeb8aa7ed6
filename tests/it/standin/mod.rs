//! An in-process HTTPS stand-in for the Log Analytics Query API, answering
//! as `shared/reference/logs-query-api.md` documents, with the error bodies
//! of `tests/data/api-samples/` (sources in its MANIFEST.json).
//!
//! It cannot run KQL. It runs what the bundled query does: it reads the
//! slice from the `let kvaudit_start/kvaudit_end` prelude, and the
//! projection of each `union` leg from `queries/keyvault-audit.kql` (each
//! `Name = tocast(source)` line), and answers with the rows of the tables
//! the workspace holds, encoded as the service encodes them. A leg whose
//! table the workspace lacks is dropped, as `union isfuzzy=true` does.
//!
//! TLS uses a CA generated per stand-in; its PEM file is what the tests pass
//! to `--ca-cert`. `/msi/token` is an App Service managed identity endpoint.

mod pushdown;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer, pki_types::PrivatePkcs8KeyDer};

pub const TOKEN: &str = "standin-token";
pub const IDENTITY_HEADER: &str = "standin-identity-secret";
/// The client secret and the federated token the Entra ID token endpoint accepts.
pub const CLIENT_SECRET: &str = "standin-client-secret";
pub const FEDERATED_TOKEN: &str = "standin-federated-token";

/// A canned answer, given instead of the normal one.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Scripted {
    /// An error body from tests/data/api-samples.
    pub fn sample(status: u16, file: &str) -> Scripted {
        Scripted {
            status,
            body: sample(file),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Scripted {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub fn sample(file: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/api-samples")
            .join(file),
    )
    .unwrap()
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub status: u16,
    /// Bytes of the answer's body as sent (compressed when gzip was accepted).
    pub response_bytes: usize,
}

impl Recorded {
    pub fn slice(&self) -> Option<(String, String)> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        let query = body["query"].as_str()?;
        Some((
            let_value(query, "kvaudit_start")?,
            let_value(query, "kvaudit_end")?,
        ))
    }
}

/// `count` rows, `step` apart from `start`, cycling through `templates`
/// with their `TimeGenerated` replaced.
pub struct Generated {
    pub templates: Vec<Map<String, Value>>,
    pub start: DateTime<Utc>,
    pub step: chrono::Duration,
    pub count: i64,
}

impl Generated {
    /// Indices of the rows in `[from, to)`.
    fn indices(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> std::ops::Range<i64> {
        let step = self.step.num_nanoseconds().unwrap().max(1);
        let index = |t: DateTime<Utc>| {
            let offset = (t - self.start).num_nanoseconds().unwrap_or(i64::MAX);
            ((offset.max(0) + step - 1) / step).min(self.count)
        };
        index(from)..index(to)
    }

    fn time(&self, index: i64) -> DateTime<Utc> {
        self.start + chrono::Duration::nanoseconds(index * self.step.num_nanoseconds().unwrap())
    }
}

/// What the stand-in serves.
#[derive(Default)]
pub struct State {
    /// Workspace id → rows of its tables, as export objects carrying `Type`.
    pub workspaces: HashMap<String, Vec<Map<String, Value>>>,
    /// Workspace id → rows made on demand (for the benchmark's millions).
    pub generated: HashMap<String, Generated>,
    /// Workspaces whose caller has no access (403).
    pub forbidden: HashSet<String>,
    /// Rows per answer before a `PartialError` (the service's is 500,000).
    pub max_rows: usize,
    /// Bytes of rows per answer before a data-size `PartialError` (the
    /// service's is 64,000,000).
    pub max_bytes: usize,
    /// How long a query runs on the service, against the `Prefer: wait=`
    /// the request gives it (180 s without one): a query that runs longer
    /// than its wait is answered 504, as the service does. Nothing sleeps.
    pub query_seconds: u64,
    /// How long each query answer takes for real, so that queries overlap.
    pub delay: Duration,
    /// Query requests being answered now, and the most there ever were.
    pub in_flight: usize,
    pub most_in_flight: usize,
    /// Answers to give to the next query requests, before normal behaviour.
    pub script: VecDeque<Scripted>,
    /// Answers to give to the next query request whose text carries the
    /// marker (e.g. `kvaudit:pushdown-flagged`), before normal behaviour.
    pub script_for: Vec<(String, Scripted)>,
    /// Answer with a body that is not JSON.
    pub malformed: bool,
    /// A column to leave out of the pushdown aggregate answers.
    pub pushdown_drop: Option<String>,
    pub requests: Vec<Recorded>,
}

pub struct StandIn {
    pub addr: SocketAddr,
    pub ca_pem: PathBuf,
    pub state: Arc<Mutex<State>>,
    dir: tempfile::TempDir,
    runtime: Option<tokio::runtime::Runtime>,
}

impl StandIn {
    pub fn start() -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let (ca_pem, server_config) = certificates();
        let ca_path = dir.path().join("standin-ca.pem");
        std::fs::write(&ca_path, ca_pem).unwrap();
        let state = Arc::new(Mutex::new(State {
            max_rows: 500_000,
            max_bytes: 64_000_000,
            ..State::default()
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(server_config));
        let served = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = served.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = serve_connection(tls, state).await;
                    }
                });
            }
        });
        StandIn {
            addr,
            ca_pem: ca_path,
            state,
            dir,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn add_rows(&self, workspace: &str, rows: Vec<Map<String, Value>>) {
        self.state
            .lock()
            .unwrap()
            .workspaces
            .entry(workspace.to_owned())
            .or_default()
            .extend(rows);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn query_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/v1/"))
            .collect()
    }

    /// A directory holding a stub `az` that prints a token for any scope
    /// (and writes the command line it got to `az-args.txt` beside it), for
    /// the Azure CLI credential. Put it first on PATH. Written once; a test
    /// may replace it.
    pub fn stub_az(&self) -> PathBuf {
        let bin = self.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let expires = Utc::now().timestamp() + 3600;
        let script = format!(
            "#!/bin/sh\necho \"$@\" >> \"{}/az-args.txt\"\n\
             printf '%s' '{{\"accessToken\":\"{TOKEN}\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\
             \"expires_on\":{expires},\"subscription\":\"00000000-0000-0000-0000-000000000000\",\
             \"tenant\":\"00000000-0000-0000-0000-000000000001\",\"tokenType\":\"Bearer\"}}'\n",
            bin.display()
        );
        let path = bin.join("az");
        if path.exists() {
            // Keep a stub a test replaced (a failing `az`).
            return bin;
        }
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    }

    /// The arguments the stub `az` was called with, one call per line.
    pub fn az_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("bin/az-args.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it.
fn certificates() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kvaudit test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![server_cert.der().clone()], key)
    .unwrap();
    (ca.pem(), config)
}

/// Serves HTTP/1.1 requests on one connection until the client closes it.
async fn serve_connection<S>(stream: S, state: Arc<Mutex<State>>) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if stream.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        let body = String::from_utf8_lossy(&body).into_owned();
        let at = Instant::now();
        let is_query = path.ends_with("/query");
        // The service runs five queries per user at once; a sixth is
        // refused with 429 (the client must keep to five).
        let refused = is_query && {
            let mut s = state.lock().unwrap();
            s.in_flight += 1;
            s.most_in_flight = s.most_in_flight.max(s.in_flight);
            s.in_flight > 5
        };
        let delay = state.lock().unwrap().delay;
        if is_query && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let (status, mut response_headers, response_body) = if refused {
            let mut answer = json_answer(429, sample("429-throttled.SYNTHETIC.json"));
            answer.1.push(("Retry-After".into(), "1".into()));
            answer
        } else {
            answer(&state, &method, &path, &headers, &body)
        };
        if is_query {
            state.lock().unwrap().in_flight -= 1;
        }
        let mut response_body = response_body.into_bytes();
        let gzip = headers
            .get("accept-encoding")
            .is_some_and(|e| e.contains("gzip"));
        if gzip && !response_body.is_empty() {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&response_body).unwrap();
            response_body = encoder.finish().unwrap();
            response_headers.push(("Content-Encoding".into(), "gzip".into()));
        }
        state.lock().unwrap().requests.push(Recorded {
            at,
            method,
            path,
            headers: headers.clone(),
            body,
            status,
            response_bytes: response_body.len(),
        });
        // The reason phrase is optional (RFC 9112 §4).
        let mut head = format!("HTTP/1.1 {status} \r\n");
        for (name, value) in &response_headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", response_body.len()));
        let writer = stream.get_mut();
        writer.write_all(head.as_bytes()).await?;
        writer.write_all(&response_body).await?;
        writer.flush().await?;
    }
}

type Answer = (u16, Vec<(String, String)>, String);

fn json_answer(status: u16, body: String) -> Answer {
    (
        status,
        vec![(
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body,
    )
}

fn answer(
    state: &Mutex<State>,
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &str,
) -> Answer {
    if path.starts_with("/msi/token") {
        return managed_identity_token(path, headers);
    }
    if path.ends_with("/oauth2/v2.0/token") {
        return entra_token(body);
    }
    let resource = path
        .strip_prefix("/v1/subscriptions/")
        .and_then(|p| p.strip_suffix("/query"))
        .map(|p| format!("/subscriptions/{p}"));
    let Some(workspace) = path
        .strip_prefix("/v1/workspaces/")
        .and_then(|p| p.strip_suffix("/query"))
        .or(resource.as_deref())
    else {
        return json_answer(404, sample("404-path-not-found.json"));
    };
    if method != "POST" {
        return json_answer(404, sample("404-path-not-found.json"));
    }
    match headers.get("authorization").map(String::as_str) {
        None => return json_answer(401, sample("401-no-auth.json")),
        Some(auth) if auth != format!("Bearer {TOKEN}") => {
            return json_answer(403, sample("403-invalid-token.json"));
        }
        Some(_) => {}
    }
    let mut state = state.lock().unwrap();
    if let Some(resource) = &resource {
        // A resource-centric query reads the resource's rows from every
        // workspace (its `_ResourceId`, or AzureDiagnostics' `ResourceId`).
        let rows: Vec<Map<String, Value>> = state
            .workspaces
            .iter()
            .filter(|(id, _)| !id.starts_with("/subscriptions/"))
            .flat_map(|(_, rows)| rows.iter())
            .filter(|row| {
                ["_ResourceId", "ResourceId"].iter().any(|key| {
                    row.get(*key)
                        .and_then(Value::as_str)
                        .is_some_and(|id| id.eq_ignore_ascii_case(resource))
                })
            })
            .cloned()
            .collect();
        if !rows.is_empty() {
            state.workspaces.insert(resource.clone(), rows);
        }
    }
    if let Some(at) = state
        .script_for
        .iter()
        .position(|(marker, _)| body.contains(marker.as_str()))
    {
        let (_, scripted) = state.script_for.remove(at);
        let mut answer = json_answer(scripted.status, scripted.body);
        answer.1.extend(scripted.headers);
        return answer;
    }
    if let Some(scripted) = state.script.pop_front() {
        let mut answer = json_answer(scripted.status, scripted.body);
        answer.1.extend(scripted.headers);
        return answer;
    }
    if state.forbidden.contains(workspace) {
        return json_answer(403, sample("403-insufficient-access.json"));
    }
    if !state.workspaces.contains_key(workspace) && !state.generated.contains_key(workspace) {
        return json_answer(404, sample("404-resource-not-found.json"));
    }
    if !headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return (200, Vec::new(), String::new());
    }
    let request: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return (200, Vec::new(), String::new()),
    };
    // `Prefer: wait=N` lets a query run up to N seconds (at most 600);
    // without it the service gives it 3 minutes.
    let wait = headers
        .get("prefer")
        .and_then(|p| {
            p.split(',')
                .find_map(|part| part.trim().strip_prefix("wait="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(180)
        .min(600);
    if state.query_seconds > wait {
        return json_answer(504, sample("504-gateway-timeout.json"));
    }
    let query = request["query"].as_str().unwrap_or_default();
    if let Some(offset) = query.find("NoSuchTable") {
        return json_answer(400, semantic_error(query, offset, "NoSuchTable"));
    }
    let (Some(start), Some(end)) = (
        let_value(query, "kvaudit_start").and_then(|t| parse_time(&t)),
        let_value(query, "kvaudit_end").and_then(|t| parse_time(&t)),
    ) else {
        return json_answer(200, json!({"tables": []}).to_string());
    };
    // The body's `timespan` bounds TimeGenerated as well as the query's own
    // `where` (the service applies both): rows outside it are not answered.
    let Some((span_start, span_end)) = request["timespan"]
        .as_str()
        .and_then(|t| t.split_once('/'))
        .and_then(|(a, b)| Some((parse_time(a)?, parse_time(b)?)))
    else {
        return json_answer(400, sample("400-syntax-error.json"));
    };
    let (start, end) = (start.max(span_start), end.min(span_end));
    let tables: HashSet<String> = match state.generated.get(workspace) {
        Some(generated) => generated.templates.iter().filter_map(table_of).collect(),
        None => state.workspaces[workspace]
            .iter()
            .filter_map(table_of)
            .collect(),
    };
    if tables.is_empty() {
        return (204, Vec::new(), String::new());
    }
    if state.malformed {
        return json_answer(
            200,
            "{\"tables\": [{\"name\": \"PrimaryResult\", \"colu".into(),
        );
    }
    if let Some(kind) = pushdown::kind(query) {
        let rows: Vec<&Map<String, Value>> = state
            .workspaces
            .get(workspace)
            .map(|rows| rows.iter().collect())
            .unwrap_or_default();
        let in_slice = pushdown::in_slice(&rows, start, end);
        match kind {
            pushdown::Kind::Windows => {
                return json_answer(
                    200,
                    pushdown::windows(&in_slice, state.pushdown_drop.as_deref()),
                );
            }
            pushdown::Kind::Usage => {
                return json_answer(
                    200,
                    pushdown::usage(&in_slice, state.pushdown_drop.as_deref()),
                );
            }
            // The events queries return rows like the bundled one: only those they keep.
            pushdown::Kind::Events | pushdown::Kind::Flagged => {}
        }
    }
    let kept: Option<HashSet<usize>> = pushdown::kind(query).map(|kind| {
        let rows = &state.workspaces[workspace];
        match kind {
            pushdown::Kind::Flagged => {
                pushdown::kept_flagged(rows, start, end, &pushdown::flagged_windows(query))
            }
            _ => pushdown::kept_events(rows, start, end),
        }
    });
    let legs = legs(query);
    let legs: Vec<&Leg> = legs.iter().filter(|l| tables.contains(&l.table)).collect();
    // Union columns: in leg order, each name once.
    let mut columns: Vec<(String, &'static str)> = Vec::new();
    for leg in &legs {
        for (name, kind, _) in &leg.columns {
            if !columns.iter().any(|(n, _)| n == name) {
                columns.push((name.clone(), kind));
            }
        }
    }
    let cells_of = |row: &Map<String, Value>| -> Option<Vec<String>> {
        let leg = legs
            .iter()
            .find(|l| table_of(row).as_deref() == Some(l.table.as_str()))?;
        Some(
            columns
                .iter()
                .map(
                    |(name, _)| match leg.columns.iter().find(|(n, _, _)| n == name) {
                        Some((_, kind, source)) => {
                            encode(row.get(source.as_str()), kind).to_string()
                        }
                        None => "null".to_owned(),
                    },
                )
                .collect(),
        )
    };
    let rendered: Vec<String> = match state.generated.get(workspace) {
        // Templates are encoded once per answer; each row only gets its time.
        Some(generated) => {
            let templates: Vec<Option<Vec<String>>> =
                generated.templates.iter().map(&cells_of).collect();
            let time_cell = columns.iter().position(|(n, _)| n == "TimeGenerated");
            generated
                .indices(start, end)
                .filter_map(|i| {
                    let mut cells = templates[i as usize % templates.len()].clone()?;
                    if let Some(at) = time_cell {
                        cells[at] = format!("\"{}\"", service_time(generated.time(i)));
                    }
                    Some(format!("[{}]", cells.join(",")))
                })
                .collect()
        }
        None => state.workspaces[workspace]
            .iter()
            .enumerate()
            .filter(|(i, _)| kept.as_ref().is_none_or(|k| k.contains(i)))
            .map(|(_, row)| row)
            .filter(|row| {
                row.get("TimeGenerated")
                    .and_then(Value::as_str)
                    .and_then(parse_time)
                    .is_some_and(|t| t >= start && t < end)
            })
            .filter_map(|row| cells_of(row).map(|cells| format!("[{}]", cells.join(","))))
            .collect(),
    };
    let max_rows = state.max_rows;
    // Rows up to the size limit, as the service cuts a result at 64 MB.
    let mut size = 0;
    let within_size = rendered
        .iter()
        .take_while(|r| {
            size += r.len() + 1;
            size <= state.max_bytes
        })
        .count();
    let too_big = within_size < rendered.len();
    let max_rows = max_rows.min(within_size);
    let partial = rendered.len() > max_rows;
    let columns_json = Value::Array(
        columns
            .iter()
            .map(|(n, k)| json!({"name": n, "type": k}))
            .collect(),
    );
    let mut body = format!(
        "{{\"tables\":[{{\"name\":\"PrimaryResult\",\"columns\":{columns_json},\"rows\":[{}]}}]",
        rendered[..rendered.len().min(max_rows)].join(",")
    );
    if partial && too_big {
        let recorded: Value =
            serde_json::from_str(&sample("200-partial-error-data-size.json")).unwrap();
        let mut error = recorded["error"].clone();
        error["details"][0]["innererror"]["message"] = json!(format!(
            "Query result set has exceeded the internal data size limit {} \
             (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)",
            state.max_bytes
        ));
        body.push_str(&format!(",\"error\":{error}"));
    } else if partial {
        let synthetic: Value =
            serde_json::from_str(&sample("200-partial-error-record-count.SYNTHETIC.json")).unwrap();
        let mut error = synthetic["error"].clone();
        error["details"][0]["innererror"]["message"] = json!(format!(
            "Query result set has exceeded the internal record count limit {max_rows} \
             (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)"
        ));
        body.push_str(&format!(",\"error\":{error}"));
    }
    body.push('}');
    json_answer(200, body)
}

/// ISO 8601 with the trailing fraction zeros trimmed, as the service writes datetimes.
pub fn service_time(t: DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let (main, fraction) = s.trim_end_matches('Z').split_once('.').unwrap();
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{main}Z")
    } else {
        format!("{main}.{fraction}Z")
    }
}

/// A `SEM0100` body (shape of the documented semantic error; the values are ours).
fn semantic_error(query: &str, offset: usize, name: &str) -> String {
    let line = query[..offset].matches('\n').count() + 1;
    let pos = offset - query[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({"error": {
        "message": "The request had some invalid properties",
        "code": "BadArgumentError",
        "correlationId": "00000000-0000-0000-0000-000000000000",
        "innererror": {
            "code": "SemanticError",
            "message": "A semantic error occurred.",
            "innererror": {
                "code": "SEM0100",
                "message": format!("'union' operator: Failed to resolve table or column expression named '{name}'"),
                "line": line,
                "pos": pos,
                "token": name
            }
        }
    }})
    .to_string()
}

fn managed_identity_token(path: &str, headers: &HashMap<String, String>) -> Answer {
    if headers.get("x-identity-header").map(String::as_str) != Some(IDENTITY_HEADER) {
        return json_answer(
            400,
            json!({"error": {"code": "BadRequest", "message": "missing identity header"}})
                .to_string(),
        );
    }
    let resource = path
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("resource="))
        .unwrap_or_default()
        .to_owned();
    let expires = (Utc::now().timestamp() + 3600).to_string();
    json_answer(
        200,
        json!({"access_token": TOKEN, "expires_on": expires, "token_type": "Bearer",
               "resource": resource, "client_id": "00000000-0000-0000-0000-000000000002"})
        .to_string(),
    )
}

/// Entra ID's token endpoint (`{authority}/{tenant}/oauth2/v2.0/token`), for
/// the client secret and workload identity credentials.
fn entra_token(form: &str) -> Answer {
    let accepted = form.split('&').any(|pair| {
        pair == format!("client_secret={CLIENT_SECRET}")
            || pair == format!("client_assertion={FEDERATED_TOKEN}")
    });
    if !accepted {
        return json_answer(
            401,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
                .to_string(),
        );
    }
    json_answer(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN})
            .to_string(),
    )
}

/// One `union` leg of the query: its table and projected columns
/// (name, service type, source column).
#[derive(Debug)]
struct Leg {
    table: String,
    columns: Vec<(String, &'static str, String)>,
}

fn legs(query: &str) -> Vec<Leg> {
    let mut legs: Vec<Leg> = Vec::new();
    // Columns are read from a leg's `| project` on: lines of `extend`
    // before it look the same (`name = tostring(...)`).
    let mut projecting = false;
    for line in query.lines() {
        let trimmed = line.trim();
        if let Some(table) = trimmed.strip_prefix('(') {
            let table = table.split_whitespace().next().unwrap_or_default();
            legs.push(Leg {
                table: table.to_owned(),
                columns: Vec::new(),
            });
            projecting = false;
            continue;
        }
        if trimmed.starts_with("| project") {
            projecting = true;
            continue;
        }
        if trimmed.starts_with('|') {
            projecting = false;
        }
        if !projecting {
            continue;
        }
        let Some(leg) = legs.last_mut() else { continue };
        let Some((name, expression)) = trimmed.split_once(" = ") else {
            continue;
        };
        let Some((cast, argument)) = expression.split_once('(') else {
            continue;
        };
        let kind = match cast {
            "todatetime" => "datetime",
            "tostring" => "string",
            "tolong" => "long",
            "todouble" => "real",
            "tobool" => "bool",
            "todynamic" => "dynamic",
            _ => continue,
        };
        let source = match argument.strip_prefix("column_ifexists(\"") {
            Some(rest) => rest.split('"').next().unwrap_or_default(),
            None => argument.split(')').next().unwrap_or_default(),
        };
        leg.columns.push((name.to_owned(), kind, source.to_owned()));
    }
    // A leg that projects nothing the parser knows (the pushdown events
    // query's `kvaudit_listers`) is not a result leg.
    legs.retain(|l| !l.columns.is_empty());
    legs
}

/// A cell as the service encodes a value of `kind` (logs-query-api.md §3.1).
fn encode(value: Option<&Value>, kind: &str) -> Value {
    let value = match value {
        None | Some(Value::Null) => return Value::Null,
        Some(Value::String(s)) if s == "None" => return Value::Null,
        Some(v) => v,
    };
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match kind {
        "string" => Value::String(text),
        "long" => text
            .parse::<f64>()
            .ok()
            .map_or(Value::Null, |f| json!(f as i64)),
        "real" => text.parse::<f64>().ok().map_or(Value::Null, |f| json!(f)),
        "bool" => match text.to_ascii_lowercase().as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => Value::Null,
        },
        "datetime" => parse_time(&text).map_or(Value::Null, |t| Value::String(service_time(t))),
        // JSON text inside a string; a string scalar stays a bare string.
        "dynamic" => match value {
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        },
        _ => Value::String(text),
    }
}

fn table_of(row: &Map<String, Value>) -> Option<String> {
    row.get("Type").and_then(Value::as_str).map(str::to_owned)
}

fn let_value(query: &str, name: &str) -> Option<String> {
    let pattern = format!("let {name} = datetime(");
    let start = query.find(&pattern)?;
    let rest = &query[start + pattern.len()..];
    Some(rest[..rest.find(')')?].to_owned())
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Export objects from a JSON array file (the shape `az` and the portal write).
pub fn export_rows(path: &std::path::Path) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
    rows
}

/// Waits until `f` is true or a few seconds pass (for background state).
pub fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
