//! `kvaudit audit`: ingest the logs, analyse them, report.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use anyhow::Context;
use chrono::{DateTime, Utc};

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use crate::analyze::overview::Overview;
use crate::analyze::policy::findings::sort_findings;
use crate::analyze::policy::model::UNKNOWN_VAULT;
use crate::analyze::policy::{
    self, Finding, LoadedPolicies, PolicyEvaluation, PolicyOptions, Severity,
};
use crate::analyze::prior::Prior;
use crate::analyze::privilege::usage::UsageTable;
use crate::analyze::privilege::{self, PrivilegeAnalysis, PrivilegeOptions};
use crate::analyze::rates::{self, RateOptions};
use crate::cli::{AuditArgs, OutputFormat, exit};
use crate::ingest::azure_monitor::pushdown::{
    Aggregates, FlaggedPull, FlaggedWindow, describe_pieces,
};
use crate::ingest::azure_monitor::query::Slice;
use crate::ingest::inventory::Inventory;
use crate::ingest::{self, Ingested, Input};
use crate::report::csv::{write_csv, write_unused_permissions};
use crate::report::findings::write_findings;
use crate::report::html::{ReportContext, write_html};
use crate::report::job::{JobReport, write_job_reports};
use crate::report::rates::write_rates_csv;
use crate::report::summary::Summary;
use crate::report::terminal;

/// A byte-counting progress bar on stderr, drawn only when stderr is a terminal.
pub fn progress_bar(inputs: &[Input]) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: u64 = inputs.iter().filter_map(Input::size).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec}, {eta} left",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Prints how long each stage took, when asked to.
pub struct StageTimer {
    enabled: bool,
    last: Instant,
}

impl StageTimer {
    pub fn new(enabled: bool) -> Self {
        StageTimer {
            enabled,
            last: Instant::now(),
        }
    }

    pub fn done(&mut self, stage: &str) {
        if self.enabled {
            let seconds = self.last.elapsed().as_secs_f64();
            match peak_rss_mb() {
                Some(mb) => tracing::info!(
                    stage,
                    seconds,
                    peak_rss_mb = mb,
                    "timing {stage} {seconds:.3}s peak-rss {mb}MB"
                ),
                None => tracing::info!(stage, seconds, "timing {stage} {seconds:.3}s"),
            }
        }
        self.last = Instant::now();
    }
}

/// The process's peak resident memory so far (Linux only), so the stage that
/// raised it shows in the timings.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// When the report says it was made: `SOURCE_DATE_EPOCH` if set, so that
/// reproducible runs give identical reports, else now.
fn generation_time() -> anyhow::Result<DateTime<Utc>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let seconds: i64 = epoch.trim().parse().with_context(|| {
                format!("SOURCE_DATE_EPOCH={epoch:?} is not a number of seconds")
            })?;
            DateTime::from_timestamp(seconds, 0)
                .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is out of range"))
        }
        Err(_) => Ok(Utc::now()),
    }
}

/// One line per command-line path for the report header (a directory of
/// hundreds of blobs is one line), then any input no path covers.
pub fn describe_inputs(paths: &[String], inputs: &[ingest::InputSummary]) -> Vec<String> {
    let plural = |n: usize, word: &str| {
        format!(
            "{} {word}{}",
            crate::text::thousands(n as u64),
            if n == 1 { "" } else { "s" }
        )
    };
    let mut covered = vec![false; inputs.len()];
    let mut lines = Vec::new();
    for path in paths {
        let prefix = path.trim_end_matches('/');
        let (mut files, mut records) = (0, 0);
        for (i, input) in inputs.iter().enumerate() {
            let under = input.name == prefix
                || input
                    .name
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'));
            if !covered[i] && under {
                covered[i] = true;
                files += 1;
                records += input.records_read;
            }
        }
        if files > 0 {
            lines.push(format!(
                "{path} ({}, {})",
                plural(files, "file"),
                plural(records as usize, "record")
            ));
        }
    }
    lines.extend(
        inputs
            .iter()
            .zip(&covered)
            .filter(|(_, covered)| !**covered)
            .map(|(i, _)| format!("{} ({})", i.name, plural(i.records_read as usize, "record"))),
    );
    lines
}

