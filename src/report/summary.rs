//! `summary.json`: the run's account in one machine-readable file.
//!
//! Same inputs, same bytes: nothing here depends on the clock or the machine.

use std::path::Path;

use serde::Serialize;

use crate::analyze::overview::Overview;
use crate::files::write_atomically;
use crate::ingest::rejections::RejectReason;
use crate::ingest::{Ingested, InputSummary};

#[derive(Debug, Serialize)]
pub struct RejectionSummary {
    pub reason: RejectReason,
    pub count: u64,
    pub advice: &'static str,
    /// Up to 20 located examples, `file:line: detail`.
    pub examples: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub kvaudit_version: &'static str,
    pub records_read: u64,
    pub records_analyzed: u64,
    pub records_rejected: u64,
    /// Records read again (a duplicate delivery, overlapping exports),
    /// analysed once: `records_read` = analysed + rejected + duplicate.
    pub records_duplicate: u64,
    pub rejections: Vec<RejectionSummary>,
    pub time_from: Option<&'a str>,
    pub time_to: Option<&'a str>,
    pub vaults: &'a [crate::analyze::overview::VaultActivity],
    pub principals: &'a [crate::analyze::overview::PrincipalActivity],
    pub top_operations: &'a [crate::analyze::overview::OperationCount],
    pub outcomes: &'a crate::analyze::overview::OutcomeCounts,
    pub inputs: &'a [InputSummary],
    /// Present when events were pulled from Log Analytics; its `unfinished`
    /// lists the slices that could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull: Option<&'a crate::ingest::azure_monitor::PullAccount>,
}

impl<'a> Summary<'a> {
    pub fn new(ingested: &'a Ingested, overview: &'a Overview) -> Summary<'a> {
        let rejections = ingested
            .rejections
            .by_reason()
            .into_iter()
            .map(|(reason, count, examples)| RejectionSummary {
                reason,
                count,
                advice: reason.advice(),
                examples: examples.iter().map(ToString::to_string).collect(),
            })
            .collect();
        Summary {
            kvaudit_version: env!("CARGO_PKG_VERSION"),
            records_read: ingested.records_read,
            records_analyzed: ingested.records_analyzed(),
            records_rejected: ingested.rejections.total(),
            records_duplicate: ingested.records_duplicate,
            rejections,
            time_from: overview.time_from.as_deref(),
            time_to: overview.time_to.as_deref(),
            vaults: &overview.vaults,
            principals: &overview.principals,
            top_operations: &overview.top_operations,
            outcomes: &overview.outcomes,
            inputs: &ingested.inputs,
            pull: ingested.pull.as_ref(),
        }
    }

    /// Writes `summary.json` into `dir` (atomically: a reader never sees half a file).
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let path = dir.join("summary.json");
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        write_atomically(&path, &json)
    }
}
