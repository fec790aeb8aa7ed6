//! The simulated estate: one tenant and subscription, three vaults, the
//! identities that call them and the clients (SDKs, CLI, portal) they use.
//!
//! Everything here is fixed data, independent of the seed, and documented in
//! `sample-logs/README.md`; change both together.

pub(crate) const TENANT_ID: &str = "6513270e-269e-4d37-b2a7-4de452e6b438";
pub(crate) const SUBSCRIPTION_ID: &str = "d23f0824-128b-4f33-8c5c-7fd0a6a3a450";
/// Log Analytics workspace id: what the `TenantId` column of AzureDiagnostics holds.
pub(crate) const WORKSPACE_ID: &str = "9531985d-5d9d-49f8-9818-e811892f902b";
pub(crate) const LOCATION: &str = "westeurope";
pub(crate) const RG_PROD: &str = "rg-prod-apps";
pub(crate) const RG_DEV: &str = "rg-dev-apps";

pub(crate) const AZURE_CLI_APPID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub(crate) const PORTAL_APPID: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
pub(crate) const RESOURCE_GRAPH_APPID: &str = "509e4652-da8d-478d-a730-e9d4a1996ca4";
pub(crate) const POLICY_INSIGHTS_APPID: &str = "8cae6e77-e04e-42ce-b5cb-50d82bce26b1";

/// Office egress address shared by the humans.
pub(crate) const OFFICE_IP: &str = "192.0.2.55";
/// Bob's home address, seen only during incident 5.
pub(crate) const BOB_HOME_IP: &str = "198.51.100.45";
/// Address of the unknown service principal (incident 7).
pub(crate) const UNKNOWN_SP_IP: &str = "203.0.113.54";
/// First-seen address of `id-web-frontend` on the last day (incident 10).
pub(crate) const FRONTEND_NEW_IP: &str = "203.0.113.187";

/// One Key Vault. `tags` and the object lists are read by the tests and
/// documented in the README; the generator itself names objects directly.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct VaultDef {
    pub name: &'static str,
    pub resource_group: &'static str,
    pub tags: &'static [(&'static str, &'static str)],
    /// Azure RBAC (`isRbacAuthorized`) instead of access policies (`isAccessPolicyMatch`).
    pub rbac: bool,
    pub purge_protection: bool,
    pub soft_delete_days: u32,
    pub default_action: &'static str,
    pub secrets: &'static [&'static str],
    pub keys: &'static [&'static str],
    pub certificates: &'static [&'static str],
    /// Names that callers ask for but that do not exist (404).
    pub missing: &'static [&'static str],
}

pub(crate) const PAYMENTS: usize = 0;
pub(crate) const WEB: usize = 1;
pub(crate) const DEV: usize = 2;

pub(crate) const PAYMENTS_SECRETS: &[&str] = &[
    "payments-db-connection",
    "psp-api-key",
    "fraud-service-token",
    "redis-payments-password",
    "appinsights-connection",
    "settlement-sftp-password",
    "settlement-db-connection",
    "bank-api-client-secret",
    "acquirer-api-key",
    "acquirer-webhook-secret",
    "chargeback-api-key",
    "ledger-db-connection",
    "ledger-replica-connection",
    "reconciliation-sftp-key",
    "tokenization-service-secret",
    "card-vault-api-key",
    "threeds-server-api-key",
    "payout-api-key",
    "payout-webhook-secret",
    "kyc-provider-api-key",
    "aml-screening-api-key",
    "fx-rates-api-key",
    "invoice-service-token",
    "refund-service-token",
    "servicebus-payments-connection",
    "eventhub-payments-connection",
    "storage-payments-key",
    "cosmos-payments-key",
    "smtp-payments-password",
    "sms-gateway-api-key",
    "pagerduty-integration-key",
    "datadog-api-key",
    "merchant-portal-client-secret",
    "merchant-api-signing-secret",
    "partner-bank-a-credentials",
    "partner-bank-b-credentials",
    "swift-gateway-password",
    "sepa-gateway-password",
    "card-network-api-key",
    "pci-scanner-token",
    "reporting-readonly-connection",
    "analytics-export-sas",
    "audit-log-storage-key",
    "payments-oauth-client-secret",
    "legacy-gateway-password",
    "webhook-signing-secret",
    "currency-service-token",
    "loyalty-api-key",
    "settlement-report-sas",
    "merchant-onboarding-token",
    "dispute-service-token",
    "ledger-export-key",
    "risk-engine-api-key",
    "bin-lookup-api-key",
    "apple-pay-merchant-key",
    "google-pay-merchant-key",
    "paypal-client-secret",
    "backup-encryption-passphrase",
    "hsm-admin-pin",
    "sql-admin-password",
];