/// Policies and inventory: loaded before any log is read, so a broken
/// policy or inventory file fails in seconds, not after minutes of reading.
pub struct Setup {
    pub policies: LoadedPolicies,
    /// `file (n policies)` lines for the report header.
    pub policies_described: Vec<String>,
    pub inventory: Option<Inventory>,
}

impl Setup {
    pub fn load(policy: &PolicyOptions, inventory: &[PathBuf]) -> anyhow::Result<Setup> {
        let mut policies = LoadedPolicies::load(policy)?;
        // Described before the inventory's vault tags join the entities, so the
        // header counts the entities file's own entities.
        let policies_described = policies.describe();
        let inventory = if inventory.is_empty() {
            None
        } else {
            let inventory = Inventory::load(inventory)?;
            // Vault tags and display names join the Cedar entities; the
            // entities file's own values win.
            let entities = policy::entities::with_inventory_tags(
                &policies.user_entities,
                &inventory.vault_tags(),
            );
            policies.user_entities =
                policy::entities::with_inventory_names(&entities, &inventory.principal_names());
            Some(inventory)
        };
        Ok(Setup {
            policies,
            policies_described,
            inventory,
        })
    }
}

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
}

/// Analysis settings shared by `audit` and the job.
pub struct AnalysisOptions {
    pub rates: RateOptions,
    pub min_observation_days: u32,
    pub timings: bool,
}

/// What the analyses found.
pub struct Analysis {
    pub overview: Overview,
    pub evaluation: PolicyEvaluation,
    pub privilege: Option<PrivilegeAnalysis>,
}

/// Runs the analyses. `read` is what this run read (the overview describes
/// it); `scope` is what the policies and rates look at.
pub fn analyse(
    setup: &Setup,
    read: &DataFrame,
    scope: &Scope<'_>,
    options: &AnalysisOptions,
    timer: &mut StageTimer,
) -> anyhow::Result<Analysis> {
    analyse_with(setup, read, scope, options, timer, None)
}

/// [`analyse`], with the workspace's aggregates under `--pushdown`: the rate
/// windows are judged from its counts and least privilege from its usage,
/// while the events frame (only the events that matter, and those of the
/// flagged windows, which `scope.judged` leaves out of the event policies)
/// feeds the policies and the analyses that can run on it.
pub fn analyse_with(
    setup: &Setup,
    read: &DataFrame,
    scope: &Scope<'_>,
    options: &AnalysisOptions,
    timer: &mut StageTimer,
    pushdown: Option<&Aggregates>,
) -> anyhow::Result<Analysis> {
    let overview = Overview::of(read)?;
    timer.done("overview");
    let mut observations = rates::observe_with(
        scope.events,
        &options.rates,
        scope.prior,
        pushdown.map(|a| &a.windows),
    )?;
    if let Some(from) = scope.judged_from {
        observations.retain_from(from);
    }
    timer.done("rates");
    if options.timings {
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
            let analysis = match pushdown {
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
    if options.timings {
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
        evaluation,
        privilege,
    })
}

/// Where and how a run reports.
pub struct Outputs<'a> {
    pub out: &'a Path,
    pub formats: &'a [OutputFormat],
    /// Findings as JSON lines on stdout instead of the summary table.
    pub json: bool,
    pub quiet: bool,
}

