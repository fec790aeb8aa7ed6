//! Stage 3, report: what a run tells its reader (terminal), its auditors
//! (HTML), its spreadsheets (CSV), its machines (JSON), code scanning
//! (SARIF) and its scheduler (the exit code).
//!
//! Everything here renders an [`Analysis`] that the analyze stage made; no
//! module of this stage computes anything over events.

pub mod charts;
pub mod csv;
pub mod exit;
pub mod findings;
pub mod html;
pub mod job;
pub mod rates;
pub mod sarif;
pub mod summary;
pub mod terminal;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::analyze::Analysis;
use crate::analyze::policy::Finding;
use crate::ingest::Ingested;
use job::JobReport;

/// Report files a run can write into its output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// summary.json and findings.json
    Json,
    /// findings.csv and identities.csv
    Csv,
    /// report.html
    Html,
    /// findings.sarif (SARIF 2.1.0, for GitHub code scanning and Azure DevOps)
    Sarif,
}

impl OutputFormat {
    /// The formats written when none is asked for. SARIF is not one of
    /// them: it is for a CI that uploads it, and asks for it.
    pub const DEFAULT: [OutputFormat; 3] = [Self::Json, Self::Csv, Self::Html];
}

/// Everything a report is made from.
pub struct ReportContext<'a> {
    /// Rejections, inputs and record counts.
    pub ingested: &'a Ingested,
    pub analysis: &'a Analysis,
    /// The findings reported: the analysis' own, or in a scheduled run the
    /// active ones (suppressed findings are reported from `job`).
    pub findings: &'a [Finding],
    /// `file (n policies)` lines for the header.
    pub policies: &'a [String],
    /// What the run read, one line per argument (e.g. `sample-logs/ (170 files)`).
    pub inputs_described: &'a [String],
    /// When the report was made (the caller passes `SOURCE_DATE_EPOCH` when set).
    pub generated_at: DateTime<Utc>,
    /// Trends and suppressions of a scheduled run (`kvaudit run`); `None`
    /// for `kvaudit audit`.
    pub job: Option<&'a JobReport<'a>>,
}

/// Where and how a run reports.
pub struct Outputs<'a> {
    pub out: &'a Path,
    pub formats: &'a [OutputFormat],
    /// Findings as JSON lines on stdout instead of the summary table.
    pub jsonl: bool,
    pub quiet: bool,
}

/// Writes summary.json and the report files `outputs` asks for.
pub fn write_report_files(outputs: &Outputs<'_>, ctx: &ReportContext<'_>) -> anyhow::Result<()> {
    let out = outputs.out;
    let analysis = ctx.analysis;
    summary::Summary::new(ctx.ingested, &analysis.overview).write(out)?;
    if outputs.formats.contains(&OutputFormat::Json) {
        findings::write_findings(out, ctx.findings)?;
    }
    if outputs.formats.contains(&OutputFormat::Csv) {
        csv::write_csv(out, ctx)?;
        rates::write_rates_csv(out, &analysis.evaluation.rate_rows)?;
        if let Some(privilege) = &analysis.privilege {
            csv::write_unused_permissions(out, &privilege.unused)?;
        }
    }
    if outputs.formats.contains(&OutputFormat::Html) {
        html::write_html(out, ctx)?;
    }
    if outputs.formats.contains(&OutputFormat::Sarif) {
        sarif::write_sarif(out, ctx)?;
    }
    if let Some(job) = ctx.job {
        job::write_job_reports(out, job)?;
    }
    Ok(())
}

/// Prints the terminal summary (or the findings as JSON lines) on stdout,
/// after the report files and the job's state are written, so that what
/// happens to stdout cannot cost them.
///
/// A closed pipe (`kvaudit run | head`) ends the printing quietly; any other
/// failure to write stdout (a full disk) is warned about, and the run keeps
/// its exit code: its reports are on disk.
pub fn print_to_terminal(outputs: &Outputs<'_>, ctx: &ReportContext<'_>) {
    let printed = if outputs.jsonl {
        print_jsonl(ctx.findings)
    } else if !outputs.quiet {
        let mut stdout = anstream::stdout().lock();
        terminal::print_summary(
            &mut stdout,
            ctx.ingested,
            &ctx.analysis.overview,
            outputs.out,
        )
        .and_then(|()| match ctx.job {
            Some(job) => terminal::print_job_findings(&mut stdout, ctx.findings, job),
            None => terminal::print_findings(&mut stdout, ctx.findings),
        })
        .and_then(|()| stdout.flush())
    } else {
        Ok(())
    };
    match printed {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => tracing::warn!(
            "could not write the summary to standard output ({e}); the reports are in {}",
            outputs.out.display()
        ),
    }
}

fn print_jsonl(findings: &[Finding]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for finding in findings {
        serde_json::to_writer(&mut stdout, finding)?;
        writeln!(stdout)?;
    }
    stdout.flush()
}
