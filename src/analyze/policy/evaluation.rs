//! Every event and every rate observation of a run judged by the policies:
//! the requests evaluated in parallel, their matches grouped into findings,
//! then the observations judged by their rules.

use std::collections::BTreeMap;
use std::time::Instant;

use polars::prelude::*;
use rayon::prelude::*;

use super::evaluate::{EvidenceColumns, Outcome, Prepared, evaluate_request};
use super::findings::{FindingBuilder, Matched};
use super::pack::{GroupBy, LoadedPolicies, outside_baseline_rule};
use super::{PolicyEvaluation, UnknownOperation};
use crate::analyze::rates::Observations;

/// See [`super::evaluate`].
pub fn evaluate(
    events: &DataFrame,
    observations: &Observations,
    policies: &LoadedPolicies,
) -> anyhow::Result<PolicyEvaluation> {
    evaluate_rows(events, None, observations, policies)
}

/// [`evaluate`] judging only the events `judged` marks (the rows a job run
/// newly read; `None`: all). The others still count towards the callers'
/// usage, entities and evidence.
pub fn evaluate_rows(
    events: &DataFrame,
    judged: Option<&[bool]>,
    observations: &Observations,
    policies: &LoadedPolicies,
) -> anyhow::Result<PolicyEvaluation> {
    if events.height() == 0 {
        return Ok(PolicyEvaluation::default());
    }
    let mut prepared = Prepared::new(events, policies)?;
    if let Some(judged) = judged {
        prepared.table.keep_rows(judged, events)?;
    }
    let n_events = prepared.table.rows.iter().map(Vec::len).sum::<usize>() as u64;
    let started = Instant::now();
    let outcomes: Vec<Outcome> = (0..prepared.table.len())
        .into_par_iter()
        .map(|i| -> anyhow::Result<Outcome> {
            let request = prepared.request(i, policies)?;
            Ok(evaluate_request(policies, &prepared.entities, &request))
        })
        .collect::<anyhow::Result<_>>()?;
    let seconds = started.elapsed().as_secs_f64();

    let evidence = EvidenceColumns::new(events)?;
    let baseline_rule = outside_baseline_rule();
    let mut builder = FindingBuilder::default();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut result = PolicyEvaluation {
        events: n_events,
        requests_evaluated: prepared.table.len() as u64,
        requests_deduplicated: n_events - prepared.table.len() as u64,
        evaluation_seconds: seconds,
        ..PolicyEvaluation::default()
    };
    for (i, outcome) in outcomes.iter().enumerate() {
        let key = &prepared.table.keys[i];
        let rows = &prepared.table.rows[i];
        let count = rows.len() as u64;
        result.decisions += outcome.decisions;
        result.evaluation_errors += outcome.errors.len() as u64;
        if !policies.actions.is_known(&key.operation) {
            *unknown.entry(key.operation.clone()).or_default() += count;
        }
        if outcome.exempted_by.is_some() {
            result.exempted_events += count;
            continue;
        }
        let mut matched: Vec<(&super::findings::RuleInfo, GroupBy)> = outcome
            .rules
            .iter()
            .filter_map(|id| policies.rule(id))
            .collect();
        if outcome.outside_baseline {
            matched.push((&baseline_rule, GroupBy::Object));
        }
        if matched.is_empty() {
            continue;
        }
        let who = prepared.who(key);
        for (rule, group_by) in matched {
            builder.add(
                Matched {
                    rule,
                    who: &who,
                    vault: key.vault_name(),
                    object: key.object_name.as_deref(),
                    per_object: group_by == GroupBy::Object,
                    operation: &key.operation,
                    count,
                    first: prepared.table.first[i],
                    last: prepared.table.last[i],
                },
                evidence.candidates(rows),
            );
        }
    }
    result.unknown_operations = unknown
        .into_iter()
        .map(|(operation, events)| UnknownOperation { operation, events })
        .collect();
    let judged = super::observations::judge(observations, policies, &prepared, &evidence)?;
    result.observations_evaluated = judged.evaluated;
    result.observations_exempted = judged.exempted;
    result.decisions += judged.decisions;
    result.evaluation_errors += judged.errors;
    result.rate_rows = judged.rate_rows;
    result.findings = builder.finish();
    result.findings.extend(judged.findings);
    super::findings::sort_findings(&mut result.findings);
    Ok(result)
}
