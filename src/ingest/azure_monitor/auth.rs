//! Choosing the Azure credential a pull authenticates with.
//!
//! The Rust SDK has no `DefaultAzureCredential` (removed on purpose: trying
//! developer and deployed credentials in turn can be surprising). `--auth`
//! names one; `auto` picks one from the environment, without probing the
//! network, in this order:
//! 1. `AZURE_FEDERATED_TOKEN_FILE` set → workload identity (AKS, GitHub Actions federation);
//! 2. `AZURE_CLIENT_SECRET` set → client secret (with `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`);
//! 3. `IDENTITY_ENDPOINT` set → managed identity (App Service, Functions, Container Apps);
//! 4. otherwise → developer tools: the Azure CLI (`az login`), then the Azure Developer CLI.
//!
//! A virtual machine's managed identity (IMDS) cannot be seen from the
//! environment: use `--auth managed-identity` there.

use std::sync::Arc;

use anyhow::Context;
use azure_core::cloud::CloudConfiguration;
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport, Url};
use azure_identity::{
    AzureCliCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};

/// `--auth`: which credential to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// The first the environment names: workload identity (AZURE_FEDERATED_TOKEN_FILE),
    /// client secret (AZURE_CLIENT_SECRET), managed identity (IDENTITY_ENDPOINT), else
    /// the Azure CLI, then the Azure Developer CLI.
    Auto,
    /// The Azure resource's managed identity; user-assigned when AZURE_CLIENT_ID is set.
    ManagedIdentity,
    /// A federated token file (AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID).
    WorkloadIdentity,
    /// The signed-in Azure CLI (`az login`).
    AzureCli,
    /// A service principal secret from AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET.
    ClientSecret,
}

/// A credential and how to talk about it when it fails.
#[derive(Clone)]
pub struct Credential {
    pub token: Arc<dyn TokenCredential>,
    /// What was tried, e.g. "the Azure CLI credential".
    pub name: &'static str,
    /// What to do when it cannot get a token.
    pub advice: &'static str,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required_env(name: &str, mode: &str) -> anyhow::Result<String> {
    env(name).with_context(|| format!("--auth {mode} needs the environment variable {name}"))
}

/// The mode `auto` resolves to in the current environment; `Auto` itself
/// when nothing names a credential, meaning the developer tools.
pub fn resolve_auto() -> AuthMode {
    if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        AuthMode::WorkloadIdentity
    } else if env("AZURE_CLIENT_SECRET").is_some() {
        AuthMode::ClientSecret
    } else if env("IDENTITY_ENDPOINT").is_some() {
        AuthMode::ManagedIdentity
    } else {
        AuthMode::Auto
    }
}

/// The sign-in cloud of a Log Analytics endpoint: a sovereign cloud's
/// endpoint signs in at that cloud's Entra ID (`login.microsoftonline.us`,
/// `login.chinacloudapi.cn`), so `--endpoint` alone is enough. `None` (the
/// public cloud, or `AZURE_AUTHORITY_HOST`, which then wins) leaves the
/// SDK's choice: `AZURE_AUTHORITY_HOST` if set, else the public cloud.
pub fn cloud_of(endpoint: &Url, authority_host: Option<&str>) -> Option<CloudConfiguration> {
    if authority_host.is_some() {
        return None;
    }
    match endpoint.host_str()? {
        "api.loganalytics.us" => Some(CloudConfiguration::AzureGovernment),
        "api.loganalytics.azure.cn" => Some(CloudConfiguration::AzureChina),
        _ => None,
    }
}

/// Builds the credential for `mode`; token requests go over `transport`
/// (so `--ca-cert` applies to the sign-in endpoints too), to the Entra ID
/// of `endpoint`'s cloud ([`cloud_of`]).
pub fn credential(
    mode: AuthMode,
    transport: &Transport,
    endpoint: &Url,
) -> anyhow::Result<Credential> {
    let client_options = ClientOptions {
        transport: Some(transport.clone()),
        cloud: cloud_of(endpoint, env("AZURE_AUTHORITY_HOST").as_deref()).map(Arc::new),
        ..ClientOptions::default()
    };
    let mode = if mode == AuthMode::Auto {
        resolve_auto()
    } else {
        mode
    };
    let credential = match mode {
        AuthMode::Auto => Credential {
            token: DeveloperToolsCredential::new(None)?,
            name: "the developer tools credential (Azure CLI, then Azure Developer CLI)",
            advice: "run `az login` (or `azd auth login`), or choose a credential with --auth",
        },
        AuthMode::AzureCli => Credential {
            token: AzureCliCredential::new(None)?,
            name: "the Azure CLI credential",
            advice: "run `az login` (and `az account set --subscription ...` for the workspace's tenant)",
        },
        AuthMode::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: env("AZURE_CLIENT_ID").map(UserAssignedId::ClientId),
                client_options,
            };
            Credential {
                token: ManagedIdentityCredential::new(Some(options))?,
                name: "the managed identity credential",
                advice: "run kvaudit on an Azure resource with a managed identity enabled \
                         (for a user-assigned identity set AZURE_CLIENT_ID to its client ID)",
            }
        }
        AuthMode::WorkloadIdentity => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                ..WorkloadIdentityCredentialOptions::default()
            };
            Credential {
                token: WorkloadIdentityCredential::new(Some(options)).context(
                    "--auth workload-identity needs AZURE_TENANT_ID, AZURE_CLIENT_ID and \
                     AZURE_FEDERATED_TOKEN_FILE",
                )?,
                name: "the workload identity credential",
                advice: "check AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE and \
                         the federated credential of the app registration",
            }
        }
        AuthMode::ClientSecret => {
            let tenant = required_env("AZURE_TENANT_ID", "client-secret")?;
            let client = required_env("AZURE_CLIENT_ID", "client-secret")?;
            let secret = required_env("AZURE_CLIENT_SECRET", "client-secret")?;
            let options = ClientSecretCredentialOptions { client_options };
            Credential {
                token: ClientSecretCredential::new(
                    &tenant,
                    client,
                    Secret::new(secret),
                    Some(options),
                )?,
                name: "the client secret credential",
                advice: "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET \
                         (the secret may have expired)",
            }
        }
    };
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(endpoint: &str, authority_host: Option<&str>) -> Option<CloudConfiguration> {
        cloud_of(&Url::parse(endpoint).unwrap(), authority_host)
    }

    #[test]
    fn the_sign_in_cloud_follows_the_endpoint_unless_the_authority_is_set() {
        assert!(matches!(
            cloud("https://api.loganalytics.us", None),
            Some(CloudConfiguration::AzureGovernment)
        ));
        assert!(matches!(
            cloud("https://api.loganalytics.azure.cn/", None),
            Some(CloudConfiguration::AzureChina)
        ));
        assert!(cloud("https://api.loganalytics.io", None).is_none());
        assert!(cloud("https://127.0.0.1:8443", None).is_none());
        assert!(
            cloud(
                "https://api.loganalytics.us",
                Some("https://login.microsoftonline.us")
            )
            .is_none(),
            "AZURE_AUTHORITY_HOST wins"
        );
    }
}
