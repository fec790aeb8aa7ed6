//! The normalised event schema: the one place that says which columns every
//! ingested record becomes, whatever its source format.
//!
//! Every parser produces [`Event`]s; [`EventColumns`] appends them to column
//! builders and turns them into a polars `DataFrame` with the types below.
//! Every string column but `correlation_id` (unique per call) is categorical:
//! one global category mapping, so frames from different files and threads
//! concatenate without re-encoding, and a million events of a few hundred
//! request URIs hold each URI once.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `time` | datetime[ns] | event time, UTC (stored without a zone; every value is UTC) |
//! | `vault` | categorical | vault (or Managed HSM pool) name, lower case |
//! | `resource_type` | categorical | `vaults` or `managedhsms` |
//! | `subscription_id` | categorical | subscription GUID, lower case |
//! | `resource_group` | categorical | resource group, lower case |
//! | `operation` | categorical | `operationName` as logged (`SecretGet`, `VaultPatch`, ...) |
//! | `operation_version` | categorical | API version of the call |
//! | `object_type` | categorical | `vault`, `secret`, `key`, `certificate`, `certificate-issuer`, `certificate-contacts`, `deleted-secret`, `deleted-key`, `deleted-certificate`, `storage`, or null |
//! | `object_name` | categorical | key, secret or certificate name, lower case (names are case-insensitive) |
//! | `object_version` | categorical | object version (32 hex digits) when the call named one |
//! | `expires` | datetime[ns] | the expiry an Event Grid near-expiry / expired notification carries (`eventGridEventProperties.data.EXP`), else null |
//! | `http_status` | u32 | HTTP status from `httpStatusCode` (never from `resultType`) |
//! | `result_type` | categorical | `resultType` as logged (says `Success` even on 403) |
//! | `result_signature` | categorical | HTTP reason text (`OK`, `Forbidden`, ...) |
//! | `result_description` | categorical | error detail, when logged |
//! | `duration_ms` | u32 | server-side duration |
//! | `caller_ip` | categorical | `callerIpAddress` |
//! | `tls_version` | categorical | `TLS1_2`, `TLS1_3`, ... |
//! | `client_info` | categorical | user agent |
//! | `correlation_id` | string | client-supplied correlation id |
//! | `request_uri` | categorical | request URI as logged |
//! | `principal_id` | categorical | caller object id (`oid` or the long `objectidentifier` claim), lower case |
//! | `app_id` | categorical | application (client) id (`appid` / `azp`), lower case |
//! | `upn` | categorical | user principal name (`upn`, long `upn` claim or `unique_name`) |
//! | `tenant_id` | categorical | tenant of the token (`tid`) or of the record |
//! | `identity_kind` | categorical | see [`IdentityKind`] |
//! | `credential_kind` | categorical | see [`CredentialKind`] (from `appidacr` / `azpacr`) |
//! | `managed_identity` | categorical | `xms_mirid`: the managed identity's resource id |
//! | `authorization` | categorical | `access-policy` or `rbac`: which model decided (from `isAccessPolicyMatch` / `isRbacAuthorized`) |
//! | `authorized` | bool | that model's verdict (`isAccessPolicyMatch` / `isRbacAuthorized` value) |
//! | `assignment_id` | categorical | `appliedAssignmentId`: the RBAC role assignment that decided |
//! | `algorithm` | categorical | crypto algorithm of key operations |
//! | `source_format` | categorical | see [`SourceFormat`] |
//! | `source_file` | categorical | file the record came from (`-` for stdin) |
//! | `source_line` | u32 | 1-based line where the record starts |

use polars::prelude::*;

/// Who made a call, as far as the token's claims tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    User,
    ServicePrincipal,
    ManagedIdentity,
    /// Microsoft's own first-party background callers (Azure Resource Graph, Policy Insights).
    MicrosoftService,
    /// No identity at all: the `Authentication` challenge that precedes a token.
    Unauthenticated,
    Unknown,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 6] = [
        Self::User,
        Self::ServicePrincipal,
        Self::ManagedIdentity,
        Self::MicrosoftService,
        Self::Unauthenticated,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::ServicePrincipal => "service-principal",
            Self::ManagedIdentity => "managed-identity",
            Self::MicrosoftService => "microsoft-service",
            Self::Unauthenticated => "unauthenticated",
            Self::Unknown => "unknown",
        }
    }
}

