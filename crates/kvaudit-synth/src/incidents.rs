//! Fixed-schedule traffic and the planted incidents. Counts, days, hours,
//! identities and objects here are independent of the seed and of `scale`
//! (the seed only moves events within the documented seconds and picks
//! correlation ids, durations and TLS versions); `sample-logs/README.md`
//! documents every number below, so change both together.
//!
//! Days are 1-based (day 1 = `GeneratorConfig::start`); anything scheduled
//! after the last generated day is skipped.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Plan;
use super::model::{Event, Extra, Op, TICKS_PER_HOUR, TICKS_PER_MS, TICKS_PER_SEC};
use super::population::{
    ACTORS, ALICE, BOB, BOB_HOME_IP, BREAKGLASS, CLI_MAC, CLI_PIPELINE, CLI_WINDOWS, ClientDef,
    DANA, DEV, FRONTEND_NEW_IP, GITHUB_DEPLOY, INVENTORY_SYNC, JAVA_INVENTORY, KEYVAULT_SERVICE,
    LEGACY_NETFX, NET_CATALOG, NET_RELEASE, NODE_FRONTEND, OFFICE_IP, PAYMENTS, PAYMENTS_SECRETS,
    PORTAL, PY_REQUESTS, PY_WORKER, RELEASE_SIGNING, REPORTING_VM, SERVICE_CLIENT,
    SETTLEMENT_WORKER, UNKNOWN_SP, UNKNOWN_SP_IP, WEB, WEB_CATALOG, WEB_FRONTEND,
};
use super::traffic::{challenge_for, request};

/// Incident 1: day and start (h, m) of the developer's list-then-get.
pub(crate) const MASS_RETRIEVAL_DAY: u32 = 4;
/// Number of distinct secrets read in incident 1.
pub(crate) const MASS_RETRIEVAL_SECRETS: usize = 52;
/// Incident 2: the settlement worker's spike hour.
pub(crate) const SPIKE_DAY: u32 = 5;
pub(crate) const SPIKE_HOUR: u32 = 3;
pub(crate) const SPIKE_REQUESTS: usize = 1_800;
/// Incident 3: per-hour reads of `catalog-db-connection` in business hours
/// 09:00–16:59 of days 2–4 (300 + this jitter) and 40 in the other hours of
/// the window day 2 09:00 → day 4 17:00.
pub(crate) const NO_CACHE_JITTER: [i32; 8] = [-12, 7, 15, -4, 9, -15, 3, -3];
pub(crate) const NO_CACHE_BUSINESS: u32 = 300;
pub(crate) const NO_CACHE_OFF_HOURS: u32 = 40;
/// Incident 5: sensitive operations, day 6 from 23:41.
pub(crate) const SENSITIVE_DAY: u32 = 6;
/// Incident 7: denied burst, day 3 from 19:40.
pub(crate) const DENIED_DAY: u32 = 3;
/// Incident 8: days of the legacy-TLS job (02:15).
pub(crate) const LEGACY_TLS_DAYS: [u32; 3] = [3, 5, 7];
/// Incident 11: near-expiry notification, day 3 06:12:41.
pub(crate) const NEAR_EXPIRY_DAY: u32 = 3;

/// Names the unknown service principal tries (incident 7).
const GUESSES: [&str; 60] = [
    "db-password",
    "admin-password",
    "sql-admin-password",
    "api-key",
    "psp-api-key",
    "stripe-api-key",
    "storage-key",
    "storage-account-key",
    "client-secret",
    "jwt-signing-key",
    "payments-db-connection",
    "redis-password",
    "smtp-password",
    "sftp-password",
    "service-principal-secret",
    "github-token",
    "docker-registry-password",
    "encryption-key",
    "master-key",
    "root-password",
    "db-password-prod",
    "admin-password-prod",
    "sql-admin-password-prod",
    "api-key-prod",
    "psp-api-key-prod",
    "stripe-api-key-prod",
    "storage-key-prod",
    "storage-account-key-prod",
    "client-secret-prod",
    "jwt-signing-key-prod",
    "payments-db-connection-prod",
    "redis-password-prod",
    "smtp-password-prod",
    "sftp-password-prod",
    "service-principal-secret-prod",
    "github-token-prod",
    "docker-registry-password-prod",
    "encryption-key-prod",
    "master-key-prod",
    "root-password-prod",
    "db-password-v2",
    "admin-password-v2",
    "sql-admin-password-v2",
    "api-key-v2",
    "psp-api-key-v2",
    "stripe-api-key-v2",
    "storage-key-v2",
    "storage-account-key-v2",
    "client-secret-v2",
    "jwt-signing-key-v2",
    "payments-db-connection-v2",
    "redis-password-v2",
    "smtp-password-v2",
    "sftp-password-v2",
    "service-principal-secret-v2",
    "github-token-v2",
    "docker-registry-password-v2",
    "encryption-key-v2",
    "master-key-v2",
    "root-password-v2",
];