pub(crate) static VAULTS: [VaultDef; 3] = [
    VaultDef {
        name: "kv-payments-prod",
        resource_group: RG_PROD,
        tags: &[("env", "prod"), ("data", "pci")],
        rbac: true,
        purge_protection: true,
        soft_delete_days: 90,
        default_action: "Deny",
        secrets: PAYMENTS_SECRETS,
        keys: &[
            "pan-encryption-kek",
            "payment-token-signing",
            "settlement-file-key",
            "bank-file-signing",
        ],
        certificates: &["payments-api-tls"],
        missing: &["psp-api-key-v1"],
    },
    VaultDef {
        name: "kv-web-prod",
        resource_group: RG_PROD,
        tags: &[("env", "prod")],
        rbac: false,
        purge_protection: false,
        soft_delete_days: 90,
        default_action: "Deny",
        secrets: &[
            "catalog-db-connection",
            "catalog-search-api-key",
            "catalog-cdn-token",
            "frontend-session-secret",
            "frontend-cdn-token",
            "frontend-oauth-client-secret",
            "frontend-recaptcha-secret",
            "feature-flags-sdk-key",
            "smtp-relay-password",
            "legacy-smtp-password",
            "admin-portal-db-connection",
            "storage-account-key",
            "deploy-webhook-secret",
        ],
        keys: &["web-data-encryption", "code-signing"],
        certificates: &["www-contosopay-tls", "code-signing"],
        missing: &["feature-flag-legacy"],
    },
    VaultDef {
        name: "kv-shared-dev",
        resource_group: RG_DEV,
        tags: &[("env", "dev")],
        rbac: false,
        purge_protection: false,
        soft_delete_days: 7,
        default_action: "Allow",
        secrets: &[
            "dev-db-connection",
            "dev-storage-key",
            "dev-psp-sandbox-key",
            "dev-redis-password",
            "dev-servicebus-connection",
            "dev-feature-flags-key",
            "dev-appinsights-connection",
            "dev-oauth-client-secret",
            "dev-deploy-marker",
            "test-user-password",
            "reporting-db-password",
            "reporting-smtp-password",
        ],
        keys: &["dev-encryption-key"],
        certificates: &["dev-wildcard-tls"],
        missing: &[
            "dev-db-connection-old",
            "local-test-secret",
            "dev-mongo-password",
        ],
    },
];

/// How an identity authenticates; decides the claim variant of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// User-assigned managed identity (claim variant C).
    UserAssignedMi { resource_group: &'static str },
    /// System-assigned managed identity of an App Service site (variant C).
    SystemAssignedMi {
        resource_group: &'static str,
        site: &'static str,
    },
    /// App registration with a client secret (`certificate: false`, appidacr 1)
    /// or a certificate (appidacr 2) (variant B).
    ServicePrincipal { certificate: bool },
    /// Human (variant A on the data plane, D on ARM).
    User { upn: &'static str },
    /// Microsoft first-party caller on ARM (variant D).
    Microsoft,
    /// Key Vault itself (Event Grid notifications): `identity: {}`.
    Service,
}

pub(crate) struct ActorDef {
    /// Stable short name used in the README and the tests.
    pub key: &'static str,
    pub kind: Kind,
    pub oid: &'static str,
    /// Application (client) id; empty for users, whose appid is the client's.
    pub appid: &'static str,
    /// Usual caller addresses.
    pub ips: &'static [&'static str],
}

