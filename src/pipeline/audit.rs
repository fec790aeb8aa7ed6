//! `kvaudit audit`: ingest the logs (files, workspaces), analyse them, report.

use std::path::PathBuf;

use super::analysis::{AnalysisOptions, Scope, analyse};
use super::outputs::{describe_inputs, report, report_context};
use super::pull::{pull, pull_pushdown};
use super::pushdown::{explain_pushdown, flagged_windows, pushdown_prior};
use super::setup::Setup;
use super::timer::StageTimer;
use crate::analyze::policy::PolicyOptions;
use crate::analyze::prior::Prior;
use crate::ingest::azure_monitor::PullOptions;
use crate::ingest::{self, Input};
use crate::progress;
use crate::report::exit::{Bar, Exit, exit_status};
use crate::report::{OutputFormat, Outputs};

/// Everything an audit is asked to do.
pub struct AuditOptions {
    /// Files, directories, globs, `-`.
    pub paths: Vec<String>,
    /// Log Analytics workspaces to pull from, when any.
    pub pull: Option<PullOptions>,
    /// Judge the workspaces from their aggregates (needs `pull`, no paths).
    pub pushdown: bool,
    pub policy: PolicyOptions,
    pub inventory: Vec<PathBuf>,
    pub analysis: AnalysisOptions,
    pub out: PathBuf,
    pub formats: Vec<OutputFormat>,
    /// Findings as JSON lines on stdout instead of the summary table.
    pub jsonl: bool,
    pub quiet: bool,
    pub timings: bool,
    pub bar: Bar,
}

pub fn run(options: &AuditOptions) -> anyhow::Result<Exit> {
    let setup = Setup::load(&options.policy, &options.inventory)?;
    // No log file is not an error of the arguments (a missing path is):
    // the audit runs, reports what it read, and `exit_status` says why
    // nothing was analysed.
    let inputs = ingest::inputs::expand(&options.paths)?;
    let mut timer = StageTimer::new(options.timings);
    let total = inputs.iter().filter_map(Input::size).sum();
    let progress = progress::bar(progress::READING, total, options.quiet);
    let mut ingested = ingest::ingest(&inputs, &progress)?;
    progress.finish_and_clear();
    let mut aggregates = None;
    let mut prior = Prior::default();
    // Under --pushdown, the first phase's events only: the second phase's
    // are evidence of the flagged windows, not events to judge again.
    let mut judged = None;
    match &options.pull {
        Some(pull_options) if options.pushdown => {
            let pulled = pull_pushdown(pull_options, options.quiet, |events, aggregates| {
                flagged_windows(&setup, events, aggregates, &options.analysis)
            })?;
            // No log file under --pushdown (clap refuses both): the pull is all.
            ingested = pulled.ingested;
            explain_pushdown(&pulled.aggregates, &pulled.flagged, &ingested);
            prior = pushdown_prior(&pulled.aggregates)?;
            judged = Some(
                pulled
                    .flagged
                    .added_rows
                    .iter()
                    .map(|added| !added)
                    .collect::<Vec<bool>>(),
            );
            aggregates = Some(pulled.aggregates);
        }
        Some(pull_options) => ingested.merge(pull(pull_options, options.quiet)?)?,
        None => {}
    }
    timer.done("ingest");

    let scope = Scope {
        events: &ingested.events,
        judged: judged.as_deref(),
        judged_from: None,
        prior: &prior,
        pushdown: aggregates.as_ref(),
    };
    let analysis = analyse(
        &setup,
        &ingested.events,
        &scope,
        &options.analysis,
        &mut timer,
    )?;
    let outputs = Outputs {
        out: &options.out,
        formats: &options.formats,
        jsonl: options.jsonl,
        quiet: options.quiet,
    };
    let findings = &analysis.evaluation.findings;
    let inputs_described = describe_inputs(&options.paths, &ingested.inputs);
    let context = report_context(
        &ingested,
        &analysis,
        findings,
        &setup,
        &inputs_described,
        None,
    )?;
    report(&outputs, &context)?;
    timer.done("report");
    let bar = Bar {
        judged_from_aggregates: aggregates.as_ref().is_some_and(|a| a.vaults.height() > 0),
        ..options.bar
    };
    let severities: Vec<_> = findings.iter().map(|f| f.severity).collect();
    Ok(exit_status(bar, &severities, &ingested))
}