const FRONTEND_SECRETS: [&str; 5] = [
    "frontend-session-secret",
    "frontend-cdn-token",
    "frontend-oauth-client-secret",
    "frontend-recaptcha-secret",
    "feature-flags-sdk-key",
];

struct Builder<'p> {
    plan: &'p Plan,
    rng: ChaCha8Rng,
    out: Vec<Event>,
}

/// Who calls, from where, with what.
#[derive(Clone, Copy)]
struct Caller {
    actor: usize,
    vault: usize,
    client: &'static ClientDef,
    ip: &'static str,
}

impl Builder<'_> {
    /// Start of (day, h:m:s), or `None` past the last day.
    fn at(&self, day: u32, h: u32, m: u32, s: u32) -> Option<i64> {
        self.plan.at(day, h, m, s)
    }

    /// A time within the second (day, h:m:s).
    fn within_second(&mut self, day: u32, h: u32, m: u32, s: u32) -> Option<i64> {
        let t = self.at(day, h, m, s)?;
        Some(t + self.rng.random_range(0..TICKS_PER_SEC))
    }

    fn call(&mut self, c: Caller, ticks: i64, op: Op, object: &'static str, status: u16) -> usize {
        let ev = request(
            &mut self.rng,
            ticks,
            c.vault,
            c.actor,
            c.client,
            op,
            object,
            status,
            c.ip,
        );
        self.out.push(ev);
        self.out.len() - 1
    }

    /// A request preceded by its `Authentication` challenge.
    fn challenged(
        &mut self,
        c: Caller,
        ticks: i64,
        op: Op,
        object: &'static str,
        status: u16,
    ) -> usize {
        let i = self.call(c, ticks, op, object, status);
        let ch = challenge_for(&mut self.rng, &self.out[i]);
        self.out.push(ch);
        i
    }

    fn service(&mut self, ticks: i64, vault: usize, op: Op, object: &'static str, extra: Extra) {
        let mut ev = request(
            &mut self.rng,
            ticks,
            vault,
            KEYVAULT_SERVICE,
            &SERVICE_CLIENT,
            op,
            object,
            200,
            "",
        );
        ev.correlation = 0;
        ev.duration_ms = 0;
        ev.extra = extra;
        self.out.push(ev);
    }
}

/// All fixed-schedule and incident events (unsorted).
pub(crate) fn build(plan: &Plan) -> Vec<Event> {
    let mut b = Builder {
        plan,
        rng: ChaCha8Rng::seed_from_u64(plan.seed ^ 0x1c1d_e475_0000_0001),
        out: Vec::new(),
    };
    inventory_sync(&mut b);
    ci_deployments(&mut b);
    release_signing(&mut b);
    legacy_tls(&mut b);
    no_caching(&mut b);
    mass_retrieval(&mut b);
    rate_spike(&mut b);
    sensitive_operations(&mut b);
    human_reads(&mut b);
    denied_burst(&mut b);
    first_seen_ip(&mut b);
    near_expiry(&mut b);
    b.out
}

/// Incident 9: `id-inventory-sync` lists the secrets of kv-web-prod every
/// 30 minutes (HH:00:05–HH:00:35 and HH:30:05–HH:30:35), each run one
/// challenge + one `SecretList`, and never reads a secret.
fn inventory_sync(b: &mut Builder) {
    let c = Caller {
        actor: INVENTORY_SYNC,
        vault: WEB,
        client: &JAVA_INVENTORY,
        ip: ACTORS[INVENTORY_SYNC].ips[0],
    };
    for day in 1..=b.plan.days {
        for h in 0..24 {
            for m in [0, 30] {
                let Some(t) = b.at(day, h, m, 5) else {
                    continue;
                };
                let t = t + b.rng.random_range(0..30 * TICKS_PER_SEC);
                b.challenged(c, t, Op::SecretList, "", 200);
            }
        }
    }
}

