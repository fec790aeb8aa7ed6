//! Multi-step patterns Microsoft Defender for Key Vault alerts on
//! (KV_PutGetAnomaly, KV_ListGetAnomaly): an access-policy change followed by
//! reads of secret values, and a listing followed by reads of many secrets,
//! by the same identity in the same vault within an hour.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;
use serde::Serialize;

use super::events::{CallerCode, CallerCodes, one_of};
use super::windows::HOUR_NS;
use crate::analyze::columns::{CategoricalText, integers};

/// How long after the first step reads still count.
pub const SEQUENCE_SPAN_NS: i64 = HOUR_NS;

/// Distinct secrets read after a listing below which it is not judged.
const LIST_THEN_READ_FLOOR: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceKind {
    PolicyChangeThenRead,
    ListThenRead,
}

impl SequenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PolicyChangeThenRead => "policy-change-then-read",
            Self::ListThenRead => "list-then-read",
        }
    }

    fn first_step(self, operation: &str) -> bool {
        match self {
            Self::PolicyChangeThenRead => matches!(operation, "VaultPut" | "VaultPatch"),
            Self::ListThenRead => operation == "SecretList",
        }
    }

    fn worth_judging(self, distinct_secrets: usize) -> bool {
        match self {
            Self::PolicyChangeThenRead => distinct_secrets >= 1,
            Self::ListThenRead => distinct_secrets >= LIST_THEN_READ_FLOOR,
        }
    }
}

/// One sequence: the first step and the reads that followed it.
#[derive(Debug, Clone, Serialize)]
pub struct Sequence {
    pub kind: SequenceKind,
    pub principal: String,
    pub vault: String,
    /// The first step, ns since the epoch.
    pub start: i64,
    /// The last read counted.
    pub end: i64,
    pub reads: i64,
    pub distinct_secrets: i64,
}

struct Step {
    t: i64,
    operation: &'static str,
    /// Categorical code of the object name.
    object: Option<u32>,
}

/// The frame's operation names that steps use, without allocating per row.
fn step_operation(name: &str) -> Option<&'static str> {
    ["VaultPut", "VaultPatch", "SecretList", "SecretGet"]
        .into_iter()
        .find(|op| *op == name)
}

/// Every sequence worth judging, in time order.
pub fn sequences(authenticated: &LazyFrame) -> PolarsResult<Vec<Sequence>> {
    let frame = authenticated
        .clone()
        .filter(col("success").and(one_of(
            "operation",
            &["VaultPut", "VaultPatch", "SecretList", "SecretGet"],
        )))
        .collect()?;
    let codes = CallerCodes::read(&frame)?;
    let time = integers(frame.column("t")?)?;
    let operation = CategoricalText::of(&frame, "operation")?;
    let object = CategoricalText::of(&frame, "object")?;
    let mut by_code: HashMap<CallerCode, Vec<Step>> = HashMap::new();
    for (i, t) in time.into_iter().enumerate() {
        let (Some(t), Some(op)) = (t, operation.get(i).and_then(step_operation)) else {
            continue;
        };
        by_code.entry(codes.code(i)).or_default().push(Step {
            t,
            operation: op,
            object: object.code(i),
        });
    }
    let mut by_caller: BTreeMap<(String, String), Vec<Step>> = BTreeMap::new();
    for (code, steps) in by_code {
        by_caller
            .entry(codes.caller(&code))
            .or_default()
            .extend(steps);
    }
    for steps in by_caller.values_mut() {
        steps.sort_by_key(|s| s.t);
    }
    let mut found = Vec::new();
    for ((principal, vault), steps) in &by_caller {
        for kind in [
            SequenceKind::PolicyChangeThenRead,
            SequenceKind::ListThenRead,
        ] {
            let mut covered_until = i64::MIN;
            for (i, step) in steps.iter().enumerate() {
                if !kind.first_step(step.operation) || step.t <= covered_until {
                    continue;
                }
                covered_until = step.t + SEQUENCE_SPAN_NS;
                let reads: Vec<&Step> = steps[i + 1..]
                    .iter()
                    .take_while(|s| s.t <= covered_until)
                    .filter(|s| s.operation == "SecretGet")
                    .collect();
                let names: BTreeSet<u32> = reads.iter().filter_map(|s| s.object).collect();
                if !kind.worth_judging(names.len()) {
                    continue;
                }
                found.push(Sequence {
                    kind,
                    principal: principal.clone(),
                    vault: vault.clone(),
                    start: step.t,
                    end: reads.last().map_or(step.t, |s| s.t),
                    reads: reads.len() as i64,
                    distinct_secrets: names.len() as i64,
                });
            }
        }
    }
    found.sort_by_key(|s| (s.start, s.kind));
    Ok(found)
}