/// Writes summary.json and the report files `outputs` asks for, then the
/// terminal summary.
pub fn report(
    outputs: &Outputs<'_>,
    ingested: &Ingested,
    analysis: &Analysis,
    findings: &[Finding],
    setup: &Setup,
    inputs_described: &[String],
    job: Option<&JobReport<'_>>,
) -> anyhow::Result<()> {
    let out = outputs.out;
    Summary::new(ingested, &analysis.overview).write(out)?;
    if outputs.formats.contains(&OutputFormat::Json) {
        write_findings(out, findings)?;
    }
    let context = ReportContext {
        ingested,
        overview: &analysis.overview,
        findings,
        policies: &setup.policies_described,
        inputs_described,
        generated_at: generation_time()?,
        rate_rows: &analysis.evaluation.rate_rows,
        privilege: analysis.privilege.as_ref(),
        job,
    };
    if outputs.formats.contains(&OutputFormat::Csv) {
        write_csv(out, &context)?;
        write_rates_csv(out, &analysis.evaluation.rate_rows)?;
        if let Some(privilege) = &analysis.privilege {
            write_unused_permissions(out, &privilege.unused)?;
        }
    }
    if outputs.formats.contains(&OutputFormat::Html) {
        write_html(out, &context)?;
    }
    if let Some(job) = job {
        write_job_reports(out, job)?;
    }

    if outputs.json {
        let mut stdout = std::io::stdout().lock();
        for finding in findings {
            serde_json::to_writer(&mut stdout, finding)?;
            writeln!(stdout)?;
        }
    } else if !outputs.quiet {
        let mut stdout = anstream::stdout().lock();
        terminal::print_summary(&mut stdout, ingested, &analysis.overview, out)?;
        terminal::print_findings(&mut stdout, findings)?;
    }
    Ok(())
}

/// The exit code: findings at or above `fail_on`, rejected records under
/// `strict`, and an unfinished pull (which wins: the audit is incomplete).
pub fn exit_code(
    fail_on: Option<Severity>,
    strict: bool,
    findings: &[Finding],
    ingested: &Ingested,
) -> u8 {
    let mut code = exit::OK;
    if let Some(bar) = fail_on {
        let failing = findings.iter().filter(|f| f.severity >= bar).count();
        if failing > 0 {
            tracing::warn!(
                failing,
                fail_on = bar.as_str(),
                "{failing} finding(s) at or above {bar} (fail-on {bar})"
            );
            code = exit::FAILED_CHECK;
        }
    }
    if strict && !ingested.rejections.is_empty() {
        tracing::warn!(
            rejected = ingested.rejections.total(),
            "{} record(s) rejected and strict is set",
            ingested.rejections.total()
        );
        code = exit::FAILED_CHECK;
    }
    if super::pull::report_unfinished(ingested) {
        code = exit::INCOMPLETE;
    }
    code
}

/// Says at run time what `--pushdown` changes (docs/pushdown.md has the why).
fn explain_pushdown(aggregates: &Aggregates, flagged: &FlaggedPull, ingested: &Ingested) {
    tracing::warn!(
        "--pushdown: rate windows ({} counted in the workspace) and permission use come from \
         the workspace's aggregates; the {} events pulled are those the event policies look \
         at and every event of the {} rate window(s) Cedar flagged ({} more), so the summary's \
         counts describe them, and {} did not run (they need every event); see docs/pushdown.md",
        aggregates.windows.height(),
        ingested.records_analyzed(),
        flagged.windows,
        flagged.added,
        rates::NEED_EVERY_EVENT.join(", ")
    );
    if let Some(note) = describe_pieces(aggregates.windows_from_several_slices) {
        tracing::warn!("--pushdown: {note}");
    }
}

/// What the analyses know of the workspace beyond the pulled events: each
/// vault's logged period (learning periods, expiry) is the workspace's, not
/// that of the few events pulled.
fn pushdown_prior(aggregates: &Aggregates) -> anyhow::Result<Prior> {
    Ok(Prior {
        spans: vault_spans(&aggregates.vaults)?,
        ..Prior::default()
    })
}

/// The first judgement of `--pushdown`: the rate windows Cedar flags from
/// the workspace's counts, whose events the second phase pulls. Only the
/// observations are judged here (no event is), as in the full analysis that
/// follows, which judges the same counts with the same policies.
fn flagged_windows(
    setup: &Setup,
    events: &DataFrame,
    aggregates: &Aggregates,
    options: &AnalysisOptions,
) -> anyhow::Result<Vec<FlaggedWindow>> {
    let prior = pushdown_prior(aggregates)?;
    let observations =
        rates::observe_with(events, &options.rates, &prior, Some(&aggregates.windows))?;
    let no_event = vec![false; events.height()];
    let evaluation =
        policy::evaluate_rows(events, Some(&no_event), &observations, &setup.policies)?;
    Ok(evaluation
        .rate_rows
        .iter()
        .filter(|row| row.is_rate_window())
        .map(|row| FlaggedWindow {
            caller: row.principal.clone(),
            // The workspace's counts name no vault with an empty one.
            vault: if row.vault == UNKNOWN_VAULT {
                String::new()
            } else {
                row.vault.clone()
            },
            range: Slice {
                start: DateTime::from_timestamp_nanos(row.start),
                end: DateTime::from_timestamp_nanos(row.end),
            },
        })
        .collect())
}