/// Incident 4: the CI service principal (client secret) runs `az keyvault
/// secret show` (one process, so one challenge, per command) on days 1–5:
/// 09:30 kv-shared-dev (4 gets + 1 set), 10:15 and 15:40 kv-web-prod
/// (4 gets each) and, on days 2 and 4, 15:42 kv-payments-prod (3 gets).
fn ci_deployments(b: &mut Builder) {
    let ip = ACTORS[GITHUB_DEPLOY].ips[0];
    let who = |vault| Caller {
        actor: GITHUB_DEPLOY,
        vault,
        client: &CLI_PIPELINE,
        ip,
    };
    for day in 1..=5 {
        let run = |b: &mut Builder, c: Caller, h, m, steps: &[(Op, &'static str)]| {
            let Some(mut t) = b.at(day, h, m, 0) else {
                return;
            };
            for &(op, object) in steps {
                t += b.rng.random_range(2 * TICKS_PER_SEC..6 * TICKS_PER_SEC);
                b.challenged(c, t, op, object, 200);
            }
        };
        run(
            b,
            who(DEV),
            9,
            30,
            &[
                (Op::SecretGet, "dev-db-connection"),
                (Op::SecretGet, "dev-storage-key"),
                (Op::SecretGet, "dev-servicebus-connection"),
                (Op::SecretGet, "dev-appinsights-connection"),
                (Op::SecretSet, "dev-deploy-marker"),
            ],
        );
        let web: &[(Op, &str)] = &[
            (Op::SecretGet, "deploy-webhook-secret"),
            (Op::SecretGet, "storage-account-key"),
            (Op::SecretGet, "frontend-cdn-token"),
            (Op::SecretGet, "feature-flags-sdk-key"),
        ];
        run(b, who(WEB), 10, 15, web);
        run(b, who(WEB), 15, 40, web);
        if day == 2 || day == 4 {
            run(
                b,
                who(PAYMENTS),
                15,
                42,
                &[
                    (Op::SecretGet, "payments-db-connection"),
                    (Op::SecretGet, "psp-api-key"),
                    (Op::SecretGet, "appinsights-connection"),
                ],
            );
        }
    }
}

/// The certificate-authenticated release pipeline on days 1–5 at 11:00:
/// challenge + `CertificateGet code-signing`, challenge + 5 `KeySign code-signing`.
fn release_signing(b: &mut Builder) {
    let c = Caller {
        actor: RELEASE_SIGNING,
        vault: WEB,
        client: &NET_RELEASE,
        ip: ACTORS[RELEASE_SIGNING].ips[0],
    };
    for day in 1..=5 {
        let Some(mut t) = b.within_second(day, 11, 0, 0) else {
            continue;
        };
        b.challenged(c, t, Op::CertificateGet, "code-signing", 200);
        t += 2 * TICKS_PER_SEC;
        b.challenged(c, t, Op::KeySign, "code-signing", 200);
        for _ in 0..4 {
            t += b.rng.random_range(TICKS_PER_SEC / 2..2 * TICKS_PER_SEC);
            b.call(c, t, Op::KeySign, "code-signing", 200);
        }
    }
}

/// Incident 8: `id-reporting-vm` (old .NET Framework client) on days 3, 5, 7
/// at 02:15 on kv-shared-dev: challenge + 2 `SecretGet`, all over TLS 1.1.
fn legacy_tls(b: &mut Builder) {
    let c = Caller {
        actor: REPORTING_VM,
        vault: DEV,
        client: &LEGACY_NETFX,
        ip: ACTORS[REPORTING_VM].ips[0],
    };
    for day in LEGACY_TLS_DAYS {
        let Some(t) = b.within_second(day, 2, 15, 0) else {
            continue;
        };
        b.challenged(c, t, Op::SecretGet, "reporting-db-password", 200);
        b.call(
            c,
            t + 2 * TICKS_PER_SEC,
            Op::SecretGet,
            "reporting-smtp-password",
            200,
        );
    }
}

/// Incident 3: a caching regression in `id-web-catalog` from day 2 09:00 to
/// day 4 17:00 reads `catalog-db-connection` on every request.
fn no_caching(b: &mut Builder) {
    let ips = ACTORS[WEB_CATALOG].ips;
    for day in 2..=4 {
        for h in 0..24 {
            let in_window = match day {
                2 => h >= 9,
                4 => h < 17,
                _ => true,
            };
            let Some(start) = b.at(day, h, 0, 0).filter(|_| in_window) else {
                continue;
            };
            let n = if (9..17).contains(&h) {
                (NO_CACHE_BUSINESS as i32 + NO_CACHE_JITTER[(h - 9) as usize]) as u32
            } else {
                NO_CACHE_OFF_HOURS
            };
            for _ in 0..n {
                let t = start + b.rng.random_range(0..TICKS_PER_HOUR);
                let ip = ips[b.rng.random_range(0..ips.len())];
                let c = Caller {
                    actor: WEB_CATALOG,
                    vault: WEB,
                    client: &NET_CATALOG,
                    ip,
                };
                b.call(c, t, Op::SecretGet, "catalog-db-connection", 200);
            }
        }
    }
}

/// Incident 1: the developer lists kv-payments-prod (3 pages of 25) at
/// 14:02:05 on day 4, then reads 52 distinct secrets (the vault's first 52)
/// with one `az keyvault secret show` each, one every ~11.2 s from 14:02:30
/// to 14:12:14, every command preceded by a challenge.
fn mass_retrieval(b: &mut Builder) {
    let c = Caller {
        actor: DANA,
        vault: PAYMENTS,
        client: &CLI_MAC,
        ip: OFFICE_IP,
    };
    let day = MASS_RETRIEVAL_DAY;
    let Some(t) = b.within_second(day, 14, 2, 5) else {
        return;
    };
    b.challenged(c, t, Op::SecretList, "", 200);
    for page in 2..=3u8 {
        let i = b.call(
            c,
            t + i64::from(page - 1) * 900 * TICKS_PER_MS,
            Op::SecretList,
            "",
            200,
        );
        b.out[i].extra = Extra::Page(page);
    }
    let Some(first) = b.at(day, 14, 2, 30) else {
        return;
    };
    for (k, name) in PAYMENTS_SECRETS
        .iter()
        .take(MASS_RETRIEVAL_SECRETS)
        .enumerate()
    {
        let t = first + k as i64 * 11_200 * TICKS_PER_MS + b.rng.random_range(0..2 * TICKS_PER_SEC);
        b.challenged(c, t, Op::SecretGet, name, 200);
    }
}

/// Incident 2: a retry storm in `id-settlement-worker` on day 5 03:00–03:59:
/// exactly 1,800 requests (600 `SecretGet settlement-sftp-password`, 600
/// `SecretGet bank-api-client-secret`, 600 `KeyUnwrap settlement-file-key`)
/// after one challenge; its ordinary traffic is suppressed in that hour.
fn rate_spike(b: &mut Builder) {
    let c = Caller {
        actor: SETTLEMENT_WORKER,
        vault: PAYMENTS,
        client: &PY_WORKER,
        ip: ACTORS[SETTLEMENT_WORKER].ips[0],
    };
    let Some(start) = b.at(SPIKE_DAY, SPIKE_HOUR, 0, 0) else {
        return;
    };
    for k in 0..SPIKE_REQUESTS {
        let (op, object) = match k / 600 {
            0 => (Op::SecretGet, "settlement-sftp-password"),
            1 => (Op::SecretGet, "bank-api-client-secret"),
            _ => (Op::KeyUnwrap, "settlement-file-key"),
        };
        if k == 0 {
            let t = start + b.rng.random_range(300 * TICKS_PER_MS..900 * TICKS_PER_MS);
            b.challenged(c, t, op, object, 200);
        } else {
            let t = start + b.rng.random_range(TICKS_PER_SEC..3_599 * TICKS_PER_SEC);
            b.call(c, t, op, object, 200);
        }
    }
}

/// Incident 5: Bob, from home, at night on day 6 on kv-web-prod: denied list,
/// grants himself an access policy, reads, backs up, deletes and purges a
/// secret, deletes a key.
fn sensitive_operations(b: &mut Builder) {
    let c = Caller {
        actor: BOB,
        vault: WEB,
        client: &CLI_WINDOWS,
        ip: BOB_HOME_IP,
    };
    let d = SENSITIVE_DAY;
    let steps: [(u32, u32, Op, &'static str, u16); 12] = [
        (41, 10, Op::SecretList, "", 403),
        (43, 30, Op::VaultGet, "", 200),
        (44, 2, Op::VaultPatch, "", 200),
        (46, 40, Op::SecretList, "", 200),
        (47, 5, Op::SecretGet, "smtp-relay-password", 200),
        (47, 31, Op::SecretGet, "storage-account-key", 200),
        (48, 2, Op::SecretGet, "admin-portal-db-connection", 200),
        (49, 20, Op::SecretBackup, "legacy-smtp-password", 200),
        (49, 48, Op::SecretBackup, "storage-account-key", 200),
        (51, 3, Op::SecretDelete, "legacy-smtp-password", 200),
        (51, 40, Op::SecretPurge, "legacy-smtp-password", 204),
        (53, 15, Op::KeyDelete, "web-data-encryption", 200),
    ];
    for (m, s, op, object, status) in steps {
        let Some(t) = b.within_second(d, 23, m, s) else {
            return;
        };
        match op {
            Op::VaultGet => {
                b.call(c, t, op, object, status);
            }
            Op::VaultPatch => {
                let i = b.call(c, t, op, object, status);
                b.out[i].extra = Extra::AddedAccessPolicy;
                let notify = t + 1_500 * TICKS_PER_MS;
                b.service(
                    notify,
                    WEB,
                    Op::VaultAccessPolicyChangedEventGridNotification,
                    "",
                    Extra::None,
                );
            }
            _ => {
                b.challenged(c, t, op, object, status);
            }
        }
    }
}

/// Incident 6: humans reading secret values in kv-payments-prod through the
/// portal: Alice (a finding) on day 2 16:19–16:24, the break-glass account
/// (accepted) once on day 5 10:41–10:42.
fn human_reads(b: &mut Builder) {
    let alice = Caller {
        actor: ALICE,
        vault: PAYMENTS,
        client: &PORTAL,
        ip: OFFICE_IP,
    };
    let steps: [(u32, u32, Op, &'static str); 6] = [
        (19, 50, Op::VaultGet, ""),
        (20, 5, Op::SecretList, ""),
        (21, 10, Op::SecretListVersions, "psp-api-key"),
        (21, 30, Op::SecretGet, "psp-api-key"),
        (22, 40, Op::SecretGet, "payments-db-connection"),
        (24, 2, Op::SecretGet, "fraud-service-token"),
    ];
    for (m, s, op, object) in steps {
        if let Some(t) = b.within_second(2, 16, m, s) {
            b.call(alice, t, op, object, 200);
        }
    }
    let glass = Caller {
        actor: BREAKGLASS,
        ..alice
    };
    let steps: [(u32, u32, Op, &'static str); 3] = [
        (41, 30, Op::VaultGet, ""),
        (42, 0, Op::SecretList, ""),
        (42, 25, Op::SecretGet, "bank-api-client-secret"),
    ];
    for (m, s, op, object) in steps {
        if let Some(t) = b.within_second(5, 10, m, s) {
            b.call(glass, t, op, object, 200);
        }
    }
}

/// Incident 7: an unknown service principal from a never-seen public address
/// on day 3 19:40–19:53: one 401, then 4 `SecretList` and 60 `SecretGet`, all 403.
fn denied_burst(b: &mut Builder) {
    let c = Caller {
        actor: UNKNOWN_SP,
        vault: PAYMENTS,
        client: &PY_REQUESTS,
        ip: UNKNOWN_SP_IP,
    };
    let d = DENIED_DAY;
    let Some(t) = b.within_second(d, 19, 40, 2) else {
        return;
    };
    b.challenged(c, t, Op::SecretList, "", 403);
    for (m, s) in [(43, 10), (46, 20), (49, 30)] {
        if let Some(t) = b.within_second(d, 19, m, s) {
            b.call(c, t, Op::SecretList, "", 403);
        }
    }
    let Some(first) = b.at(d, 19, 40, 10) else {
        return;
    };
    for (k, name) in GUESSES.iter().enumerate() {
        let t = first + k as i64 * 12_500 * TICKS_PER_MS + b.rng.random_range(0..2 * TICKS_PER_SEC);
        b.call(c, t, Op::SecretGet, name, 403);
    }
}

/// Incident 10: `id-web-frontend` calls from a public address it never used,
/// on the last day 13:05–13:24: one challenge + 12 `SecretGet`.
fn first_seen_ip(b: &mut Builder) {
    let c = Caller {
        actor: WEB_FRONTEND,
        vault: WEB,
        client: &NODE_FRONTEND,
        ip: FRONTEND_NEW_IP,
    };
    let Some(first) = b.at(b.plan.days, 13, 5, 0) else {
        return;
    };
    for k in 0..12 {
        let t = first + k * 100 * TICKS_PER_SEC + b.rng.random_range(0..20 * TICKS_PER_SEC);
        let name = FRONTEND_SECRETS[k as usize % FRONTEND_SECRETS.len()];
        if k == 0 {
            b.challenged(c, t, Op::SecretGet, name, 200);
        } else {
            b.call(c, t, Op::SecretGet, name, 200);
        }
    }
}

/// Incident 11: `acquirer-api-key` in kv-payments-prod expires in 30 days;
/// Key Vault logs `SecretNearExpiryEventGridNotification` on day 3 at 06:12:41.
fn near_expiry(b: &mut Builder) {
    let Some(t) = b.within_second(NEAR_EXPIRY_DAY, 6, 12, 41) else {
        return;
    };
    let exp = t.div_euclid(TICKS_PER_SEC) + 30 * 86_400;
    b.service(
        t,
        PAYMENTS,
        Op::SecretNearExpiryEventGridNotification,
        "acquirer-api-key",
        Extra::NearExpiry { exp },
    );
}
