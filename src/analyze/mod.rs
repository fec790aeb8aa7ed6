//! Stage 2, analyze: what the normalised events say.

pub mod activity;
pub mod columns;
pub mod overview;
pub mod policy;
pub mod prior;
pub mod privilege;
pub mod rates;
#[cfg(test)]
pub(crate) mod sample_findings;
pub mod suppressions;
pub mod trends;

/// What the analyses of one run found: everything a report shows, so that
/// the report stage renders it without computing anything over events.
pub struct Analysis {
    /// Counts of what was read (summary.json, the terminal, the report header).
    pub overview: overview::Overview,
    /// The activity charts' series and the identity inventory, of what was read.
    pub activity: activity::Activity,
    /// Findings (least privilege's included, sorted), rate rows and counters.
    pub evaluation: policy::PolicyEvaluation,
    /// The least-privilege analysis, when the run had an inventory.
    pub privilege: Option<privilege::PrivilegeAnalysis>,
}
