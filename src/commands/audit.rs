//! `kvaudit audit`: ingest the logs, analyse them, report.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::analyze::overview::Overview;
use crate::cli::{AuditArgs, exit};
use crate::ingest::{self, Input};
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
            eprintln!("timing {stage} {:.3}s", self.last.elapsed().as_secs_f64());
        }
        self.last = Instant::now();
    }
}

pub fn run(args: &AuditArgs) -> anyhow::Result<u8> {
    let inputs = ingest::inputs::expand(&args.paths)?;
    if inputs.is_empty() {
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
    let ingested = ingest::ingest(&inputs, &progress)?;
    progress.finish_and_clear();
    timer.done("ingest");

    let overview = Overview::of(&ingested.events)?;
    timer.done("overview");
    Summary::new(&ingested, &overview).write(&args.out)?;
    timer.done("report");
    if !args.quiet {
        let mut stdout = anstream::stdout().lock();
        terminal::print_summary(&mut stdout, &ingested, &overview, &args.out)?;
    }
    if args.strict && !ingested.rejections.is_empty() {
        eprintln!(
            "kvaudit: {} record(s) rejected and --strict is set",
            ingested.rejections.total()
        );
        return Ok(exit::FAILED_CHECK);
    }
    Ok(exit::OK)
}
