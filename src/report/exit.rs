//! The exit code: the contract with scheduled jobs.

use std::process::{ExitCode, Termination};

use crate::analyze::policy::Severity;
use crate::ingest::Ingested;
use crate::ingest::inputs::LOG_EXTENSIONS;
use crate::text::thousands;

/// How a command ended, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The audit ran and nothing crossed the line the caller drew.
    Ok = 0,
    /// The audit ran and failed the caller's bar: a finding at or above
    /// `--fail-on`, or a rejected record under `--strict` (and for the
    /// policy commands: an invalid policy, a failing test case).
    FailedCheck = 1,
    /// The audit could not run: bad arguments, unreadable paths, an internal error.
    Error = 2,
    /// Part of a Log Analytics pull could not be read (summary.json lists the slices).
    Incomplete = 3,
    /// The audit ran but analysed no record: no input files (none new, for
    /// the job), every record rejected, or a pull that returned nothing. A
    /// compliance check that saw nothing has not passed; `--allow-empty`
    /// (the job: `allow-empty = true`) accepts it.
    NothingAnalysed = 4,
    /// Another run of the scheduled job holds the state's lock: nothing was done.
    LockHeld = 5,
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

/// The codes as `--help` lists them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the audit ran; nothing failed the checks you asked for
  1  the audit ran and failed a check: a finding at or above --fail-on,
     or, with --strict, a rejected record
  2  the audit could not run (bad arguments, missing paths, internal error)
  3  some time slices of a --workspace pull could not be read (listed in summary.json)
  4  no record was analysed: no input files (or none new), or every record rejected
     (--allow-empty accepts it)
  5  kvaudit run: another run holds the state directory's lock; nothing was done";

/// What makes an audit fail its check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bar {
    /// A finding at or above this severity fails.
    pub fail_on: Option<Severity>,
    /// A rejected record fails.
    pub strict: bool,
    /// An audit that analysed no record exits as it otherwise would, not
    /// with [`Exit::NothingAnalysed`].
    pub allow_empty: bool,
    /// What "no input files" means for this run, for its message.
    pub no_files: NoFiles,
    /// The workspace's events were judged from its aggregates
    /// (`--pushdown`): no event pulled is not nothing analysed.
    pub judged_from_aggregates: bool,
}

/// Why a run had no input file, as its message says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoFiles {
    /// `audit`: the paths named hold no log file.
    #[default]
    InPaths,
    /// The job: every file in its sources was read by an earlier run.
    NoneNew,
    /// The job: its sources hold no file at all.
    NoneAtAll,
}

/// Why nothing was analysed, in one line; `None` when something was.
pub fn nothing_analysed(no_files: NoFiles, ingested: &Ingested) -> Option<String> {
    if ingested.records_analyzed() > 0 {
        return None;
    }
    let rejected = ingested.rejections.total();
    if rejected > 0 {
        let reasons: Vec<String> = ingested
            .rejections
            .by_reason()
            .iter()
            .take(3)
            .map(|(reason, count, _)| format!("{reason} {}", thousands(*count)))
            .collect();
        let more = ingested.rejections.by_reason().len().saturating_sub(3);
        let more = if more > 0 {
            format!(" and {more} more reason(s)")
        } else {
            String::new()
        };
        let all = if ingested.records_duplicate > 0 {
            format!(
                "{} records were rejected, the other {} repeated records read before",
                thousands(rejected),
                thousands(ingested.records_duplicate)
            )
        } else if rejected == 1 {
            "the only record was rejected".to_owned()
        } else {
            format!("all {} records were rejected", thousands(rejected))
        };
        return Some(format!(
            "{all}: {}{more} (summary.json lists them)",
            reasons.join(", ")
        ));
    }
    if ingested.records_duplicate > 0 {
        return Some(format!(
            "every one of the {} records read repeated a record read before (a duplicate delivery or an overlapping export; summary.json: records_duplicate)",
            thousands(ingested.records_read)
        ));
    }
    if ingested.records_read > 0 {
        return Some(format!(
            "none of the {} records read was analysed",
            thousands(ingested.records_read)
        ));
    }
    if let Some(pull) = &ingested.pull {
        return Some(format!(
            "the Log Analytics pull of {} returned no records from {} to {}",
            pull.workspaces.join(", "),
            pull.time_from,
            pull.time_to
        ));
    }
    if !ingested.inputs.is_empty() {
        return Some(format!(
            "the {} input(s) held no records",
            ingested.inputs.len()
        ));
    }
    Some(match no_files {
        NoFiles::InPaths => format!(
            "no log files in the paths given (directories are searched for {} files)",
            LOG_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
        ),
        NoFiles::NoneNew => "no new log files since the last run".to_owned(),
        NoFiles::NoneAtAll => "the sources hold no log files at all".to_owned(),
    })
}

/// The exit code of an audit: findings at or above the bar's severity (of
/// the findings the gate counts, given by their severities: an audit's
/// findings, or a scheduled run's new and open ones), rejected records under
/// `strict`, no record analysed (over those, unless the bar allows it), and
/// an unfinished pull (which wins: the audit is incomplete).
pub fn exit_status(bar: Bar, gated: &[Severity], ingested: &Ingested) -> Exit {
    let mut code = Exit::Ok;
    if let Some(severity) = bar.fail_on {
        let failing = gated.iter().filter(|s| **s >= severity).count();
        if failing > 0 {
            tracing::warn!(
                failing,
                fail_on = severity.as_str(),
                "{failing} finding(s) at or above {severity} (fail-on {severity})"
            );
            code = Exit::FailedCheck;
        }
    }
    if bar.strict && !ingested.rejections.is_empty() {
        tracing::warn!(
            rejected = ingested.rejections.total(),
            "{} record(s) rejected and strict is set",
            ingested.rejections.total()
        );
        code = Exit::FailedCheck;
    }
    if !bar.judged_from_aggregates
        && let Some(why) = nothing_analysed(bar.no_files, ingested)
    {
        if bar.allow_empty {
            tracing::info!("nothing was analysed: {why} (allow-empty accepts it)");
        } else {
            tracing::warn!(
                "nothing was analysed: {why}; exit 4 (--allow-empty or allow-empty = true accepts it)"
            );
            code = Exit::NothingAnalysed;
        }
    }
    if report_unfinished(ingested) {
        code = Exit::Incomplete;
    }
    code
}

/// Says which slices of a pull are missing; true when some are.
pub fn report_unfinished(ingested: &Ingested) -> bool {
    let Some(account) = &ingested.pull else {
        return false;
    };
    for slice in &account.unfinished {
        tracing::warn!(
            workspace = %slice.workspace,
            "workspace {} slice {} was not read: {}",
            slice.workspace, slice.slice, slice.reason
        );
    }
    if !account.is_complete() {
        tracing::warn!(
            "{} slice(s) unfinished; the events of those time ranges are missing \
             (listed under pull.unfinished in summary.json)",
            account.unfinished.len()
        );
    }
    !account.is_complete()
}