pub(crate) const PAYMENTS_API: usize = 0;
pub(crate) const SETTLEMENT_WORKER: usize = 1;
pub(crate) const WEB_CATALOG: usize = 2;
pub(crate) const WEB_FRONTEND: usize = 3;
pub(crate) const WEB_ADMIN_SITE: usize = 4;
pub(crate) const INVENTORY_SYNC: usize = 5;
pub(crate) const DEV_APPS: usize = 6;
pub(crate) const REPORTING_VM: usize = 7;
pub(crate) const GITHUB_DEPLOY: usize = 8;
pub(crate) const RELEASE_SIGNING: usize = 9;
pub(crate) const ALICE: usize = 10;
pub(crate) const BOB: usize = 11;
pub(crate) const DANA: usize = 12;
pub(crate) const BREAKGLASS: usize = 13;
pub(crate) const UNKNOWN_SP: usize = 14;
pub(crate) const RESOURCE_GRAPH: usize = 15;
pub(crate) const POLICY_INSIGHTS: usize = 16;
pub(crate) const KEYVAULT_SERVICE: usize = 17;

pub(crate) static ACTORS: [ActorDef; 18] = [
    ActorDef {
        key: "id-payments-api",
        kind: Kind::UserAssignedMi {
            resource_group: RG_PROD,
        },
        oid: "36f675cc-81e7-4ef5-a8e2-5d940ed90475",
        appid: "6b0d549b-6f03-475a-9600-a35a099950d8",
        ips: &["10.10.1.4", "10.10.1.5", "10.10.1.6"],
    },
    ActorDef {
        key: "id-settlement-worker",
        kind: Kind::UserAssignedMi {
            resource_group: RG_PROD,
        },
        oid: "8d116ece-1738-47d9-bd9c-172411e20b8f",
        appid: "90c192cf-d3ac-44af-8f21-ddb66cad4a26",
        ips: &["10.10.2.7"],
    },
    ActorDef {
        key: "id-web-catalog",
        kind: Kind::UserAssignedMi {
            resource_group: RG_PROD,
        },
        oid: "a170b338-3926-4059-b28c-105d1fb17c23",
        appid: "0fd630f1-f29d-4da9-953f-48f1a09f76b5",
        ips: &["10.20.1.10", "10.20.1.11"],
    },
    ActorDef {
        key: "id-web-frontend",
        kind: Kind::UserAssignedMi {
            resource_group: RG_PROD,
        },
        oid: "0cb1e29c-658c-4a14-95e6-0af593bd04cf",
        appid: "8e81973e-0bec-47b0-b898-d190f9ebdacc",
        ips: &["10.20.1.20", "10.20.1.21"],
    },
    ActorDef {
        key: "app-web-admin",
        kind: Kind::SystemAssignedMi {
            resource_group: RG_PROD,
            site: "app-web-admin",
        },
        oid: "6b4cb242-4a23-4596-a217-beaddbc496cb",
        appid: "92276658-1e27-41c0-8a6a-63ec24ede6a4",
        ips: &["10.20.2.5"],
    },
    ActorDef {
        key: "id-inventory-sync",
        kind: Kind::UserAssignedMi {
            resource_group: RG_PROD,
        },
        oid: "ae97ba94-d0ed-482f-8f6d-05584ef8aa38",
        appid: "923a7369-94e3-4f91-9a61-dbe22e44158b",
        ips: &["10.20.3.8"],
    },
    ActorDef {
        key: "id-dev-apps",
        kind: Kind::UserAssignedMi {
            resource_group: RG_DEV,
        },
        oid: "18f135d2-5f55-4203-b018-50c5a38fd547",
        appid: "907a70c3-1012-4037-b64c-e4228c38fb29",
        ips: &["10.30.1.4", "10.30.1.5", "10.30.1.6", "10.30.1.7"],
    },
    ActorDef {
        key: "id-reporting-vm",
        kind: Kind::UserAssignedMi {
            resource_group: RG_DEV,
        },
        oid: "7f150524-34b9-45df-9e77-69b10f4205b4",
        appid: "c6f87718-6d76-407e-881e-d162ae2eb154",
        ips: &["10.30.2.15"],
    },
    ActorDef {
        key: "sp-github-deploy",
        kind: Kind::ServicePrincipal { certificate: false },
        oid: "ec66a787-95e7-41d1-b731-af10506bf2ef",
        appid: "3f98e277-4cbd-47ad-9c90-a9587403e430",
        ips: &["192.0.2.10"],
    },
    ActorDef {
        key: "sp-release-signing",
        kind: Kind::ServicePrincipal { certificate: true },
        oid: "c7a2ea20-b2f1-4c94-ae05-319acb5c7427",
        appid: "4cdd2055-930d-4eaf-94f4-733f3e7d1bfb",
        ips: &["192.0.2.20"],
    },
    ActorDef {
        key: "alice.nguyen@contosopay.com",
        kind: Kind::User {
            upn: "alice.nguyen@contosopay.com",
        },
        oid: "57ee05cd-e009-42c7-bebf-f20686734721",
        appid: "",
        ips: &[OFFICE_IP],
    },
    ActorDef {
        key: "bob.martin@contosopay.com",
        kind: Kind::User {
            upn: "bob.martin@contosopay.com",
        },
        oid: "9be4bcfc-49b6-4a08-b2e6-cc3ababced20",
        appid: "",
        ips: &[OFFICE_IP],
    },
    ActorDef {
        key: "dana.kim@contosopay.com",
        kind: Kind::User {
            upn: "dana.kim@contosopay.com",
        },
        oid: "830e07bc-1e39-4f10-92bd-4acefaecbd38",
        appid: "",
        ips: &[OFFICE_IP],
    },
    ActorDef {
        key: "breakglass01@contosopay.onmicrosoft.com",
        kind: Kind::User {
            upn: "breakglass01@contosopay.onmicrosoft.com",
        },
        oid: "5790f82e-c1d3-4cff-aa3a-f4d46b0a18e8",
        appid: "",
        ips: &[OFFICE_IP],
    },
    ActorDef {
        key: "unknown-sp",
        kind: Kind::ServicePrincipal { certificate: false },
        oid: "6bf46c69-7d2c-4f82-aeea-cbe226e87555",
        appid: "13deef86-ab10-41d0-b646-e1f40a097c97",
        ips: &[UNKNOWN_SP_IP],
    },
    ActorDef {
        key: "azure-resource-graph",
        kind: Kind::Microsoft,
        oid: "ca02135e-92b1-43f2-8ede-0d7ac3baea9e",
        appid: RESOURCE_GRAPH_APPID,
        ips: &["20.50.2.41", "20.50.2.43"],
    },
    ActorDef {
        key: "policy-insights",
        kind: Kind::Microsoft,
        oid: "57124242-5051-41cc-917f-9acae01f5057",
        appid: POLICY_INSIGHTS_APPID,
        ips: &["52.236.187.10"],
    },
    ActorDef {
        key: "key-vault-service",
        kind: Kind::Service,
        oid: "",
        appid: "",
        ips: &[""],
    },
];

