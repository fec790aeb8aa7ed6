//! The analyses of one run over the ingested events, gathered into the one
//! [`Analysis`] that the report stage renders without computing anything
//! over events.

use polars::prelude::DataFrame;

use super::setup::Setup;
use super::timer::StageTimer;
use crate::analyze::Analysis;
use crate::analyze::activity::Activity;
use crate::analyze::overview::Overview;
use crate::analyze::policy;
use crate::analyze::policy::findings::sort_findings;
use crate::analyze::prior::Prior;
use crate::analyze::privilege::usage::UsageTable;
use crate::analyze::privilege::{self, PrivilegeOptions};
use crate::analyze::rates::{self, RateOptions};
use crate::ingest::azure_monitor::pushdown::Aggregates;

/// What the analyses are run over.
pub struct Scope<'a> {
    /// The events analysed: the logs read, and for the job its history too.
    pub events: &'a DataFrame,
    /// The rows whose events are judged (the job's newly read rows); `None`: all.
    pub judged: Option<&'a [bool]>,
    /// Rate facts about events before this time are not judged (the job's
    /// earlier runs judged them).
    pub judged_from: Option<i64>,
    pub prior: &'a Prior,
    /// The workspace's aggregates under `--pushdown`: the rate windows are
    /// judged from its counts and least privilege from its usage, while
    /// `events` (only the events that matter, and those of the flagged
    /// windows, which `judged` leaves out of the event policies) feeds the
    /// policies and the analyses that can run on it.
    pub pushdown: Option<&'a Aggregates>,
}

/// Analysis settings shared by `audit` and the job.
pub struct AnalysisOptions {
    pub rates: RateOptions,
    pub min_observation_days: u32,
}

/// Runs the analyses. `read` is what this run read (the overview and the
/// activity describe it); `scope` is what the policies and rates look at.
pub fn analyse(
    setup: &Setup,
    read: &DataFrame,
    scope: &Scope<'_>,
    options: &AnalysisOptions,
    timer: &mut StageTimer,
) -> anyhow::Result<Analysis> {
    let overview = Overview::of(read)?;
    let activity = Activity::of(read)?;
    timer.done("overview");
    let mut observations = rates::observe_with(
        scope.events,
        &options.rates,
        scope.prior,
        scope.pushdown.map(|a| &a.windows),
    )?;
    if let Some(from) = scope.judged_from {
        observations.retain_from(from);
    }
    timer.done("rates");
    if timer.enabled() {
        for (analysis, seconds) in &observations.stats.seconds {
            tracing::info!(
                stage = format!("rates/{analysis}"),
                seconds,
                "timing rates/{analysis} {seconds:.3}s"
            );
        }
    }
    let mut evaluation =
        policy::evaluate_rows(scope.events, scope.judged, &observations, &setup.policies)?;
    timer.done("cedar");
    let privilege = match &setup.inventory {
        Some(inventory) => {
            let privilege_options = PrivilegeOptions {
                min_observation_days: options.min_observation_days,
            };
            let analysis = match scope.pushdown {
                Some(aggregates) => {
                    let mut usage = UsageTable::default();
                    usage.add_uses(&aggregates.uses)?;
                    usage.add_windows(&aggregates.vaults)?;
                    usage.absorb(&scope.prior.usage);
                    privilege::analyze_usage(scope.events, inventory, &privilege_options, &usage)?
                }
                None => privilege::analyze_after(
                    scope.events,
                    inventory,
                    &privilege_options,
                    &scope.prior.usage,
                )?,
            };
            for warning in &analysis.warnings {
                tracing::warn!("{warning}");
            }
            evaluation
                .findings
                .extend(analysis.findings.iter().cloned());
            sort_findings(&mut evaluation.findings);
            timer.done("least-privilege");
            Some(analysis)
        }
        None => None,
    };
    if timer.enabled() {
        tracing::info!(
            "cedar {} events, {} requests evaluated, {} rate windows counted, {} observations evaluated, {} decisions, {:.0} decisions/s",
            evaluation.events,
            evaluation.requests_evaluated,
            observations.stats.windows_counted,
            evaluation.observations_evaluated,
            evaluation.decisions,
            evaluation.decisions_per_second()
        );
    }
    Ok(Analysis {
        overview,
        activity,
        evaluation,
        privilege,
    })
}
