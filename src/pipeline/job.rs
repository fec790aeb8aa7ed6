//! `kvaudit run --config kvaudit.toml`: the scheduled compliance job.
//!
//! One run reads only the logs that are new since the last run (files that
//! appeared or grew, the Log Analytics time since the last pull), analyses
//! them together with the history in the state directory, writes its
//! reports into a dated directory, and only then commits the new state: a
//! run that fails or is killed before the commit is simply run again.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use polars::prelude::*;

use super::analysis::{AnalysisOptions, Scope, analyse};
use super::outputs::{describe_inputs, report_context};
use super::pull::pull;
use super::setup::Setup;
use super::timer::StageTimer;
use crate::analyze::policy::pack::OUTSIDE_BASELINE;
use crate::analyze::privilege;
use crate::analyze::suppressions::Suppressions;
use crate::analyze::trends::{self, Coverage, RunFacts, RunRecord, TrackedFinding};
use crate::ingest::{self, Input};
use crate::job::config::{Config, Overrides};
use crate::job::history::{self, Retention};
use crate::job::sources;
use crate::job::state::StateDir;
use crate::progress;
use crate::report::exit::{Bar, Exit, NoFiles, exit_status};
use crate::report::job::JobReport;
use crate::report::{Outputs, print_to_terminal, write_report_files};

/// State documents: the open findings, the run history, and the days of
/// logs read (which decide when a finding is over).
const FINDINGS: &str = "findings";
const RUNS: &str = "runs";
const COVERAGE: &str = "coverage";

/// Days of logs read that the state remembers: more than any sensible
/// `resolve-after-days`.
const COVERAGE_DAYS_KEPT: usize = 400;

/// Writes the commented example configuration.
pub fn init(path: &Path, force: bool) -> anyhow::Result<Exit> {
    if path.exists() && !force {
        anyhow::bail!(
            "{} exists; pass --force to replace it, or name another file",
            path.display()
        );
    }
    std::fs::write(path, crate::job::config::EXAMPLE)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(
        "wrote {}; set `sources.paths` (or [log-analytics]) and `state`, then run `kvaudit run --config {}`",
        path.display(),
        path.display()
    );
    Ok(Exit::Ok)
}

/// Adds a boolean column saying whether each row is newly read, so the
/// rows can be told apart once history and new events are merged and sorted.
fn marked(mut frame: DataFrame, new: bool) -> PolarsResult<DataFrame> {
    let column = Column::new_scalar("__new".into(), Scalar::from(new), frame.height());
    frame.with_column(column)?;
    Ok(frame)
}

/// Drops the rows of `combined` (history and new rows, marked `__new`)
/// that repeat an earlier row, from it and from `ingested.events`, and
/// counts the new ones among `ingested`'s duplicates.
fn drop_redelivered(
    combined: DataFrame,
    ingested: &mut ingest::Ingested,
) -> PolarsResult<DataFrame> {
    let Some(keep) = ingest::dedup::first_copies(&combined)? else {
        return Ok(combined);
    };
    let new = combined.column("__new")?.bool()?.clone();
    // The new rows keep their relative order through the stable time sort.
    let keep_new: Vec<bool> = keep
        .iter()
        .zip(new.iter())
        .filter(|(_, new)| new.unwrap_or(false))
        .map(|(keep, _)| *keep)
        .collect();
    let redelivered = keep_new.iter().filter(|k| !**k).count() as u64;
    if redelivered > 0 {
        ingested.events = ingest::dedup::keep_rows(&ingested.events, &keep_new)?;
        ingested.records_duplicate += redelivered;
    }
    ingest::dedup::keep_rows(&combined, &keep)
}

