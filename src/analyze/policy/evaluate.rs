//! Bulk evaluation: every distinct request once, in parallel, then the
//! matches spread back over the events they stand for and grouped into findings.

use cedar_policy::{Authorizer, Decision, Entities, PolicySet, Request};
use polars::prelude::*;

use super::entities::{self, EventEntities};
use super::findings::{EventRef, Who};
use super::pack::LoadedPolicies;
use super::requests::{RequestKey, RequestTable, Usage, UsageMap, usage};
use crate::analyze::columns::CategoricalText;

/// What the policies said about one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The exemption that permitted it (no findings then).
    pub exempted_by: Option<String>,
    /// Rules (forbid policies) it matched.
    pub rules: Vec<String>,
    /// Baseline mode: no baseline permit covered it.
    pub outside_baseline: bool,
    /// Baseline permits that covered it.
    pub baseline: Vec<String>,
    /// Policies that failed to evaluate (`policy id: error`).
    pub errors: Vec<String>,
    /// Number of Cedar authorisation calls made.
    pub decisions: u64,
}

fn satisfied(
    authorizer: &Authorizer,
    request: &Request,
    set: &PolicySet,
    entities: &Entities,
    outcome: &mut Outcome,
) -> (Decision, Vec<String>) {
    outcome.decisions += 1;
    let response = authorizer.is_authorized(request, set, entities);
    outcome
        .errors
        .extend(response.diagnostics().errors().map(|e| e.to_string()));
    let mut ids: Vec<String> = response
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    ids.sort();
    (response.decision(), ids)
}

/// Evaluates one event request against exemptions, rules and the baseline.
pub fn evaluate_request(
    policies: &LoadedPolicies,
    entities: &Entities,
    request: &Request,
) -> Outcome {
    let baseline = policies.has_baseline().then_some(&policies.baseline);
    judge(
        &policies.exemptions,
        &policies.rules,
        baseline,
        entities,
        request,
    )
}

/// Evaluates one observation request against the observation exemptions and rules.
pub fn evaluate_observation(
    policies: &LoadedPolicies,
    entities: &Entities,
    request: &Request,
) -> Outcome {
    judge(
        &policies.observation_exemptions,
        &policies.observation_rules,
        None,
        entities,
        request,
    )
}

fn judge(
    exemptions: &PolicySet,
    rules: &PolicySet,
    baseline: Option<&PolicySet>,
    entities: &Entities,
    request: &Request,
) -> Outcome {
    let authorizer = Authorizer::new();
    let mut outcome = Outcome::default();
    if !exemptions.is_empty() {
        let (decision, ids) = satisfied(&authorizer, request, exemptions, entities, &mut outcome);
        if decision == Decision::Allow {
            outcome.exempted_by = ids.into_iter().next();
            return outcome;
        }
    }
    if !rules.is_empty() {
        // No permits in this set: the decision is always Deny, and the reason
        // lists the forbid policies that matched.
        let (_, ids) = satisfied(&authorizer, request, rules, entities, &mut outcome);
        outcome.rules = ids;
    }
    if let Some(baseline) = baseline {
        let (decision, ids) = satisfied(&authorizer, request, baseline, entities, &mut outcome);
        outcome.outside_baseline = decision != Decision::Allow;
        outcome.baseline = ids;
    }
    outcome
}

/// Everything `evaluate` and `explain` need: requests, usage, entities.
pub struct Prepared {
    pub table: RequestTable,
    pub usage: UsageMap,
    pub facts: EventEntities,
    pub entities: Entities,
}

impl Prepared {
    pub fn new(events: &DataFrame, policies: &LoadedPolicies) -> anyhow::Result<Prepared> {
        let table = RequestTable::build(events)?;
        let usage = usage(events)?;
        let mut facts = EventEntities::from_events(events)?;
        for key in &table.keys {
            let (t, _) = key.resource();
            if let (Some(name), false) = (&key.object_name, t == super::model::VAULT) {
                facts
                    .objects
                    .insert((t, key.vault_name().to_owned(), name.clone()));
            }
        }
        let entities = entities::build(&facts, &policies.user_entities, &policies.schema)?;
        Ok(Prepared {
            table,
            usage,
            facts,
            entities,
        })
    }