/// How the client application proved its identity (`appidacr` / `azpacr` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// `0`: a public client (a user signing in through CLI, portal, PowerShell).
    None,
    /// `1`: client id and secret.
    ClientSecret,
    /// `2`: certificate or federated credential (managed identities use this too).
    Certificate,
    Unknown,
}

impl CredentialKind {
    pub fn from_claim(value: &str) -> Self {
        match value.trim() {
            "0" => Self::None,
            "1" => Self::ClientSecret,
            "2" => Self::Certificate,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecret => "client-secret",
            Self::Certificate => "certificate",
            Self::Unknown => "unknown",
        }
    }
}

/// The shape a record arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceFormat {
    /// Raw AuditEvent, one per line (storage-account `PT1H.json` since 2018).
    JsonLines,
    /// Raw AuditEvent inside `{"records": [...]}` (pre-2018 blobs, Event Hub).
    RecordsEnvelope,
    /// Raw AuditEvent inside a JSON array.
    JsonArray,
    /// Log Analytics `AzureDiagnostics` row, JSON export.
    AzureDiagnosticsJson,
    /// Log Analytics `AzureDiagnostics` row, CSV export.
    AzureDiagnosticsCsv,
    /// Log Analytics `AZKVAuditLogs` row, JSON export.
    AzkvAuditLogsJson,
    /// Log Analytics `AZKVAuditLogs` row, CSV export.
    AzkvAuditLogsCsv,
    /// Rows pulled from a Log Analytics workspace or saved from such a pull.
    LogAnalytics,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonLines => "json-lines",
            Self::RecordsEnvelope => "records-envelope",
            Self::JsonArray => "json-array",
            Self::AzureDiagnosticsJson => "azurediagnostics-json",
            Self::AzureDiagnosticsCsv => "azurediagnostics-csv",
            Self::AzkvAuditLogsJson => "azkvauditlogs-json",
            Self::AzkvAuditLogsCsv => "azkvauditlogs-csv",
            Self::LogAnalytics => "log-analytics",
        }
    }
}

/// One normalised audit record, borrowing from the parsed input where it can.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event<'a> {
    /// Nanoseconds since the Unix epoch, UTC.
    pub time_ns: i64,
    pub vault: Option<String>,
    pub resource_type: Option<String>,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub operation: Cow<'a, str>,
    pub operation_version: Option<Cow<'a, str>>,
    pub object_type: Option<&'static str>,
    pub object_name: Option<String>,
    pub object_version: Option<String>,
    /// Nanoseconds since the Unix epoch.
    pub expires_ns: Option<i64>,
    pub http_status: Option<u16>,
    pub result_type: Option<Cow<'a, str>>,
    pub result_signature: Option<Cow<'a, str>>,
    pub result_description: Option<Cow<'a, str>>,
    pub duration_ms: Option<u32>,
    pub caller_ip: Option<Cow<'a, str>>,
    pub tls_version: Option<Cow<'a, str>>,
    pub client_info: Option<Cow<'a, str>>,
    pub correlation_id: Option<Cow<'a, str>>,
    pub request_uri: Option<Cow<'a, str>>,
    pub principal_id: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<Cow<'a, str>>,
    pub tenant_id: Option<String>,
    pub identity_kind: Option<IdentityKind>,
    pub credential_kind: Option<CredentialKind>,
    pub managed_identity: Option<Cow<'a, str>>,
    pub authorization: Option<&'static str>,
    pub authorized: Option<bool>,
    pub assignment_id: Option<Cow<'a, str>>,
    pub algorithm: Option<Cow<'a, str>>,
}

pub use std::borrow::Cow;

/// Where a record came from; filled in by the reader, not the parser.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'f> {
    pub format: SourceFormat,
    pub file: &'f str,
    pub line: u32,
}

/// A categorical column under construction. Values become ids of the global
/// category mapping as they are pushed, so a batch never holds its strings.
struct CategoryBuilder {
    ids: Vec<Option<u32>>,
    /// The last value and its id: most columns repeat in runs (a file is one
    /// vault; callers, operations and user agents come in bursts), and
    /// comparing with the last value is cheaper than a lookup in the mapping.
    last: String,
    last_id: u32,
}

