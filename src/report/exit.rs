//! The exit code: the contract with scheduled jobs.

use std::process::{ExitCode, Termination};

use crate::analyze::policy::Severity;
use crate::ingest::Ingested;

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
  5  kvaudit run: another run holds the state directory's lock; nothing was done";

/// What makes an audit fail its check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bar {
    /// A finding at or above this severity fails.
    pub fail_on: Option<Severity>,
    /// A rejected record fails.
    pub strict: bool,
}

/// The exit code of an audit: findings at or above the bar's severity (of
/// the findings the gate counts, given by their severities: an audit's
/// findings, or a scheduled run's new and open ones), rejected records under
/// `strict`, and an unfinished pull (which wins: the audit is incomplete).
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
