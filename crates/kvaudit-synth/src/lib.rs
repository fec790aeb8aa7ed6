//! Synthetic Key Vault audit logs for the bundled samples and the benchmark.
//!
//! [`generate`] writes a deterministic (same config → byte-identical files)
//! set of AuditEvent logs for three vaults of one subscription: ordinary
//! traffic of about a dozen identities plus the planted incidents that
//! `sample-logs/README.md` documents (identities, vaults, times, counts).
//!
//! Layout under `out`:
//! - `insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/…/VAULTS/<NAME>/y=…/m=…/d=…/h=…/m=00/PT1H.json[.gz]`:
//!   JSON Lines, one blob per vault per UTC hour with events;
//! - `eventhub/kv-web-prod_<date>.json`: kv-web-prod's last day, as Event Hub
//!   messages (`{"records":[…]}`, one per line), not in the blobs;
//! - `log-analytics/azurediagnostics-export.json`: kv-shared-dev's last day as
//!   `az monitor log-analytics query` prints AzureDiagnostics rows, not in the blobs.
//!
//! Generation runs per vault-hour, each with its own seeded ChaCha8 stream,
//! in parallel; `scale` multiplies the ordinary traffic of the scaled
//! identities, while incidents and fixed-schedule traffic never scale.

mod export;
mod incidents;
mod inventory;
mod model;
mod population;
mod record;
mod traffic;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate, Weekday};
use rayon::prelude::*;

pub use inventory::write_inventory;
use model::{Event, TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_SEC, splitmix64};
use population::{DEV, PAYMENTS, VAULTS, WEB, World};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    pub out: PathBuf,
    pub days: u32,
    pub start: chrono::NaiveDate,
    pub scale: f64,
    pub seed: u64,
    pub gzip: bool,
}

/// What was written.
#[derive(Debug, Default)]
pub struct GenerationSummary {
    pub files: usize,
    pub records: u64,
    pub bytes: u64,
}

/// Top-level folders the generator owns under `out` (removed before writing).
pub const OUTPUT_DIRS: [&str; 3] = ["insights-logs-auditevent", "eventhub", "log-analytics"];

/// Path of the Log Analytics export, relative to `out`.
pub const LOG_ANALYTICS_EXPORT: &str = "log-analytics/azurediagnostics-export.json";

/// The resolved time frame and knobs shared by all tasks.
pub(crate) struct Plan {
    pub start: NaiveDate,
    /// Ticks (100 ns since the Unix epoch) of `start` 00:00 UTC.
    pub start_ticks: i64,
    pub days: u32,
    pub seed: u64,
    pub scale: f64,
}

impl Plan {
    fn new(config: &GeneratorConfig) -> anyhow::Result<Self> {
        if config.days == 0 {
            bail!("days must be at least 1");
        }
        if config.days > 3_660 {
            bail!("days must be at most 3660");
        }
        if !config.scale.is_finite() || config.scale < 0.0 {
            bail!("scale must be a finite number >= 0, got {}", config.scale);
        }
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        let start_ticks = config.start.signed_duration_since(epoch).num_days() * TICKS_PER_DAY;
        Ok(Plan {
            start: config.start,
            start_ticks,
            days: config.days,
            seed: config.seed,
            scale: config.scale,
        })
    }

    /// Ticks of (day, h:m:s), day 1-based; `None` outside the generated days.
    pub fn at(&self, day: u32, h: u32, m: u32, s: u32) -> Option<i64> {
        (1..=self.days).contains(&day).then(|| {
            self.start_ticks
                + i64::from(day - 1) * TICKS_PER_DAY
                + i64::from(h * 3_600 + m * 60 + s) * TICKS_PER_SEC
        })
    }

    fn date(&self, day: u32) -> NaiveDate {
        self.start + chrono::Days::new(u64::from(day - 1))
    }

    fn is_workday(&self, day: u32) -> bool {
        !matches!(self.date(day).weekday(), Weekday::Sat | Weekday::Sun)
    }
}

/// Where a vault-hour's records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Storage,
    EventHub,
    LogAnalytics,
}

fn sink(plan: &Plan, vault: usize, hour: u32) -> Sink {
    let day = hour / 24 + 1;
    match vault {
        WEB if day == plan.days => Sink::EventHub,
        DEV if day == plan.days => Sink::LogAnalytics,
        _ => Sink::Storage,
    }
}

struct TaskOut {
    sink: Sink,
    files: usize,
    records: u64,
    bytes: u64,
    /// Events for the Event Hub / Log Analytics files, in time order.
    deferred: Vec<Event>,
}

/// Blob path of (vault, hour index) relative to `out`.
fn blob_path(world: &World, plan: &Plan, vault: usize, hour: u32, gzip: bool) -> PathBuf {
    let date = plan.date(hour / 24 + 1);
    let name = if gzip { "PT1H.json.gz" } else { "PT1H.json" };
    PathBuf::from(format!(
        "insights-logs-auditevent/resourceId={}/y={:04}/m={:02}/d={:02}/h={:02}/m=00/{name}",
        world.vaults[vault].resource_id,
        date.year(),
        date.month(),
        date.day(),
        hour % 24,
    ))
}