impl CategoryBuilder {
    fn with_capacity(capacity: usize) -> Self {
        CategoryBuilder {
            ids: Vec::with_capacity(capacity),
            last: String::new(),
            last_id: u32::MAX,
        }
    }

    fn push(&mut self, value: Option<&str>, mapping: &CategoricalMapping) -> PolarsResult<()> {
        let id = match value {
            Some(v) if !v.is_empty() => {
                if self.last_id == u32::MAX || self.last != v {
                    self.last_id = mapping.insert_cat(v)?;
                    self.last.clear();
                    self.last.push_str(v);
                }
                Some(self.last_id)
            }
            _ => None,
        };
        self.ids.push(id);
        Ok(())
    }

    fn finish(self, name: &str, dtype: &DataType) -> Column {
        let ids = UInt32Chunked::from_iter_options(name.into(), self.ids.into_iter());
        // SAFETY: every id came from `insert_cat` on this dtype's mapping.
        unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(ids, dtype.clone()) }
            .into_series()
            .into_column()
    }
}

macro_rules! columns {
    (categorical: $($cat:ident),* $(,)?; plain: $($plain:ident),* $(,)?) => {
        /// Column builders for a batch of events.
        pub struct EventColumns {
            len: usize,
            categorical: DataType,
            mapping: Arc<CategoricalMapping>,
            /// The first failure to intern a value (the mapping is full).
            error: Option<PolarsError>,
            time: Vec<i64>,
            expires: Vec<Option<i64>>,
            http_status: Vec<Option<u32>>,
            duration_ms: Vec<Option<u32>>,
            authorized: Vec<Option<bool>>,
            source_line: Vec<u32>,
            $($cat: CategoryBuilder,)*
            $($plain: StringChunkedBuilder,)*
        }

        impl EventColumns {
            pub fn with_capacity(capacity: usize) -> Self {
                let categorical = DataType::from_categories(Categories::global());
                let DataType::Categorical(_, mapping) = &categorical else {
                    unreachable!("from_categories makes a categorical dtype")
                };
                Self {
                    len: 0,
                    mapping: mapping.clone(),
                    categorical,
                    error: None,
                    time: Vec::with_capacity(capacity),
                    expires: Vec::with_capacity(capacity),
                    http_status: Vec::with_capacity(capacity),
                    duration_ms: Vec::with_capacity(capacity),
                    authorized: Vec::with_capacity(capacity),
                    source_line: Vec::with_capacity(capacity),
                    $($cat: CategoryBuilder::with_capacity(capacity),)*
                    $($plain: StringChunkedBuilder::new(stringify!($plain).into(), capacity),)*
                }
            }
        }
    };
}

columns!(
    categorical:
    vault,
    resource_type,
    subscription_id,
    resource_group,
    operation,
    operation_version,
    object_type,
    object_name,
    object_version,
    result_type,
    result_signature,
    result_description,
    caller_ip,
    tls_version,
    client_info,
    request_uri,
    principal_id,
    app_id,
    upn,
    tenant_id,
    identity_kind,
    credential_kind,
    managed_identity,
    authorization,
    assignment_id,
    algorithm,
    source_format,
    source_file;
    plain:
    correlation_id,
);

fn push<S: AsRef<str>>(builder: &mut StringChunkedBuilder, value: Option<S>) {
    match value {
        Some(v) if !v.as_ref().is_empty() => builder.append_value(v.as_ref()),
        _ => builder.append_null(),
    }
}

