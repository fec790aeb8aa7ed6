//! Argument groups several commands flatten into theirs.

use std::path::PathBuf;

use clap::Args;

use crate::analyze::policy::PolicyOptions;
use crate::analyze::rates::{
    DEFAULT_BASELINE_DAYS, DEFAULT_LEARNING_DAYS, DEFAULT_MAX_SECRET_AGE_DAYS, RateOptions,
};
use crate::ingest::azure_monitor::auth::AuthMode;
use crate::ingest::azure_monitor::client::PUBLIC_ENDPOINT;
use crate::ingest::azure_monitor::{DEFAULT_SINCE, DEFAULT_SLICE, PullOptions};

/// Where and how to read from Log Analytics.
#[derive(Debug, Clone, Args)]
pub struct WorkspaceArgs {
    /// Log Analytics workspace ID (GUID) to read Key Vault audit events from;
    /// repeat for several workspaces.
    #[arg(long = "workspace", value_name = "ID")]
    pub workspaces: Vec<String>,
    /// A key vault's resource ID, to read its logs from whichever workspaces
    /// hold them with a resource-centric query (for identities that may read
    /// the vault's logs but not the workspace); repeatable, and combines
    /// with --workspace.
    #[arg(long = "resource", value_name = "RESOURCE_ID")]
    pub resources: Vec<String>,
    /// Start of the time range: a duration back from now (12h, 7d, 2w), an
    /// RFC 3339 time or a date.
    #[arg(long, default_value = DEFAULT_SINCE, value_name = "TIME")]
    pub since: String,
    /// End of the time range (exclusive); default now.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// KQL file to run instead of the bundled queries/keyvault-audit.kql
    /// (it must filter on kvaudit_start and kvaudit_end).
    #[arg(long, value_name = "FILE")]
    pub query: Option<PathBuf>,
    /// Credential: auto, managed-identity, workload-identity, azure-cli or
    /// client-secret (secret from AZURE_CLIENT_SECRET only).
    #[arg(long, value_enum, default_value = "auto")]
    pub auth: AuthMode,
    /// Log Analytics endpoint: https://api.loganalytics.us (US Government),
    /// https://api.loganalytics.azure.cn (China).
    #[arg(long, default_value = PUBLIC_ENDPOINT, value_name = "URL")]
    pub endpoint: String,
    /// Extra trusted CA certificates (PEM), e.g. a TLS-inspecting proxy's;
    /// SSL_CERT_FILE is honoured too.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Length of the first time slices; slices the service cannot answer
    /// whole are halved.
    #[arg(long, default_value = DEFAULT_SLICE, value_name = "DURATION", hide = true)]
    pub slice: String,
}

impl WorkspaceArgs {
    pub fn options(&self) -> PullOptions {
        PullOptions {
            workspaces: self
                .workspaces
                .iter()
                .chain(&self.resources)
                .cloned()
                .collect(),
            since: self.since.clone(),
            until: self.until.clone(),
            query: self.query.clone(),
            auth: self.auth,
            endpoint: self.endpoint.clone(),
            ca_cert: self.ca_cert.clone(),
            slice: self.slice.clone(),
        }
    }
}

/// Which policies to use: shared by `policy validate`, `explain` and `audit`.
#[derive(Debug, Clone, Args)]
pub struct PolicySelection {
    /// Directory (or .cedar file) of team policies, added to the default pack;
    /// a policy with a default-pack @id replaces it. Repeatable.
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Leave the built-in default policy pack out.
    #[arg(long)]
    pub no_default_policies: bool,
    /// Cedar entities JSON: groups (e.g. break-glass), identity names, vault tags (env=prod).
    #[arg(long, value_name = "FILE")]
    pub entities: Option<PathBuf>,
}

impl PolicySelection {
    pub fn options(&self) -> PolicyOptions {
        PolicyOptions {
            default_pack: !self.no_default_policies,
            dirs: self.policies.clone(),
            entities_file: self.entities.clone(),
        }
    }
}

/// How much history the abnormal-rate analysis uses.
#[derive(Debug, Args)]
pub struct RateArgs {
    /// At most this many earlier days form an identity's baseline.
    #[arg(long, default_value_t = DEFAULT_BASELINE_DAYS, value_name = "DAYS")]
    pub baseline_days: u32,
    /// Nothing in a vault's first DAYS of logs is reported as first seen
    /// (capped at a quarter of the vault's logged span, at least one day).
    #[arg(long, default_value_t = DEFAULT_LEARNING_DAYS, value_name = "DAYS")]
    pub learning_days: u32,
    /// A secret read in logs spanning more than DAYS without a new version is stale.
    #[arg(long, default_value_t = DEFAULT_MAX_SECRET_AGE_DAYS, value_name = "DAYS")]
    pub max_secret_age: u32,
}

impl RateArgs {
    pub fn options(&self) -> RateOptions {
        RateOptions {
            baseline_days: i64::from(self.baseline_days),
            learning_days: i64::from(self.learning_days),
            max_secret_age_days: i64::from(self.max_secret_age),
        }
    }
}