/// The program a caller uses: user agents, api-version, TLS.
#[derive(Debug)]
pub(crate) struct ClientDef {
    pub ua_secrets: &'static str,
    pub ua_keys: &'static str,
    pub ua_certs: &'static str,
    /// First-party application the user signs in with (users only).
    pub appid: Option<&'static str>,
    pub api_version: &'static str,
    pub arm_api_version: &'static str,
    /// ARM host the control-plane requests are logged with.
    pub arm_host: &'static str,
    /// Share of requests negotiated as TLS 1.3 (the rest TLS 1.2).
    pub tls13: f64,
    /// Always TLS 1.1 (incident 8).
    pub legacy_tls: bool,
    /// The request URI carries an explicit `:443`.
    pub port443: bool,
    /// `$maxresults=25` on list calls (Azure CLI).
    pub max_results: bool,
}

const NONE_UA: &str = "";
const MGMT: &str = "https://management.azure.com";

pub(crate) static NET_PAYMENTS: ClientDef = ClientDef {
    ua_secrets: "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.11; Ubuntu 22.04.5 LTS)",
    ua_keys: "azsdk-net-Security.KeyVault.Keys/4.6.0 (.NET 8.0.11; Ubuntu 22.04.5 LTS)",
    ua_certs: "azsdk-net-Security.KeyVault.Certificates/4.6.0 (.NET 8.0.11; Ubuntu 22.04.5 LTS)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.75,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static PY_WORKER: ClientDef = ClientDef {
    ua_secrets: "azsdk-python-keyvault-secrets/4.8.0 Python/3.11.9 (Linux-5.15.0-1075-azure-x86_64-with-glibc2.36)",
    ua_keys: "azsdk-python-keyvault-keys/4.9.0 Python/3.11.9 (Linux-5.15.0-1075-azure-x86_64-with-glibc2.36)",
    ua_certs: "azsdk-python-keyvault-certificates/4.8.0 Python/3.11.9 (Linux-5.15.0-1075-azure-x86_64-with-glibc2.36)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.6,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static NET_CATALOG: ClientDef = ClientDef {
    ua_secrets: "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.10; Ubuntu 22.04.5 LTS)",
    ua_keys: "azsdk-net-Security.KeyVault.Keys/4.6.0 (.NET 8.0.10; Ubuntu 22.04.5 LTS)",
    ua_certs: "azsdk-net-Security.KeyVault.Certificates/4.6.0 (.NET 8.0.10; Ubuntu 22.04.5 LTS)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.7,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static NODE_FRONTEND: ClientDef = ClientDef {
    ua_secrets: "azsdk-js-keyvault-secrets/4.8.0 core-rest-pipeline/1.16.3 Node/v20.17.0 OS/(x64-Linux-5.15.0-1073-azure)",
    ua_keys: "azsdk-js-keyvault-keys/4.8.0 core-rest-pipeline/1.16.3 Node/v20.17.0 OS/(x64-Linux-5.15.0-1073-azure)",
    ua_certs: "azsdk-js-keyvault-certificates/4.8.0 core-rest-pipeline/1.16.3 Node/v20.17.0 OS/(x64-Linux-5.15.0-1073-azure)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.6,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static NET_ADMIN_SITE: ClientDef = ClientDef {
    ua_secrets: "azsdk-net-Security.KeyVault.Secrets/4.4.0 (.NET 6.0.33; Microsoft Windows 10.0.20348)",
    ua_keys: "azsdk-net-Security.KeyVault.Keys/4.4.0 (.NET 6.0.33; Microsoft Windows 10.0.20348)",
    ua_certs: "azsdk-net-Security.KeyVault.Certificates/4.4.0 (.NET 6.0.33; Microsoft Windows 10.0.20348)",
    appid: None,
    api_version: "7.3",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.0,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static JAVA_INVENTORY: ClientDef = ClientDef {
    ua_secrets: "azsdk-java-azure-security-keyvault-secrets/4.8.5 (17.0.12; Linux; 5.15.0-1073-azure)",
    ua_keys: "azsdk-java-azure-security-keyvault-keys/4.8.6 (17.0.12; Linux; 5.15.0-1073-azure)",
    ua_certs: "azsdk-java-azure-security-keyvault-certificates/4.6.5 (17.0.12; Linux; 5.15.0-1073-azure)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.4,
    legacy_tls: false,
    port443: true,
    max_results: false,
};

pub(crate) static PY_DEV: ClientDef = ClientDef {
    ua_secrets: "azsdk-python-keyvault-secrets/4.9.0 Python/3.12.7 (Linux-6.8.0-1015-azure-x86_64-with-glibc2.39)",
    ua_keys: "azsdk-python-keyvault-keys/4.10.0 Python/3.12.7 (Linux-6.8.0-1015-azure-x86_64-with-glibc2.39)",
    ua_certs: "azsdk-python-keyvault-certificates/4.9.0 Python/3.12.7 (Linux-6.8.0-1015-azure-x86_64-with-glibc2.39)",
    appid: None,
    api_version: "7.5",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.6,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static LEGACY_NETFX: ClientDef = ClientDef {
    ua_secrets: "FxVersion/4.7.3190.0 OSName/Windows OSVersion/Microsoft.Windows.6.3.9600. Microsoft.Azure.KeyVault.KeyVaultClient/3.0.5.1",
    ua_keys: "FxVersion/4.7.3190.0 OSName/Windows OSVersion/Microsoft.Windows.6.3.9600. Microsoft.Azure.KeyVault.KeyVaultClient/3.0.5.1",
    ua_certs: "FxVersion/4.7.3190.0 OSName/Windows OSVersion/Microsoft.Windows.6.3.9600. Microsoft.Azure.KeyVault.KeyVaultClient/3.0.5.1",
    appid: None,
    api_version: "7.0",
    arm_api_version: "2018-02-14",
    arm_host: MGMT,
    tls13: 0.0,
    legacy_tls: true,
    port443: false,
    max_results: false,
};

pub(crate) static CLI_PIPELINE: ClientDef = ClientDef {
    ua_secrets: "AZURECLI/2.67.0 (DEB) azsdk-python-keyvault-secrets/4.8.0 Python/3.12.8 (Linux-6.5.0-1025-azure-x86_64-with-glibc2.35)",
    ua_keys: "AZURECLI/2.67.0 (DEB) azsdk-python-keyvault-keys/4.9.0 Python/3.12.8 (Linux-6.5.0-1025-azure-x86_64-with-glibc2.35)",
    ua_certs: "AZURECLI/2.67.0 (DEB) azsdk-python-keyvault-certificates/4.8.0 Python/3.12.8 (Linux-6.5.0-1025-azure-x86_64-with-glibc2.35)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.8,
    legacy_tls: false,
    port443: false,
    max_results: true,
};

pub(crate) static NET_RELEASE: ClientDef = ClientDef {
    ua_secrets: "azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.10; Microsoft Windows 10.0.20348)",
    ua_keys: "azsdk-net-Security.KeyVault.Keys/4.6.0 (.NET 8.0.10; Microsoft Windows 10.0.20348)",
    ua_certs: "azsdk-net-Security.KeyVault.Certificates/4.6.0 (.NET 8.0.10; Microsoft Windows 10.0.20348)",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.3,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";

pub(crate) static PORTAL: ClientDef = ClientDef {
    ua_secrets: EDGE_UA,
    ua_keys: EDGE_UA,
    ua_certs: EDGE_UA,
    appid: Some(PORTAL_APPID),
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.9,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static CLI_WINDOWS: ClientDef = ClientDef {
    ua_secrets: "AZURECLI/2.66.0 (MSI) azsdk-python-keyvault-secrets/4.8.0 Python/3.11.8 (Windows-10-10.0.22631-SP0)",
    ua_keys: "AZURECLI/2.66.0 (MSI) azsdk-python-keyvault-keys/4.9.0 Python/3.11.8 (Windows-10-10.0.22631-SP0)",
    ua_certs: "AZURECLI/2.66.0 (MSI) azsdk-python-keyvault-certificates/4.8.0 Python/3.11.8 (Windows-10-10.0.22631-SP0)",
    appid: Some(AZURE_CLI_APPID),
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.5,
    legacy_tls: false,
    port443: false,
    max_results: true,
};

pub(crate) static CLI_MAC: ClientDef = ClientDef {
    ua_secrets: "AZURECLI/2.67.0 (HOMEBREW) azsdk-python-keyvault-secrets/4.8.0 Python/3.12.7 (macOS-15.1-arm64-arm-64bit)",
    ua_keys: "AZURECLI/2.67.0 (HOMEBREW) azsdk-python-keyvault-keys/4.9.0 Python/3.12.7 (macOS-15.1-arm64-arm-64bit)",
    ua_certs: "AZURECLI/2.67.0 (HOMEBREW) azsdk-python-keyvault-certificates/4.8.0 Python/3.12.7 (macOS-15.1-arm64-arm-64bit)",
    appid: Some(AZURE_CLI_APPID),
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.9,
    legacy_tls: false,
    port443: false,
    max_results: true,
};

pub(crate) static PY_REQUESTS: ClientDef = ClientDef {
    ua_secrets: "python-requests/2.31.0",
    ua_keys: "python-requests/2.31.0",
    ua_certs: "python-requests/2.31.0",
    appid: None,
    api_version: "7.4",
    arm_api_version: "2023-07-01",
    arm_host: MGMT,
    tls13: 0.0,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static RESOURCE_GRAPH_CLIENT: ClientDef = ClientDef {
    ua_secrets: NONE_UA,
    ua_keys: NONE_UA,
    ua_certs: NONE_UA,
    appid: None,
    api_version: "",
    arm_api_version: "2022-07-01",
    arm_host: "https://westeurope.management.azure.com",
    tls13: 1.0,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static POLICY_CLIENT: ClientDef = ClientDef {
    ua_secrets: NONE_UA,
    ua_keys: NONE_UA,
    ua_certs: NONE_UA,
    appid: None,
    api_version: "",
    arm_api_version: "2023-02-01",
    arm_host: "https://westeurope.management.azure.com",
    tls13: 1.0,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

pub(crate) static SERVICE_CLIENT: ClientDef = ClientDef {
    ua_secrets: NONE_UA,
    ua_keys: NONE_UA,
    ua_certs: NONE_UA,
    appid: None,
    api_version: "",
    arm_api_version: "",
    arm_host: MGMT,
    tls13: 1.0,
    legacy_tls: false,
    port443: false,
    max_results: false,
};

/// Strings derived once from the fixed data.
pub(crate) struct World {
    pub vaults: Vec<VaultRt>,
    /// `xms_mirid` per actor (managed identities only).
    pub mirids: Vec<Option<String>>,
}

pub(crate) struct VaultRt {
    pub def: &'static VaultDef,
    /// `https://<name>.vault.azure.net`
    pub host: String,
    /// `https://<name>.vault.azure.net:443`
    pub host443: String,
    /// UPPER-CASE ARM id, as in `resourceId`.
    pub resource_id: String,
    /// lower-case ARM id (`_ResourceId`, RBAC error texts).
    pub resource_id_lower: String,
    /// ARM path as clients spell it (`/subscriptions/…/resourceGroups/…/vaults/<name>`).
    pub arm_path: String,
    pub name_upper: String,
    pub rg_upper: String,
}

impl World {
    pub fn new() -> Self {
        let vaults = VAULTS
            .iter()
            .map(|v| {
                let arm_path = format!(
                    "/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
                    v.resource_group, v.name
                );
                VaultRt {
                    def: v,
                    host: format!("https://{}.vault.azure.net", v.name),
                    host443: format!("https://{}.vault.azure.net:443", v.name),
                    resource_id: arm_path.to_uppercase(),
                    resource_id_lower: arm_path.to_lowercase(),
                    arm_path,
                    name_upper: v.name.to_uppercase(),
                    rg_upper: v.resource_group.to_uppercase(),
                }
            })
            .collect();
        let mirids = ACTORS
            .iter()
            .map(|a| match a.kind {
                Kind::UserAssignedMi { resource_group } => Some(format!(
                    "/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/{resource_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                    a.key
                )),
                Kind::SystemAssignedMi {
                    resource_group,
                    site,
                } => Some(format!(
                    "/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/{resource_group}/providers/Microsoft.Web/sites/{site}"
                )),
                _ => None,
            })
            .collect();
        World { vaults, mirids }
    }
}