impl EventColumns {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, event: &Event<'_>, origin: Origin<'_>) {
        self.len += 1;
        self.time.push(event.time_ns);
        self.expires.push(event.expires_ns);
        self.http_status.push(event.http_status.map(u32::from));
        self.duration_ms.push(event.duration_ms);
        self.authorized.push(event.authorized);
        self.source_line.push(origin.line);
        push(&mut self.correlation_id, event.correlation_id.as_ref());
        let categories: [(&mut CategoryBuilder, Option<&str>); 28] = [
            (&mut self.vault, event.vault.as_deref()),
            (&mut self.resource_type, event.resource_type.as_deref()),
            (&mut self.subscription_id, event.subscription_id.as_deref()),
            (&mut self.resource_group, event.resource_group.as_deref()),
            (&mut self.operation, Some(&event.operation)),
            (
                &mut self.operation_version,
                event.operation_version.as_deref(),
            ),
            (&mut self.object_type, event.object_type),
            (&mut self.object_name, event.object_name.as_deref()),
            (&mut self.object_version, event.object_version.as_deref()),
            (&mut self.result_type, event.result_type.as_deref()),
            (
                &mut self.result_signature,
                event.result_signature.as_deref(),
            ),
            (
                &mut self.result_description,
                event.result_description.as_deref(),
            ),
            (&mut self.caller_ip, event.caller_ip.as_deref()),
            (&mut self.tls_version, event.tls_version.as_deref()),
            (&mut self.client_info, event.client_info.as_deref()),
            (&mut self.request_uri, event.request_uri.as_deref()),
            (&mut self.principal_id, event.principal_id.as_deref()),
            (&mut self.app_id, event.app_id.as_deref()),
            (&mut self.upn, event.upn.as_deref()),
            (&mut self.tenant_id, event.tenant_id.as_deref()),
            (
                &mut self.identity_kind,
                event.identity_kind.map(IdentityKind::as_str),
            ),
            (
                &mut self.credential_kind,
                event.credential_kind.map(CredentialKind::as_str),
            ),
            (
                &mut self.managed_identity,
                event.managed_identity.as_deref(),
            ),
            (&mut self.authorization, event.authorization),
            (&mut self.assignment_id, event.assignment_id.as_deref()),
            (&mut self.algorithm, event.algorithm.as_deref()),
            (&mut self.source_format, Some(origin.format.as_str())),
            (&mut self.source_file, Some(origin.file)),
        ];
        for (builder, value) in categories {
            if let Err(e) = builder.push(value, &self.mapping) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Builds the frame, columns in the order of the table above, with its types.
    pub fn finish(self) -> PolarsResult<DataFrame> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let dtype = &self.categorical;
        let time = Int64Chunked::from_vec("time".into(), self.time)
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column();
        let columns = vec![
            time,
            self.vault.finish("vault", dtype),
            self.resource_type.finish("resource_type", dtype),
            self.subscription_id.finish("subscription_id", dtype),
            self.resource_group.finish("resource_group", dtype),
            self.operation.finish("operation", dtype),
            self.operation_version.finish("operation_version", dtype),
            self.object_type.finish("object_type", dtype),
            self.object_name.finish("object_name", dtype),
            self.object_version.finish("object_version", dtype),
            Int64Chunked::from_iter_options("expires".into(), self.expires.into_iter())
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
            UInt32Chunked::from_iter_options("http_status".into(), self.http_status.into_iter())
                .into_column(),
            self.result_type.finish("result_type", dtype),
            self.result_signature.finish("result_signature", dtype),
            self.result_description.finish("result_description", dtype),
            UInt32Chunked::from_iter_options("duration_ms".into(), self.duration_ms.into_iter())
                .into_column(),
            self.caller_ip.finish("caller_ip", dtype),
            self.tls_version.finish("tls_version", dtype),
            self.client_info.finish("client_info", dtype),
            self.correlation_id.finish().into_column(),
            self.request_uri.finish("request_uri", dtype),
            self.principal_id.finish("principal_id", dtype),
            self.app_id.finish("app_id", dtype),
            self.upn.finish("upn", dtype),
            self.tenant_id.finish("tenant_id", dtype),
            self.identity_kind.finish("identity_kind", dtype),
            self.credential_kind.finish("credential_kind", dtype),
            self.managed_identity.finish("managed_identity", dtype),
            self.authorization.finish("authorization", dtype),
            BooleanChunked::from_iter_options("authorized".into(), self.authorized.into_iter())
                .into_column(),
            self.assignment_id.finish("assignment_id", dtype),
            self.algorithm.finish("algorithm", dtype),
            self.source_format.finish("source_format", dtype),
            self.source_file.finish("source_file", dtype),
            UInt32Chunked::from_vec("source_line".into(), self.source_line).into_column(),
        ];
        DataFrame::new(self.len, columns)
    }
}

/// An empty frame with the normalised schema, for runs that read no records.
pub fn empty_frame() -> PolarsResult<DataFrame> {
    EventColumns::with_capacity(0).finish()
}