pub fn run(config_file: &Path, overrides: Overrides) -> anyhow::Result<Exit> {
    let config = Config::load(config_file)?.with(overrides);
    let started = Utc::now();
    let setup = Setup::load(&config.policies, &config.inventory)?;
    // Checked before anything is read: a misspelt rule suppresses nothing.
    let suppressions = match &config.suppressions {
        Some(path) => Suppressions::load(path)?,
        None => Suppressions::default(),
    };
    let rules: Vec<&str> = setup
        .policies
        .policies
        .keys()
        .map(String::as_str)
        .chain(privilege::RULES)
        .chain([OUTSIDE_BASELINE])
        .collect();
    suppressions.check_rules(&rules)?;
    let state = StateDir::open(&config.state)?;
    if let Some(holder) = &state.stale_lock {
        tracing::warn!(
            "the previous run ({holder}) did not finish; its work was not committed and is done again now"
        );
    }
    let manifest = state.manifest()?;
    let mut timer = StageTimer::new(config.timings);

    // Ingest: only what earlier runs have not read.
    let candidates = if config.paths.is_empty() {
        Vec::new()
    } else {
        ingest::inputs::expand(&config.paths)?
    };
    let no_files = if candidates.is_empty() {
        NoFiles::NoneAtAll
    } else {
        NoFiles::NoneNew
    };
    let previous_marks = manifest
        .as_ref()
        .map(|m| m.files.clone())
        .unwrap_or_default();
    let mut plan = sources::plan(candidates, &previous_marks);
    for name in &plan.rewritten {
        tracing::warn!(
            "{name} changed since it was read (not by appending); it is read again whole; its records still in the history are counted once, older ones again"
        );
    }
    let total = plan.inputs.iter().filter_map(Input::size).sum();
    let progress = progress::bar(progress::READING, total, config.quiet);
    let mut ingested = ingest::ingest(&plan.inputs, &progress)?;
    progress.finish_and_clear();
    plan.record(&ingested.inputs);
    let mut watermarks = manifest
        .as_ref()
        .map(|m| m.watermarks.clone())
        .unwrap_or_default();
    if let Some(la) = &config.log_analytics {
        let mut pull_options = la.pull.clone();
        let known: Vec<&String> = pull_options
            .workspaces
            .iter()
            .filter_map(|w| watermarks.get(w))
            .collect();
        if known.len() == pull_options.workspaces.len()
            && let Some(since) = known.into_iter().min()
        {
            pull_options.since = since.clone();
        }
        let until = pull_options
            .until
            .clone()
            .unwrap_or_else(|| (started - la.latency).to_rfc3339());
        pull_options.until = Some(until.clone());
        let pulled = pull(&pull_options, config.quiet)?;
        if pulled.pull.as_ref().is_none_or(|p| p.is_complete()) {
            for workspace in &pull_options.workspaces {
                watermarks.insert(workspace.clone(), until.clone());
            }
        }
        ingested.merge(pulled)?;
    }
    timer.done("ingest");

    // Analyse the new events with the history.
    let history = history::load(&state, manifest.as_ref())?;
    let mut prior = history.prior;
    prior.fixed_learning = true;
    let combined = ingest::combine(vec![
        marked(history.events, false)?,
        marked(ingested.events.clone(), true)?,
    ])?;
    // A record delivered again on a later day (or read again from a file
    // rewritten since) repeats one the history holds: its history copy,
    // first in the time order, is kept, and the new one counted duplicate.
    let combined = drop_redelivered(combined, &mut ingested)?;
    let judged: Vec<bool> = combined
        .column("__new")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let combined = combined.drop("__new")?;
    let judged_from = ingested
        .events
        .column("time")?
        .cast(&DataType::Int64)?
        .i64()?
        .min()
        .unwrap_or(i64::MAX);
    timer.done("history");
    let scope = Scope {
        events: &combined,
        judged: Some(&judged),
        judged_from: Some(judged_from),
        prior: &prior,
        pushdown: None,
    };
    let options = AnalysisOptions {
        rates: config.rates,
        min_observation_days: config.min_observation_days,
    };
    let analysis = analyse(&setup, &ingested.events, &scope, &options, &mut timer)?;

    // Suppressions, then each open finding's life into this run.
    let applied = suppressions.apply(analysis.evaluation.findings.clone(), started.date_naive());
    let previous: Option<Vec<TrackedFinding>> = match &manifest {
        Some(m) => state.read_json(m, FINDINGS)?,
        None => None,
    };
    let mut coverage: Coverage = match &manifest {
        Some(m) => state.read_json(m, COVERAGE)?.unwrap_or_default(),
        None => Coverage::default(),
    };
    let complete_before = coverage.complete();
    coverage.add(
        ingested
            .events
            .column("time")?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .flatten(),
    );
    coverage.keep_newest(COVERAGE_DAYS_KEPT);
    let holds_grant = |principal: &str, vault: &str| {
        setup
            .inventory
            .as_ref()
            .is_some_and(|inventory| privilege::holds_grant(inventory, principal, vault))
    };
    let facts = RunFacts {
        run_at: started,
        coverage: &coverage,
        read_a_day: coverage.complete() > complete_before,
        holds_grant: setup
            .inventory
            .as_ref()
            .map(|_| &holds_grant as &dyn Fn(&str, &str) -> bool),
        suppressions: &suppressions,
        lifecycle: config.lifecycle,
    };
    let trends = trends::compare(
        previous.as_deref(),
        &applied.findings,
        &applied.suppressed,
        &facts,
    );
    let mut runs: Vec<RunRecord> = match &manifest {
        Some(m) => state.read_json(m, RUNS)?.unwrap_or_default(),
        None => Vec::new(),
    };
    trends::append_history(
        &mut runs,
        RunRecord::of(started, &applied, &trends),
        config.runs_kept as usize,
    );
    for expired in &applied.expired {
        let s = &suppressions.entries[expired.suppression];
        tracing::warn!(
            "{}: the suppression of `{}` (owner {}) expired on {}; its {} finding(s) are reported again",
            s.source(),
            s.rule,
            s.owner,
            s.expires,
            expired.findings
        );
    }
    let job = JobReport {
        suppressions: &suppressions,
        applied: &applied,
        trends: &trends,
        history: &runs,
    };

    // Report, then commit, then print: a crash before the commit reads the
    // same logs again, and nothing that happens to stdout (a closed pipe, a
    // full disk) can cost the commit.
    let out = config.out_dir(started);
    let outputs = Outputs {
        out: &out,
        formats: &config.formats,
        jsonl: config.jsonl,
        quiet: config.quiet,
    };
    let inputs_described = describe_inputs(&config.paths, &ingested.inputs);
    let context = report_context(
        &ingested,
        &analysis,
        &applied.findings,
        &setup,
        &inputs_described,
        Some(&job),
    )?;
    write_report_files(&outputs, &context)?;
    timer.done("report");

    let bar = Bar {
        fail_on: config.fail_on,
        strict: config.strict,
        allow_empty: config.allow_empty,
        no_files,
        ..Bar::default()
    };
    let gated = trends.gated(&applied.findings, config.fail_on_new_only);
    let code = exit_status(bar, &gated, &ingested);
    if code == Exit::Incomplete {
        // The missing slices are pulled again next run; committing would
        // skip them (the watermark did not move) yet keep the rest twice.
        print_to_terminal(&outputs, &context);
        tracing::warn!("the state was not updated: the next run reads the same time range again");
        return Ok(code);
    }
    let mut next = state.next_generation(manifest.as_ref());
    history::save(
        manifest.as_ref(),
        prior,
        &combined,
        &ingested.events,
        Retention::for_baseline(config.rates.baseline_days, i64::from(config.usage_days)),
        &mut next,
    )?;
    next.write_json(FINDINGS, &trends.tracked)?;
    next.write_json(RUNS, &runs)?;
    next.write_json(COVERAGE, &coverage)?;
    next.manifest.files = plan.marks;
    next.manifest.watermarks = watermarks;
    state.commit(next)?;
    timer.done("state");
    print_to_terminal(&outputs, &context);
    Ok(code)
}
