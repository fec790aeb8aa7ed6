//! `kvaudit audit`: ingest the logs, analyse them, report.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::analyze::overview::Overview;
use crate::analyze::policy::findings::sort_findings;
use crate::analyze::policy::{self, LoadedPolicies};
use crate::analyze::privilege::{self, PrivilegeOptions};
use crate::analyze::rates;
use crate::cli::{AuditArgs, OutputFormat, exit};
use crate::ingest::inventory::Inventory;
use crate::ingest::{self, Input};
use crate::report::csv::{write_csv, write_unused_permissions};
use crate::report::findings::write_findings;
use crate::report::html::{ReportContext, write_html};
use crate::report::rates::write_rates_csv;
use crate::report::summary::Summary;
use crate::report::terminal;

/// A byte-counting progress bar on stderr, drawn only when stderr is a terminal.
fn progress_bar(inputs: &[Input]) -> ProgressBar {
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
struct StageTimer {
    enabled: bool,
    last: Instant,
}

impl StageTimer {
    fn new(enabled: bool) -> Self {
        StageTimer {
            enabled,
            last: Instant::now(),
        }
    }

    fn done(&mut self, stage: &str) {
        if self.enabled {
            let seconds = self.last.elapsed().as_secs_f64();
            match peak_rss_mb() {
                Some(mb) => eprintln!("timing {stage} {seconds:.3}s peak-rss {mb}MB"),
                None => eprintln!("timing {stage} {seconds:.3}s"),
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
fn describe_inputs(paths: &[String], inputs: &[ingest::InputSummary]) -> Vec<String> {
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

pub fn run(args: &AuditArgs) -> anyhow::Result<u8> {
    // Policies first: a broken policy should fail before minutes of reading.
    let mut policies = LoadedPolicies::load(&args.policy.options())?;
    // Described before the inventory's vault tags join the entities, so the
    // header counts the entities file's own entities.
    let policies_described = policies.describe();
    // The inventory too: a bad file should fail before the logs are read.
    let inventory = if args.inventory.is_empty() {
        None
    } else {
        let inventory = Inventory::load(&args.inventory)?;
        // Vault tags and display names join the Cedar entities; the
        // entities file's own values win.
        let entities =
            policy::entities::with_inventory_tags(&policies.user_entities, &inventory.vault_tags());
        policies.user_entities =
            policy::entities::with_inventory_names(&entities, &inventory.principal_names());
        Some(inventory)
    };
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
    let mut ingested = ingest::ingest(&inputs, &progress)?;
    progress.finish_and_clear();
    if workspaces {
        ingested.merge(super::pull::pull(&args.log_analytics)?)?;
    }
    timer.done("ingest");

    let overview = Overview::of(&ingested.events)?;
    timer.done("overview");
    let observations = rates::observe(&ingested.events, &args.rates.options())?;
    timer.done("rates");
    if args.timings {
        for (analysis, seconds) in &observations.stats.seconds {
            eprintln!("timing rates/{analysis} {seconds:.3}s");
        }
    }
    let mut evaluation = policy::evaluate(&ingested.events, &observations, &policies)?;
    timer.done("cedar");
    let privilege = match &inventory {
        Some(inventory) => {
            let analysis = privilege::analyze(
                &ingested.events,
                inventory,
                &PrivilegeOptions {
                    min_observation_days: args.min_observation_days,
                },
            )?;
            for warning in &analysis.warnings {
                eprintln!("kvaudit: warning: {warning}");
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
    if args.timings {
        eprintln!(
            "cedar {} events, {} requests evaluated, {} rate windows counted, {} observations evaluated, {} decisions, {:.0} decisions/s",
            evaluation.events,
            evaluation.requests_evaluated,
            observations.stats.windows_counted,
            evaluation.observations_evaluated,
            evaluation.decisions,
            evaluation.decisions_per_second()
        );
    }

    Summary::new(&ingested, &overview).write(&args.out)?;
    if args.format.contains(&OutputFormat::Json) {
        write_findings(&args.out, &evaluation.findings)?;
    }
    let inputs_described = describe_inputs(&args.paths, &ingested.inputs);
    let context = ReportContext {
        ingested: &ingested,
        overview: &overview,
        findings: &evaluation.findings,
        policies: &policies_described,
        inputs_described: &inputs_described,
        generated_at: generation_time()?,
        rate_rows: &evaluation.rate_rows,
        privilege: privilege.as_ref(),
        job: None,
    };
    if args.format.contains(&OutputFormat::Csv) {
        write_csv(&args.out, &context)?;
        write_rates_csv(&args.out, &evaluation.rate_rows)?;
        if let Some(analysis) = &privilege {
            write_unused_permissions(&args.out, &analysis.unused)?;
        }
    }
    if args.format.contains(&OutputFormat::Html) {
        write_html(&args.out, &context)?;
    }
    timer.done("report");

    if args.json {
        let mut stdout = std::io::stdout().lock();
        for finding in &evaluation.findings {
            serde_json::to_writer(&mut stdout, finding)?;
            writeln!(stdout)?;
        }
    } else if !args.quiet {
        let mut stdout = anstream::stdout().lock();
        terminal::print_summary(&mut stdout, &ingested, &overview, &args.out)?;
        terminal::print_findings(&mut stdout, &evaluation.findings)?;
    }

    let mut code = exit::OK;
    if let Some(bar) = args.fail_on {
        let failing = evaluation
            .findings
            .iter()
            .filter(|f| f.severity >= bar)
            .count();
        if failing > 0 {
            eprintln!("kvaudit: {failing} finding(s) at or above {bar} (--fail-on {bar})");
            code = exit::FAILED_CHECK;
        }
    }
    if args.strict && !ingested.rejections.is_empty() {
        eprintln!(
            "kvaudit: {} record(s) rejected and --strict is set",
            ingested.rejections.total()
        );
        code = exit::FAILED_CHECK;
    }
    if super::pull::report_unfinished(&ingested) {
        code = exit::INCOMPLETE;
    }
    Ok(code)
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
