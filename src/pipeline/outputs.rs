//! A run's reports: the context they are made from, and what the report
//! header says the run read.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::setup::Setup;
use crate::analyze::Analysis;
use crate::analyze::policy::Finding;
use crate::ingest::{Ingested, InputSummary};
use crate::report::job::JobReport;
use crate::report::{Outputs, ReportContext, print_to_terminal, write_report_files};
use crate::text::{noun, thousands};

/// What a run's reports are made from: `findings` are those reported (the
/// job's active ones, or all of the analysis').
pub fn report_context<'a>(
    ingested: &'a Ingested,
    analysis: &'a Analysis,
    findings: &'a [Finding],
    setup: &'a Setup,
    inputs_described: &'a [String],
    job: Option<&'a JobReport<'a>>,
) -> anyhow::Result<ReportContext<'a>> {
    Ok(ReportContext {
        ingested,
        analysis,
        findings,
        policies: &setup.policies_described,
        inputs_described,
        generated_at: generation_time()?,
        job,
    })
}

/// Writes the report files of a run, then prints its summary.
pub fn report(outputs: &Outputs<'_>, context: &ReportContext<'_>) -> anyhow::Result<()> {
    write_report_files(outputs, context)?;
    print_to_terminal(outputs, context);
    Ok(())
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

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), noun(n, one, many))
}

/// One line per command-line path for the report header (a directory of
/// hundreds of blobs is one line), then any input no path covers.
pub fn describe_inputs(paths: &[String], inputs: &[InputSummary]) -> Vec<String> {
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
                counted(files as u64, "file", "files"),
                counted(records, "record", "records")
            ));
        }
    }
    lines.extend(
        inputs
            .iter()
            .zip(&covered)
            .filter(|(_, covered)| !**covered)
            .map(|(i, _)| {
                format!(
                    "{} ({})",
                    i.name,
                    counted(i.records_read, "record", "records")
                )
            }),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, records: u64) -> InputSummary {
        InputSummary {
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