    pub fn usage_of(&self, key: &RequestKey) -> Usage {
        self.usage
            .get(&(key.principal_key(), key.vault_name().to_owned()))
            .copied()
            .unwrap_or_default()
    }

    pub fn request(&self, i: usize, policies: &LoadedPolicies) -> anyhow::Result<Request> {
        let key = &self.table.keys[i];
        key.request(&policies.actions, self.usage_of(key))
    }

    /// The request, validated against the schema.
    pub fn request_checked(&self, i: usize, policies: &LoadedPolicies) -> anyhow::Result<Request> {
        let key = &self.table.keys[i];
        key.request_checked(&policies.actions, self.usage_of(key), &policies.schema)
    }

    /// Who a request's caller is, from the merged entities.
    pub fn who(&self, key: &RequestKey) -> Who {
        self.who_of(&key.principal_key())
    }

    /// Who the `Identity` with this id is, from the merged entities.
    pub fn who_of(&self, principal: &str) -> Who {
        let principal = principal.to_owned();
        let entity = self
            .entities
            .get(&super::model::uid(super::model::IDENTITY, &principal));
        let attr = |name: &str| -> Option<String> {
            match entity?.attr(name)?.ok()? {
                cedar_policy::EvalResult::String(s) if !s.is_empty() => Some(s),
                _ => None,
            }
        };
        let object_id = self
            .facts
            .identities
            .get(&principal)
            .and_then(|f| f.object_id.clone());
        Who {
            name: attr("name").or_else(|| attr("app_id")),
            kind: attr("kind").unwrap_or_else(|| "unknown".to_owned()),
            object_id,
            key: principal,
        }
    }
}

/// Per-row columns needed for evidence.
pub struct EvidenceColumns {
    time: Int64Chunked,
    operation: CategoricalText,
    file: CategoricalText,
    line: UInt32Chunked,
    correlation: StringChunked,
    sorted: bool,
}

impl EvidenceColumns {
    pub fn new(events: &DataFrame) -> PolarsResult<Self> {
        let time = events
            .column("time")?
            .cast(&DataType::Int64)?
            .i64()?
            .rechunk()
            .into_owned();
        let sorted = time
            .no_null_iter()
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0] <= w[1]);
        Ok(Self {
            // Kept as codes: decoded, a million rows' file paths took more
            // memory than the rest of the frame.
            file: CategoricalText::of(events, "source_file")?,
            line: events
                .column("source_line")?
                .cast(&DataType::UInt32)?
                .u32()?
                .rechunk()
                .into_owned(),
            correlation: events
                .column("correlation_id")?
                .cast(&DataType::String)?
                .str()?
                .rechunk()
                .into_owned(),
            operation: CategoricalText::of(events, "operation")?,
            time,
            sorted,
        })
    }

    pub fn operation(&self, row: IdxSize) -> Option<&str> {
        self.operation.get(row as usize)
    }

    pub fn time(&self, row: IdxSize) -> i64 {
        self.time.get(row as usize).unwrap_or(0)
    }

    pub fn event(&self, row: IdxSize) -> EventRef {
        let row = row as usize;
        EventRef {
            time_ns: self.time.get(row).unwrap_or(0),
            source_file: self.file.get(row).unwrap_or("-").to_owned(),
            source_line: self.line.get(row).unwrap_or(0),
            correlation_id: self
                .correlation
                .get(row)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        }
    }

    /// Candidate evidence rows of a request: the first few when the frame
    /// is in time order, else all.
    pub(super) fn candidates<'a>(
        &'a self,
        rows: &'a [IdxSize],
    ) -> impl Iterator<Item = EventRef> + 'a {
        let take = if self.sorted {
            super::findings::MAX_EVIDENCE
        } else {
            rows.len()
        };
        rows.iter().take(take).map(|&r| self.event(r))
    }
}
