//! The Cedar policy engine: every audit event checked against the policies
//! of the default pack (`policies/*.cedar`, embedded) and the team's own.
//!
//! - [`model`]: operation names to actions, callers and objects to entities;
//! - [`pack`]: loading and validating policies and their annotations;
//! - [`entities`]: the entity store (events merged with `--entities`);
//! - [`requests`]: events to deduplicated Cedar requests;
//! - [`evaluate`]: one request or observation decided by Cedar;
//! - [`evaluation`]: bulk, parallel evaluation and grouping into findings;
//! - [`observations`]: the rate analyses' facts judged by observation rules;
//! - [`findings`]: the finding record;
//! - [`tests_runner`]: policy test cases (`kvaudit policy test`).
//!
//! `policies/README.md` documents the model for policy authors.

pub mod entities;
pub mod evaluate;
pub mod evaluation;
pub mod findings;
pub mod model;
pub mod observations;
pub mod pack;
pub mod requests;
pub mod tests_runner;

use std::path::PathBuf;

use serde::Serialize;

pub use evaluation::evaluate_rows;
pub use findings::{Category, Evidence, Finding, Severity};
pub use pack::{LoadedPolicies, Located, PolicyErrors};

/// Which policies a run uses.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// Include the embedded default pack.
    pub default_pack: bool,
    /// Team policy directories (or single `.cedar` files), added to the pack;
    /// a policy with a default-pack `@id` replaces that policy.
    pub dirs: Vec<PathBuf>,
    /// Cedar entities JSON: groups, names, vault tags.
    pub entities_file: Option<PathBuf>,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        Self {
            default_pack: true,
            dirs: Vec::new(),
            entities_file: None,
        }
    }
}

/// An operation name the schema does not know, evaluated as `Action::"UnknownOperation"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownOperation {
    pub operation: String,
    pub events: u64,
}

/// The outcome of checking every event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicyEvaluation {
    /// Sorted: most severe first.
    pub findings: Vec<Finding>,
    /// Events checked.
    pub events: u64,
    /// Distinct Cedar requests evaluated (each stands for one or more events).
    pub requests_evaluated: u64,
    /// Events that needed no evaluation of their own: `events - requests_evaluated`.
    pub requests_deduplicated: u64,
    /// Cedar authorisation calls (up to three per request: exemptions, rules, baseline).
    pub decisions: u64,
    /// Wall time of the parallel evaluation step.
    pub evaluation_seconds: f64,
    /// Events an exemption policy took out of the findings.
    pub exempted_events: u64,
    /// Policy evaluation errors (a policy that errors is skipped for that request).
    pub evaluation_errors: u64,
    /// Operation names not in the schema, with their event counts.
    pub unknown_operations: Vec<UnknownOperation>,
    /// Rate-analysis facts (windows, first sightings, sequences, expiries)
    /// evaluated by the observation rules.
    pub observations_evaluated: u64,
    /// Facts an exemption policy took out of the findings.
    pub observations_exempted: u64,
    /// The window statistics behind abnormal-rate findings (`rates.csv`).
    #[serde(skip)]
    pub rate_rows: Vec<observations::RateRow>,
}

impl PolicyEvaluation {
    /// Cedar decisions per second of the evaluation step.
    pub fn decisions_per_second(&self) -> f64 {
        if self.evaluation_seconds > 0.0 {
            self.decisions as f64 / self.evaluation_seconds
        } else {
            0.0
        }
    }
}

/// Checks every event of the normalised frame, and every fact the rate
/// analyses computed from it, against the policies.
pub fn evaluate(
    events: &polars::prelude::DataFrame,
    observations: &crate::analyze::rates::Observations,
    policies: &LoadedPolicies,
) -> anyhow::Result<PolicyEvaluation> {
    evaluation::evaluate(events, observations, policies)
}
