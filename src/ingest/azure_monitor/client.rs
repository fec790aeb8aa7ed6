//! The Logs Query client: one `POST /v1/workspaces/{id}/query` (or, for a
//! resource-centric query, `POST /v1{resourceId}/query`) through the
//! `azure_core` pipeline (client request id, user agent, retries, bearer
//! token) over our own `reqwest` transport.
//!
//! Why not the SDK defaults:
//! - the default transport gives up reading after 60 s, but the service
//!   sends nothing until the query finishes (up to `Prefer: wait=600`), so
//!   the transport here waits longer than the server may take;
//! - the default retry policy also retries 504, which would run a query
//!   that already took the full server timeout again; a 504 is answered by
//!   the puller with shorter slices instead;
//! - error bodies are parsed here, because `azure_core`'s error type drops the
//!   inner messages that say what is wrong with a query.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{HeaderName, RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{Policy, RetryHeaders};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, Context, ExponentialRetryOptions, HttpClient, Method,
    Pipeline, PipelineOptions, PipelineSendOptions, Request, RetryOptions, StatusCode, Transport,
    Url,
};

use super::response::{ErrorInfo, ErrorResponse};

/// How long the service may run one query (`Prefer: wait=`, its maximum).
pub const SERVER_WAIT: Duration = Duration::from_secs(600);
/// The transport waits this much longer than the server, so that the server's
/// own 504 arrives rather than a local timeout.
const READ_TIMEOUT: Duration = Duration::from_secs(600 + 60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether a pull target is an Azure resource ID (a resource-centric
/// query) rather than a workspace ID.
pub fn is_resource_id(target: &str) -> bool {
    target.starts_with("/subscriptions/")
}

/// The public cloud's Log Analytics endpoint (the SDKs' default host).
pub const PUBLIC_ENDPOINT: &str = "https://api.loganalytics.io";

/// The token scope for an endpoint: the cloud's Log Analytics audience.
pub fn scope_for(endpoint: &Url) -> String {
    let host = endpoint.host_str().unwrap_or_default();
    let audience = match host {
        "api.loganalytics.io" | "api.loganalytics.azure.com" => "https://api.loganalytics.io",
        "api.loganalytics.us" => "https://api.loganalytics.us",
        "api.loganalytics.azure.cn" => "https://api.loganalytics.azure.cn",
        _ => return format!("{}://{}/.default", endpoint.scheme(), endpoint.authority()),
    };
    format!("{audience}/.default")
}

/// Installs ring as rustls' crypto provider (reqwest is built without one, so
/// the TLS stack is the one polars already brings in). Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Extra root certificates: `--ca-cert` and the conventional `SSL_CERT_FILE`
/// (a corporate TLS-inspecting proxy's CA), on top of the system's roots.
pub fn extra_roots(ca_cert: Option<&Path>) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let mut files: Vec<PathBuf> = ca_cert.map(Path::to_owned).into_iter().collect();
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        files.push(file.into());
    }
    let mut roots = Vec::new();
    for file in files {
        let pem = std::fs::read(&file)
            .with_context(|| format!("cannot read the CA certificate file {}", file.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{}: not a PEM certificate bundle", file.display()))?;
        if certs.is_empty() {
            bail!("{}: holds no PEM certificate", file.display());
        }
        roots.extend(certs);
    }
    Ok(roots)
}

/// reqwest, with untrusted-certificate errors told apart: the pipeline
/// retries connection errors with backoff, but a certificate nobody trusts
/// (a TLS-inspecting proxy without `--ca-cert`) stays untrusted.
#[derive(Debug)]
struct TlsAwareClient(reqwest::Client);

/// Marks an error as an untrusted server certificate.
const UNTRUSTED: &str = "the server's TLS certificate is not trusted";

#[async_trait::async_trait]
impl HttpClient for TlsAwareClient {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        self.0.execute_request(request).await.map_err(|e| {
            if mentions(&e, "certificate") {
                azure_core::Error::with_error(azure_core::error::ErrorKind::Other, e, UNTRUSTED)
            } else {
                e
            }
        })
    }
}

/// Whether an error or one of its causes says `text`.
fn mentions(error: &(dyn std::error::Error + 'static), text: &str) -> bool {
    let mut cause = Some(error);
    while let Some(c) = cause {
        if c.to_string().contains(text) {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The HTTP transport for the query client and the credentials.
pub fn transport(ca_cert: Option<&Path>) -> anyhow::Result<Transport> {
    install_crypto_provider();
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_merge(extra_roots(ca_cert)?)
        .build()
        .context("cannot set up the HTTPS client")?;
    Ok(Transport::new(Arc::new(TlsAwareClient(client))))
}

const CONTENT_ENCODING: HeaderName = HeaderName::from_static("content-encoding");

/// Decompresses a gzip body. The transport is built without reqwest's
/// decompression feature: enabling it would change the features of crates
/// polars shares and rebuild all of polars.
fn gunzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() * 8);
    flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

/// What one query returned.
#[derive(Debug)]
pub enum Answer {
    /// `200`: the body (result tables, perhaps with a partial-result error).
    Body(Vec<u8>),
    /// `204`: the workspace holds no data.
    NoContent,
}

/// Why a query got no answer.
#[derive(Debug)]
pub enum QueryError {
    /// `504`: the query ran past the server timeout.
    Timeout(ErrorInfo),
    /// The request itself is wrong (`400`, `401`, `403`, `404`): every
    /// other slice would fail the same way.
    Rejected { status: u16, error: ErrorInfo },
    /// Throttling or a server error that outlasted the retries.
    Unavailable { status: u16, error: ErrorInfo },
    /// No token: the credential failed.
    Credential(azure_core::Error),
    /// The connection failed or timed out (after retries).
    Transport(azure_core::Error),
    /// The server's certificate is not trusted: every query would fail so.
    Untrusted(azure_core::Error),
}

/// A Log Analytics Query API client for one endpoint.
pub struct LogsQueryClient {
    endpoint: Url,
    pipeline: Pipeline,
}

impl LogsQueryClient {
    pub fn new(
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        transport: Transport,
    ) -> LogsQueryClient {
        let scope = scope_for(&endpoint);
        let auth: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(
            credential,
            [scope.as_str()],
        ));
        let options = ClientOptions {
            transport: Some(transport),
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::seconds(1),
                max_retries: 6,
                max_total_elapsed: azure_core::time::Duration::minutes(5),
                max_delay: azure_core::time::Duration::seconds(60),
            }),
            ..ClientOptions::default()
        };
        let pipeline_options = PipelineOptions {
            retry_headers: RetryHeaders {
                retry_headers: vec![X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER],
            },
            // Not 504: see the module documentation.
            retry_status_codes: [408u16, 429, 500, 502, 503]
                .into_iter()
                .map(StatusCode::from)
                .collect(),
        };
        let pipeline = Pipeline::new(
            Some("kvaudit"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            vec![auth],
            Some(pipeline_options),
        );
        LogsQueryClient { endpoint, pipeline }
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Runs `query` over `timespan` in `workspace`.
    pub async fn query(
        &self,
        workspace: &str,
        query: &str,
        timespan: &str,
    ) -> Result<Answer, QueryError> {
        let mut url = self.endpoint.clone();
        let mut path = url.path_segments_mut().map_err(|()| QueryError::Rejected {
            status: 0,
            error: ErrorInfo {
                message: format!("{} cannot be a base URL", self.endpoint),
                ..ErrorInfo::default()
            },
        })?;
        path.pop_if_empty().push("v1");
        if is_resource_id(workspace) {
            // Resource-centric: `/v1{resourceId}/query`, the resource's logs
            // in whichever workspaces hold them.
            path.extend(workspace.split('/').filter(|s| !s.is_empty()));
        } else {
            path.extend(["workspaces", workspace]);
        }
        path.push("query");
        drop(path);
        let mut request = Request::new(url, Method::Post);
        request.insert_header("content-type", "application/json");
        request.insert_header("prefer", format!("wait={}", SERVER_WAIT.as_secs()));
        // Responses are cached for 2 minutes by default; an audit wants what is there now.
        request.insert_header("cache-control", "no-cache");
        // Audit rows compress about tenfold.
        request.insert_header("accept-encoding", "gzip");
        let body = serde_json::json!({ "query": query, "timespan": timespan });
        request.set_body(body.to_string().into_bytes());

        let options = PipelineSendOptions {
            skip_checks: true,
            ..PipelineSendOptions::default()
        };
        let response = match self
            .pipeline
            .send(&Context::new(), &mut request, Some(options))
            .await
        {
            Ok(response) => response,
            Err(e) if matches!(e.kind(), azure_core::error::ErrorKind::Credential) => {
                return Err(QueryError::Credential(e));
            }
            Err(e) if mentions(&e, UNTRUSTED) => return Err(QueryError::Untrusted(e)),
            Err(e) => return Err(QueryError::Transport(e)),
        };
        let status = u16::from(response.status());
        let gzip = response
            .headers()
            .get_optional_str(&CONTENT_ENCODING)
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
        let body = response.into_body();
        let body: Vec<u8> = if gzip {
            gunzip(body.as_ref()).map_err(|e| QueryError::Unavailable {
                status,
                error: ErrorInfo {
                    message: format!("the gzip-compressed answer is damaged: {e}"),
                    ..ErrorInfo::default()
                },
            })?
        } else {
            body.as_ref().to_vec()
        };
        let body = body.as_slice();
        match status {
            200 => Ok(Answer::Body(body.to_vec())),
            204 => Ok(Answer::NoContent),
            _ => {
                let error = serde_json::from_slice::<ErrorResponse>(body)
                    .map(|r| r.error)
                    .unwrap_or_else(|_| ErrorInfo {
                        message: String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned(),
                        ..ErrorInfo::default()
                    });
                Err(match status {
                    504 => QueryError::Timeout(error),
                    400..=499 if status != 408 && status != 429 => {
                        QueryError::Rejected { status, error }
                    }
                    _ => QueryError::Unavailable { status, error },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_has_its_audience() {
        let scope = |u: &str| scope_for(&Url::parse(u).unwrap());
        assert_eq!(
            scope(PUBLIC_ENDPOINT),
            "https://api.loganalytics.io/.default"
        );
        assert_eq!(
            scope("https://api.loganalytics.azure.com"),
            "https://api.loganalytics.io/.default"
        );
        assert_eq!(
            scope("https://api.loganalytics.us"),
            "https://api.loganalytics.us/.default"
        );
        assert_eq!(
            scope("https://api.loganalytics.azure.cn/"),
            "https://api.loganalytics.azure.cn/.default"
        );
        assert_eq!(
            scope("https://127.0.0.1:8443"),
            "https://127.0.0.1:8443/.default"
        );
    }
}
