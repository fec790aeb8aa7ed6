//! Findings made the way the policy stage makes them (through
//! [`FindingBuilder`], with the rule ids, titles and severities of
//! `policies/*.cedar`), for the tests of suppressions, trends and the job's
//! report.

use super::policy::findings::{EventRef, FindingBuilder, Matched, RuleInfo, Who};
use super::policy::{Category, Finding, Severity};

/// 2026-11-20T10:00:00Z, in nanoseconds.
const T0: i64 = 1_795_168_800_000_000_000;
const MINUTE: i64 = 60_000_000_000;

pub fn secret_read_without_caching() -> RuleInfo {
    RuleInfo {
        id: "kv-secret-read-without-caching".into(),
        category: Category::BestPractice,
        severity: Severity::Medium,
        title: "Secret read on every request instead of cached".into(),
        remediation: "Cache the secret in the application.".into(),
    }
}

pub fn purge() -> RuleInfo {
    RuleInfo {
        id: "kv-purge".into(),
        category: Category::SensitiveOperation,
        severity: Severity::High,
        title: "Object purged (permanently deleted)".into(),
        remediation: "Confirm the purge was a planned change by this identity.".into(),
    }
}

pub fn client_secret_credential() -> RuleInfo {
    RuleInfo {
        id: "kv-client-secret-credential".into(),
        category: Category::BestPractice,
        severity: Severity::Medium,
        title: "Application authenticates with a client secret".into(),
        remediation: "Move the application to a managed identity.".into(),
    }
}

pub fn human_prod_secret_read() -> RuleInfo {
    RuleInfo {
        id: "kv-human-prod-secret-read".into(),
        category: Category::LeastPrivilege,
        severity: Severity::High,
        title: "Person read a secret value in a production vault".into(),
        remediation: "Remove the person's Get permission on secrets.".into(),
    }
}

/// A least-privilege finding of the inventory (the privilege stage's rule).
pub fn unused_permission() -> RuleInfo {
    RuleInfo {
        id: super::privilege::UNUSED_RULE.into(),
        category: Category::UnusedPermission,
        severity: Severity::Medium,
        title: "Granted permission never used".into(),
        remediation: "Remove the permission.".into(),
    }
}

/// A service principal with an object id (keyed by it).
pub fn batch_job() -> Who {
    Who {
        key: "0c2d4e6f-1111-4222-8333-944455556666".into(),
        object_id: Some("0c2d4e6f-1111-4222-8333-944455556666".into()),
        name: Some("payroll-batch".into()),
        kind: "service-principal".into(),
    }
}

/// An app-only caller whose token carried no object id: keyed `app:<appid>`,
/// named by its app id.
pub fn legacy_app() -> Who {
    Who {
        key: "app:1f0e2d3c-aaaa-4bbb-8ccc-ddddeeeeffff".into(),
        object_id: None,
        name: Some("1f0e2d3c-aaaa-4bbb-8ccc-ddddeeeeffff".into()),
        kind: "service-principal".into(),
    }
}

pub fn dana() -> Who {
    Who {
        key: "7a8b9c0d-2222-4333-8444-555566667777".into(),
        object_id: Some("7a8b9c0d-2222-4333-8444-555566667777".into()),
        name: Some("dana.admin@contoso.com".into()),
        kind: "user".into(),
    }
}

/// The finding `count` calls of `operation` make; per object when `object` is given.
pub fn finding(
    rule: &RuleInfo,
    who: &Who,
    vault: &str,
    object: Option<&str>,
    operation: &str,
    count: u64,
) -> Finding {
    let mut builder = FindingBuilder::default();
    let last = T0 + (count as i64 - 1) * MINUTE;
    builder.add(
        Matched {
            rule,
            who,
            vault,
            object,
            per_object: object.is_some(),
            operation,
            count,
            first: T0,
            last,
        },
        (0..count.min(3)).map(|i| EventRef {
            time_ns: T0 + i as i64 * MINUTE,
            source_file: "insights-logs-auditevent/PT1H.json".into(),
            source_line: 1 + i as u32,
            correlation_id: None,
        }),
    );
    builder.finish().remove(0)
}

/// A day's findings: the batch job's uncached reads of two secrets, a purge
/// by Dana, a legacy app's client secret, Dana reading a production secret.
pub fn a_day() -> Vec<Finding> {
    vec![
        finding(
            &secret_read_without_caching(),
            &batch_job(),
            "kv-prod-payroll",
            Some("db-password"),
            "SecretGet",
            1_440,
        ),
        finding(
            &secret_read_without_caching(),
            &batch_job(),
            "kv-prod-payroll",
            Some("smtp-password"),
            "SecretGet",
            720,
        ),
        finding(
            &purge(),
            &dana(),
            "kv-dev-sandbox",
            Some("old-cert"),
            "CertificatePurge",
            1,
        ),
        finding(
            &client_secret_credential(),
            &legacy_app(),
            "kv-prod-payroll",
            None,
            "SecretGet",
            96,
        ),
        finding(
            &human_prod_secret_read(),
            &dana(),
            "kv-prod-web",
            None,
            "SecretGet",
            2,
        ),
    ]
}