/// Path of the Event Hub dump relative to `out`.
fn event_hub_path(plan: &Plan) -> PathBuf {
    let date = plan.date(plan.days);
    PathBuf::from(format!(
        "eventhub/{}_{}.json",
        VAULTS[WEB].name,
        date.format("%Y-%m-%d")
    ))
}

/// Writes the logs described in the module docs; see `sample-logs/README.md`.
pub fn generate(config: &GeneratorConfig) -> anyhow::Result<GenerationSummary> {
    let plan = Plan::new(config)?;
    let world = World::new();
    let out = &config.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for dir in OUTPUT_DIRS {
        let p = out.join(dir);
        if p.exists() {
            std::fs::remove_dir_all(&p).with_context(|| format!("removing old {}", p.display()))?;
        }
    }

    // Fixed events, bucketed by (vault, hour index).
    let mut fixed: HashMap<(usize, u32), Vec<Event>> = HashMap::new();
    let end = plan.start_ticks + i64::from(plan.days) * TICKS_PER_DAY;
    for ev in incidents::build(&plan) {
        if ev.ticks < plan.start_ticks || ev.ticks >= end {
            continue;
        }
        let hour = ((ev.ticks - plan.start_ticks) / TICKS_PER_HOUR) as u32;
        fixed.entry((ev.vault as usize, hour)).or_default().push(ev);
    }
    let spike_hour = (incidents::SPIKE_DAY <= plan.days)
        .then_some((incidents::SPIKE_DAY - 1) * 24 + incidents::SPIKE_HOUR);

    let tasks: Vec<(usize, u32)> = (0..VAULTS.len())
        .flat_map(|v| (0..plan.days * 24).map(move |h| (v, h)))
        .collect();
    let results: Vec<TaskOut> = tasks
        .par_iter()
        .map(|&(vault, hour)| {
            run_task(
                &plan,
                &world,
                out,
                config.gzip,
                vault,
                hour,
                spike_hour,
                fixed.get(&(vault, hour)),
            )
        })
        .collect::<anyhow::Result<_>>()?;

    let mut summary = GenerationSummary::default();
    let mut event_hub = Vec::new();
    let mut log_analytics = Vec::new();
    for r in results {
        summary.files += r.files;
        summary.records += r.records;
        summary.bytes += r.bytes;
        match r.sink {
            Sink::Storage => {}
            Sink::EventHub => event_hub.extend(r.deferred),
            Sink::LogAnalytics => log_analytics.extend(r.deferred),
        }
    }
    if !event_hub.is_empty() {
        let path = out.join(event_hub_path(&plan));
        let (_, bytes) = export::write_event_hub(&path, &world, &event_hub)
            .with_context(|| format!("writing {}", path.display()))?;
        summary.files += 1;
        summary.records += event_hub.len() as u64;
        summary.bytes += bytes;
    }
    if !log_analytics.is_empty() {
        let path = out.join(LOG_ANALYTICS_EXPORT);
        let bytes = export::write_log_analytics(&path, &world, &log_analytics)
            .with_context(|| format!("writing {}", path.display()))?;
        summary.files += 1;
        summary.records += log_analytics.len() as u64;
        summary.bytes += bytes;
    }
    Ok(summary)
}

#[allow(clippy::too_many_arguments)]
fn run_task(
    plan: &Plan,
    world: &World,
    out: &Path,
    gzip: bool,
    vault: usize,
    hour: u32,
    spike_hour: Option<u32>,
    fixed: Option<&Vec<Event>>,
) -> anyhow::Result<TaskOut> {
    let day = hour / 24 + 1;
    let sink = sink(plan, vault, hour);
    let stream = splitmix64(plan.seed ^ splitmix64(((vault as u64) << 32) | u64::from(hour)));
    let ctx = traffic::HourCtx {
        vault,
        start: plan.start_ticks + i64::from(hour) * TICKS_PER_HOUR,
        hour_of_day: hour % 24,
        workday: plan.is_workday(day),
        scale: plan.scale,
        allow_late: hour > 0 && sink != Sink::LogAnalytics,
        suppress_worker: vault == PAYMENTS && spike_hour == Some(hour),
    };
    let mut events = Vec::new();
    traffic::normal_hour(&ctx, stream, &mut events);
    if let Some(f) = fixed {
        events.extend_from_slice(f);
    }
    events.sort_by_key(|e| e.ticks);
    let mut res = TaskOut {
        sink,
        files: 0,
        records: 0,
        bytes: 0,
        deferred: Vec::new(),
    };
    if events.is_empty() {
        return Ok(res);
    }
    match sink {
        Sink::Storage => {
            let path = out.join(blob_path(world, plan, vault, hour, gzip));
            res.bytes = export::write_blob(&path, world, &events, gzip)
                .with_context(|| format!("writing {}", path.display()))?;
            res.files = 1;
            res.records = events.len() as u64;
        }
        Sink::EventHub | Sink::LogAnalytics => res.deferred = events,
    }
    Ok(res)
}
