//! Ordinary traffic: per-identity hourly rates with a diurnal/weekly shape,
//! drawn per vault-hour from that vault-hour's own seeded stream.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::{Event, Extra, Op, TICKS_PER_HOUR, TICKS_PER_MS, Tls, splitmix64};
use super::population::{
    ACTORS, ALICE, BOB, CLI_MAC, CLI_WINDOWS, ClientDef, DANA, DEV, DEV_APPS, NET_ADMIN_SITE,
    NET_CATALOG, NET_PAYMENTS, NODE_FRONTEND, PAYMENTS, PAYMENTS_API, POLICY_CLIENT,
    POLICY_INSIGHTS, PORTAL, PY_DEV, PY_WORKER, RESOURCE_GRAPH, RESOURCE_GRAPH_CLIENT,
    SETTLEMENT_WORKER, VAULTS, WEB, WEB_ADMIN_SITE, WEB_CATALOG, WEB_FRONTEND,
};

/// One identity's ordinary use of one vault.
pub(crate) struct Profile {
    pub actor: usize,
    pub vault: usize,
    pub client: &'static ClientDef,
    /// Multiplied by `GeneratorConfig::scale`.
    pub scaled: bool,
    /// Expected requests in an hour, from (UTC hour of day, working day).
    pub rate: fn(u32, bool) -> f64,
    /// (operation, objects it touches, weight).
    pub mix: &'static [(Op, &'static [&'static str], u32)],
    /// `SecretGet` of a name that does not exist (404).
    pub p_not_found: f64,
    /// 429 Too Many Requests.
    pub p_throttled: f64,
    /// Operations this identity is not allowed to do (always 403).
    pub forbidden_ops: &'static [Op],
    /// Expected `Authentication` challenges per hour (long-lived SDK clients).
    pub challenges_per_hour: f64,
    /// Probability of a challenge before each request (one process per command).
    pub challenge_each: f64,
}

fn busy_api(h: u32, workday: bool) -> f64 {
    if workday && (8..18).contains(&h) {
        130.0
    } else {
        70.0
    }
}
fn worker(_h: u32, _workday: bool) -> f64 {
    30.0
}
fn catalog(h: u32, workday: bool) -> f64 {
    if workday && (8..20).contains(&h) {
        10.0
    } else {
        4.0
    }
}
fn frontend(h: u32, workday: bool) -> f64 {
    match ((7..22).contains(&h), workday) {
        (true, true) => 24.0,
        (true, false) => 18.0,
        (false, _) => 10.0,
    }
}
fn admin_site(h: u32, workday: bool) -> f64 {
    if workday && (8..18).contains(&h) {
        6.0
    } else {
        1.5
    }
}
fn dev_apps(h: u32, workday: bool) -> f64 {
    if workday && (7..19).contains(&h) {
        14.0
    } else {
        3.0
    }
}
fn office(h: u32, workday: bool, per_hour: f64) -> f64 {
    if workday && (9..17).contains(&h) {
        per_hour
    } else {
        0.0
    }
}
fn dana(h: u32, workday: bool) -> f64 {
    office(h, workday, 2.5)
}
fn bob_dev(h: u32, workday: bool) -> f64 {
    office(h, workday, 0.25)
}
fn alice_arm(h: u32, workday: bool) -> f64 {
    office(h, workday, 0.15)
}
fn bob_arm(h: u32, workday: bool) -> f64 {
    office(h, workday, 0.1)
}
fn resource_graph(_h: u32, _workday: bool) -> f64 {
    0.25
}
fn policy(h: u32, _workday: bool) -> f64 {
    if h == 3 { 1.0 } else { 0.0 }
}

const VAULT_GET: &[(Op, &[&str], u32)] = &[(Op::VaultGet, &[], 1)];

const fn arm(
    actor: usize,
    vault: usize,
    client: &'static ClientDef,
    rate: fn(u32, bool) -> f64,
) -> Profile {
    Profile {
        actor,
        vault,
        client,
        scaled: false,
        rate,
        mix: VAULT_GET,
        p_not_found: 0.0,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 0.0,
        challenge_each: 0.0,
    }
}

pub(crate) static PROFILES: &[Profile] = &[
    // The busy checkout API: envelope encryption and token signing on every
    // request, so it never caches; always the busiest identity.
    Profile {
        actor: PAYMENTS_API,
        vault: PAYMENTS,
        client: &NET_PAYMENTS,
        scaled: true,
        rate: busy_api,
        mix: &[
            (Op::KeyUnwrap, &["pan-encryption-kek"], 45),
            (Op::KeyWrap, &["pan-encryption-kek"], 22),
            (Op::KeySign, &["payment-token-signing"], 24),
            (
                Op::SecretGet,
                &[
                    "payments-db-connection",
                    "psp-api-key",
                    "fraud-service-token",
                    "redis-payments-password",
                    "appinsights-connection",
                ],
                8,
            ),
            (
                Op::KeyGet,
                &["pan-encryption-kek", "payment-token-signing"],
                1,
            ),
        ],
        p_not_found: 0.0,
        p_throttled: 0.003,
        forbidden_ops: &[],
        challenges_per_hour: 0.5,
        challenge_each: 0.0,
    },
    // Settlement batch worker: steady ~30/h (not scaled; incident 2).
    Profile {
        actor: SETTLEMENT_WORKER,
        vault: PAYMENTS,
        client: &PY_WORKER,
        scaled: false,
        rate: worker,
        mix: &[
            (
                Op::SecretGet,
                &[
                    "settlement-sftp-password",
                    "settlement-db-connection",
                    "bank-api-client-secret",
                    "acquirer-api-key",
                ],
                45,
            ),
            (Op::KeyUnwrap, &["settlement-file-key"], 30),
            (Op::KeySign, &["bank-file-signing"], 15),
            (
                Op::KeyGet,
                &["settlement-file-key", "bank-file-signing"],
                10,
            ),
        ],
        p_not_found: 0.0,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 1.0,
        challenge_each: 0.0,
    },
    Profile {
        actor: WEB_CATALOG,
        vault: WEB,
        client: &NET_CATALOG,
        scaled: true,
        rate: catalog,
        mix: &[(
            Op::SecretGet,
            &[
                "catalog-db-connection",
                "catalog-search-api-key",
                "catalog-cdn-token",
            ],
            1,
        )],
        p_not_found: 0.0,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 0.2,
        challenge_each: 0.0,
    },
    Profile {
        actor: WEB_FRONTEND,
        vault: WEB,
        client: &NODE_FRONTEND,
        scaled: true,
        rate: frontend,
        mix: &[
            (
                Op::SecretGet,
                &[
                    "frontend-session-secret",
                    "frontend-cdn-token",
                    "frontend-oauth-client-secret",
                    "frontend-recaptcha-secret",
                    "feature-flags-sdk-key",
                ],
                92,
            ),
            (Op::CertificateGet, &["www-contosopay-tls"], 8),
        ],
        p_not_found: 0.004,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 0.4,
        challenge_each: 0.0,
    },
    Profile {
        actor: WEB_ADMIN_SITE,
        vault: WEB,
        client: &NET_ADMIN_SITE,
        scaled: true,
        rate: admin_site,
        mix: &[(
            Op::SecretGet,
            &[
                "admin-portal-db-connection",
                "smtp-relay-password",
                "storage-account-key",
            ],
            1,
        )],
        p_not_found: 0.0,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 0.3,
        challenge_each: 0.0,
    },
    Profile {
        actor: DEV_APPS,
        vault: DEV,
        client: &PY_DEV,
        scaled: true,
        rate: dev_apps,
        mix: &[
            (
                Op::SecretGet,
                &[
                    "dev-db-connection",
                    "dev-storage-key",
                    "dev-psp-sandbox-key",
                    "dev-redis-password",
                    "dev-servicebus-connection",
                    "dev-feature-flags-key",
                    "dev-appinsights-connection",
                ],
                88,
            ),
            (Op::SecretList, &[""], 4),
            (Op::KeyGet, &["dev-encryption-key"], 3),
            (Op::KeyWrap, &["dev-encryption-key"], 3),
            (Op::KeyUnwrap, &["dev-encryption-key"], 2),
        ],
        p_not_found: 0.02,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 1.0,
        challenge_each: 0.0,
    },
    // The developer on the dev vault, one az CLI process per command.
    Profile {
        actor: DANA,
        vault: DEV,
        client: &CLI_MAC,
        scaled: false,
        rate: dana,
        mix: &[
            (
                Op::SecretGet,
                &[
                    "dev-db-connection",
                    "test-user-password",
                    "dev-psp-sandbox-key",
                    "dev-oauth-client-secret",
                ],
                55,
            ),
            (Op::SecretList, &[""], 20),
            (
                Op::SecretSet,
                &["test-user-password", "dev-feature-flags-key"],
                10,
            ),
            (Op::SecretListVersions, &["dev-db-connection"], 7),
            (Op::KeyGet, &["dev-encryption-key"], 8),
        ],
        p_not_found: 0.05,
        p_throttled: 0.0,
        // Her access policy on kv-shared-dev has no key permissions.
        forbidden_ops: &[Op::KeyGet],
        challenges_per_hour: 0.0,
        challenge_each: 0.8,
    },
    Profile {
        actor: BOB,
        vault: DEV,
        client: &CLI_WINDOWS,
        scaled: false,
        rate: bob_dev,
        mix: &[
            (Op::SecretList, &[""], 60),
            (Op::SecretGet, &["dev-db-connection"], 40),
        ],
        p_not_found: 0.0,
        p_throttled: 0.0,
        forbidden_ops: &[],
        challenges_per_hour: 0.0,
        challenge_each: 0.8,
    },
    arm(ALICE, PAYMENTS, &PORTAL, alice_arm),
    arm(ALICE, WEB, &PORTAL, alice_arm),
    arm(ALICE, DEV, &PORTAL, alice_arm),
    arm(BOB, PAYMENTS, &CLI_WINDOWS, bob_arm),
    arm(BOB, WEB, &CLI_WINDOWS, bob_arm),
    arm(BOB, DEV, &CLI_WINDOWS, bob_arm),
    arm(
        RESOURCE_GRAPH,
        PAYMENTS,
        &RESOURCE_GRAPH_CLIENT,
        resource_graph,
    ),
    arm(RESOURCE_GRAPH, WEB, &RESOURCE_GRAPH_CLIENT, resource_graph),
    arm(RESOURCE_GRAPH, DEV, &RESOURCE_GRAPH_CLIENT, resource_graph),
    arm(POLICY_INSIGHTS, PAYMENTS, &POLICY_CLIENT, policy),
    arm(POLICY_INSIGHTS, WEB, &POLICY_CLIENT, policy),
    arm(POLICY_INSIGHTS, DEV, &POLICY_CLIENT, policy),
];

/// What one vault-hour task knows about its hour.
pub(crate) struct HourCtx {
    pub vault: usize,
    /// Ticks at the start of the hour.
    pub start: i64,
    pub hour_of_day: u32,
    pub workday: bool,
    pub scale: f64,
    /// A few scaled events may carry a time in the previous hour
    /// (blobs are bucketed by the hour received).
    pub allow_late: bool,
    /// The settlement worker's ordinary traffic is replaced by the spike.
    pub suppress_worker: bool,
}

/// Appends this vault-hour's ordinary traffic to `out` (unsorted). Each
/// profile draws from its own stream (`stream` mixed with its index), so
/// the unscaled profiles come out the same whatever the scale.
pub(crate) fn normal_hour(ctx: &HourCtx, stream: u64, out: &mut Vec<Event>) {
    for (index, p) in PROFILES
        .iter()
        .enumerate()
        .filter(|(_, p)| p.vault == ctx.vault)
    {
        if ctx.suppress_worker && p.actor == SETTLEMENT_WORKER {
            continue;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(splitmix64(
            stream ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9),
        ));
        let rng = &mut rng;
        let factor = if p.scaled { ctx.scale } else { 1.0 };
        let n = poisson(rng, (p.rate)(ctx.hour_of_day, ctx.workday) * factor);
        if n == 0 {
            continue;
        }
        let first = out.len();
        let total_weight: u32 = p.mix.iter().map(|m| m.2).sum();
        for _ in 0..n {
            let mut offset = rng.random_range(0..TICKS_PER_HOUR);
            if p.scaled && ctx.allow_late && offset < 250 * TICKS_PER_MS {
                offset -= 500 * TICKS_PER_MS;
            }
            let mut pick = rng.random_range(0..total_weight);
            let mut entry = &p.mix[0];
            for m in p.mix {
                if pick < m.2 {
                    entry = m;
                    break;
                }
                pick -= m.2;
            }
            let (op, objects, _) = *entry;
            let mut object = objects
                .get(rng.random_range(0..objects.len().max(1)))
                .copied()
                .unwrap_or("");
            let mut status = 200;
            if p.forbidden_ops.contains(&op) {
                status = 403;
            } else {
                let r: f64 = rng.random();
                if op == Op::SecretGet && r < p.p_not_found {
                    let missing = VAULTS[ctx.vault].missing;
                    object = missing[rng.random_range(0..missing.len())];
                    status = 404;
                } else if r >= p.p_not_found && r < p.p_not_found + p.p_throttled {
                    status = 429;
                }
            }
            let ips = ACTORS[p.actor].ips;
            let ip = ips[rng.random_range(0..ips.len())];
            let mut ev = request(
                rng,
                ctx.start + offset,
                ctx.vault,
                p.actor,
                p.client,
                op,
                object,
                status,
                ip,
            );
            if p.actor == RESOURCE_GRAPH || p.actor == POLICY_INSIGHTS {
                ev.correlation = 0;
            }
            out.push(ev);
        }
        let made = out.len() - first;
        if p.challenge_each > 0.0 {
            for i in first..first + made {
                if rng.random::<f64>() < p.challenge_each {
                    let c = challenge_for(rng, &out[i]);
                    out.push(clamp(ctx, c));
                }
            }
        } else if p.challenges_per_hour > 0.0 {
            let k = poisson(rng, p.challenges_per_hour * factor);
            for _ in 0..k {
                let i = first + rng.random_range(0..made);
                let c = challenge_for(rng, &out[i]);
                out.push(clamp(ctx, c));
            }
        }
    }
}

/// Keeps a challenge inside its hour where late records are not allowed.
fn clamp(ctx: &HourCtx, mut ev: Event) -> Event {
    if !ctx.allow_late {
        ev.ticks = ev.ticks.max(ctx.start);
    }
    ev
}

/// A request with a fresh correlation id, duration and TLS version.
#[allow(clippy::too_many_arguments)]
pub(crate) fn request<R: Rng>(
    rng: &mut R,
    ticks: i64,
    vault: usize,
    actor: usize,
    client: &'static ClientDef,
    op: Op,
    object: &'static str,
    status: u16,
    ip: &'static str,
) -> Event {
    Event {
        ticks,
        vault: vault as u8,
        actor: actor as u8,
        op,
        inner: op,
        object,
        status,
        duration_ms: duration_ms(rng, op, status),
        correlation: rng.random::<u128>() | 1,
        ip,
        client,
        tls: Tls::pick(rng, client),
        extra: Extra::None,
    }
}

/// The unauthenticated `Authentication` 401 an SDK sends just before `req`
/// (same URI, client request id, address and TLS session).
pub(crate) fn challenge_for<R: Rng>(rng: &mut R, req: &Event) -> Event {
    let delta = rng.random_range(5 * TICKS_PER_MS..250 * TICKS_PER_MS);
    Event {
        ticks: req.ticks - delta,
        op: Op::Authentication,
        inner: req.op,
        status: 401,
        duration_ms: duration_ms(rng, Op::Authentication, 401),
        extra: Extra::None,
        ..*req
    }
}

/// Server time in ms, by operation and outcome.
pub(crate) fn duration_ms<R: Rng>(rng: &mut R, op: Op, status: u16) -> u16 {
    let (base, mean) = match status {
        401 => (0.0, 1.5),
        403 | 404 => (1.0, 4.0),
        429 => (0.0, 1.0),
        _ => match op {
            Op::SecretGet | Op::KeyGet | Op::CertificateGet => (2.0, 7.0),
            Op::KeyWrap | Op::KeyUnwrap => (3.0, 8.0),
            Op::KeySign => (5.0, 11.0),
            Op::SecretList | Op::SecretListVersions => (6.0, 16.0),
            Op::SecretSet
            | Op::SecretBackup
            | Op::SecretDelete
            | Op::SecretPurge
            | Op::KeyDelete => (12.0, 30.0),
            Op::VaultGet => (20.0, 55.0),
            Op::VaultPatch => (180.0, 250.0),
            Op::Authentication
            | Op::SecretNearExpiryEventGridNotification
            | Op::VaultAccessPolicyChangedEventGridNotification => (0.0, 1.0),
        },
    };
    let mut d = base + exponential(rng, mean);
    if status == 200 && rng.random::<f64>() < 0.004 {
        d += 150.0 + 1200.0 * rng.random::<f64>();
    }
    d.min(30_000.0) as u16
}

pub(crate) fn exponential<R: Rng>(rng: &mut R, mean: f64) -> f64 {
    -(1.0 - rng.random::<f64>()).ln() * mean
}

/// Poisson draw (Knuth below 30, normal approximation above).
pub(crate) fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    let u1 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (lambda + lambda.sqrt() * z).round().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_objects_exist_in_their_vault() {
        for p in PROFILES {
            let v = &VAULTS[p.vault];
            for (op, objects, _) in p.mix {
                for o in *objects {
                    let ok = match op.object_type() {
                        super::super::model::ObjectType::Secret => {
                            o.is_empty() || v.secrets.contains(o)
                        }
                        super::super::model::ObjectType::Key => v.keys.contains(o),
                        super::super::model::ObjectType::Certificate => v.certificates.contains(o),
                        super::super::model::ObjectType::Vault => o.is_empty(),
                    };
                    assert!(ok, "{o} ({op:?}) not in {}", v.name);
                }
            }
        }
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for lambda in [0.25, 3.0, 29.0, 130.0, 20_000.0] {
            let n = 4000;
            let sum: u64 = (0..n).map(|_| poisson(&mut rng, lambda)).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < lambda.sqrt() * 0.2 + 0.05,
                "{lambda}: {mean}"
            );
        }
    }
}