/// Each vault's first and last event from the pushdown usage table.
fn vault_spans(vaults: &DataFrame) -> anyhow::Result<HashMap<String, (i64, i64)>> {
    let mut usage = UsageTable::default();
    usage.add_windows(vaults)?;
    Ok(usage
        .windows
        .into_iter()
        .map(|(vault, w)| (vault, (w.first_ns, w.last_ns)))
        .collect())
}

pub fn run(args: &AuditArgs) -> anyhow::Result<u8> {
    let setup = Setup::load(&args.policy.options(), &args.inventory)?;
    let inputs = ingest::inputs::expand(&args.paths)?;
    let workspaces = !args.log_analytics.workspaces.is_empty();
    if inputs.is_empty() && !workspaces {
        anyhow::bail!(
            "no log files found in {}; directories are searched for {} files",
            args.paths.join(", "),
            ingest::inputs::LOG_EXTENSIONS
                .map(|e| format!(".{e}"))
                .join(", ")
        );
    }
    let mut timer = StageTimer::new(args.timings);
    let progress = progress_bar(&inputs);
    let pushdown = args.pushdown.pushdown;
    if pushdown && !inputs.is_empty() {
        // The aggregates describe the workspaces only: the files' events
        // would be judged by the event policies but missing from the windows.
        anyhow::bail!("--pushdown audits workspaces only: give log files or --pushdown, not both");
    }
    let mut ingested = ingest::ingest(&inputs, &progress)?;
    progress.finish_and_clear();
    let options = AnalysisOptions {
        rates: args.rates.options(),
        min_observation_days: args.min_observation_days,
        timings: args.timings,
    };
    let mut aggregates = None;
    let mut prior = Prior::default();
    // Under --pushdown, the first phase's events only: the second phase's
    // are evidence of the flagged windows, not events to judge again.
    let mut judged = None;
    if workspaces && pushdown {
        let pulled = super::pull::pull_pushdown(&args.log_analytics, |events, aggregates| {
            flagged_windows(&setup, events, aggregates, &options)
        })?;
        // No log file under --pushdown (refused above): the pull is all.
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
    } else if workspaces {
        ingested.merge(super::pull::pull(&args.log_analytics)?)?;
    }
    timer.done("ingest");

    let scope = Scope {
        events: &ingested.events,
        judged: judged.as_deref(),
        judged_from: None,
        prior: &prior,
    };
    let analysis = analyse_with(
        &setup,
        &ingested.events,
        &scope,
        &options,
        &mut timer,
        aggregates.as_ref(),
    )?;
    let outputs = Outputs {
        out: &args.out,
        formats: &args.format,
        json: args.json,
        quiet: args.quiet,
    };
    let findings = &analysis.evaluation.findings;
    let inputs_described = describe_inputs(&args.paths, &ingested.inputs);
    report(
        &outputs,
        &ingested,
        &analysis,
        findings,
        &setup,
        &inputs_described,
        None,
    )?;
    timer.done("report");
    Ok(exit_code(args.fail_on, args.strict, findings, &ingested))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, records: u64) -> ingest::InputSummary {
        ingest::InputSummary {
            name: name.to_owned(),
            layout: None,
            records_read: records,
            records_rejected: 0,
            lines: 0,
        }
    }

    #[test]
    fn a_directory_of_blobs_is_one_line() {
        let inputs = [
            input("sample-logs/a/PT1H.json.gz", 2),
            input("sample-logs/b/PT1H.json.gz", 3),
            input("sample-logs-old/PT1H.json", 1),
            input("-", 4),
        ];
        let paths = ["sample-logs/".to_owned(), "-".to_owned()];
        assert_eq!(
            describe_inputs(&paths, &inputs),
            [
                "sample-logs/ (2 files, 5 records)",
                "- (1 file, 4 records)",
                "sample-logs-old/PT1H.json (1 record)"
            ]
        );
    }
}
