//! `kvaudit explain`: for one event (by correlation id or file:line), the
//! Cedar request built from it, the entities involved, and which policies
//! matched and why.

use std::io::Write;

use anyhow::{Context as _, bail};
use indicatif::ProgressBar;
use polars::prelude::*;
use serde_json::Value;

use crate::analyze::policy::PolicyOptions;
use crate::analyze::policy::evaluate::{Prepared, evaluate_request};
use crate::analyze::policy::model::{VAULT, uid};
use crate::analyze::policy::pack::{LoadedPolicies, OUTSIDE_BASELINE, PolicyKind};
use crate::ingest::{self, time::format_time};
use crate::report::exit::Exit;

/// Most events one `explain` prints.
const MAX_EVENTS: usize = 5;

/// Which events to explain.
pub enum Selector {
    /// The events with this correlation id (case-insensitive).
    CorrelationId(String),
    /// The record at `FILE:LINE`, as a finding's evidence names it.
    At(String),
}

/// What `explain` is asked.
pub struct ExplainOptions {
    /// Every log is read, so that per-identity facts (context.usage) are
    /// the same as in the audit.
    pub paths: Vec<String>,
    pub selector: Selector,
    pub policy: PolicyOptions,
}

fn matching_rows(events: &DataFrame, selector: &Selector) -> anyhow::Result<Vec<IdxSize>> {
    let mut rows = Vec::new();
    match selector {
        Selector::CorrelationId(id) => {
            let column = events.column("correlation_id")?.cast(&DataType::String)?;
            for (i, v) in column.str()?.iter().enumerate() {
                if v.is_some_and(|v| v.eq_ignore_ascii_case(id.trim())) {
                    rows.push(i as IdxSize);
                }
            }
        }
        Selector::At(at) => {
            let (file, line) = at
                .rsplit_once(':')
                .and_then(|(f, l)| Some((f, l.parse::<u32>().ok()?)))
                .with_context(|| format!("`{at}` is not FILE:LINE"))?;
            let files = events.column("source_file")?.cast(&DataType::String)?;
            let lines = events.column("source_line")?.cast(&DataType::UInt32)?;
            for (i, (f, l)) in files.str()?.iter().zip(lines.u32()?.iter()).enumerate() {
                let same_file = f.is_some_and(|f| {
                    f == file
                        || f.ends_with(&format!("/{file}"))
                        || file.ends_with(&format!("/{f}"))
                });
                if same_file && l == Some(line) {
                    rows.push(i as IdxSize);
                }
            }
        }
    }
    Ok(rows)
}

fn entity_json(prepared: &Prepared, uid: &cedar_policy::EntityUid) -> Option<Value> {
    prepared.entities.get(uid)?.to_json_value().ok()
}

pub fn run(options: &ExplainOptions) -> anyhow::Result<Exit> {
    let policies = LoadedPolicies::load(&options.policy)?;
    let inputs = ingest::inputs::expand(&options.paths)?;
    if inputs.is_empty() {
        bail!("no log files found in {}", options.paths.join(", "));
    }
    let ingested = ingest::ingest(&inputs, &ProgressBar::hidden())?;
    let events = &ingested.events;
    let rows = matching_rows(events, &options.selector)?;
    if rows.is_empty() {
        bail!(
            "no event {} among the {} events read",
            match &options.selector {
                Selector::CorrelationId(id) => format!("with correlation id `{id}`"),
                Selector::At(at) => format!("at `{at}`"),
            },
            events.height()
        );
    }
    let prepared = Prepared::new(events, &policies)?;
    let mut out = anstream::stdout().lock();
    if rows.len() > MAX_EVENTS {
        writeln!(
            out,
            "{} events match; explaining the first {MAX_EVENTS}\n",
            rows.len()
        )?;
    }
    let files = events.column("source_file")?.cast(&DataType::String)?;
    let lines = events.column("source_line")?.cast(&DataType::UInt32)?;
    let times = events.column("time")?.cast(&DataType::Int64)?;
    for &row in rows.iter().take(MAX_EVENTS) {
        let r = row as usize;
        let source = format!(
            "{}:{}",
            files.str()?.get(r).unwrap_or("-"),
            lines.u32()?.get(r).unwrap_or(0)
        );
        let time = times.i64()?.get(r).map(format_time).unwrap_or_default();
        let i = prepared
            .table
            .request_of_row(row)
            .context("the event has no request (internal error)")?;
        explain_one(&mut out, &policies, &prepared, i, &source, &time)?;
    }
    Ok(Exit::Ok)
}

fn explain_one(
    out: &mut impl Write,
    policies: &LoadedPolicies,
    prepared: &Prepared,
    i: usize,
    source: &str,
    time: &str,
) -> anyhow::Result<()> {
    let key = &prepared.table.keys[i];
    let request = prepared.request_checked(i, policies)?;
    let action = policies.actions.action_uid(&key.operation);
    let groups = policies.actions.groups_of(&key.operation);
    let same = prepared.table.rows[i].len();

    writeln!(out, "Event {source} at {time}")?;
    writeln!(
        out,
        "\nRequest (stands for {same} identical event{} in that hour):",
        if same == 1 { "" } else { "s" }
    )?;
    writeln!(out, "  principal: {}", key.principal_uid())?;
    write!(out, "  action:    {action}")?;
    if !policies.actions.is_known(&key.operation) {
        write!(
            out,
            "  (operation `{}` is not in the schema)",
            key.operation
        )?;
    }
    writeln!(out, "\n             in groups: {}", groups.join(", "))?;
    writeln!(out, "  resource:  {}", key.resource_uid())?;
    let context = serde_json::to_string_pretty(&key.context_json(prepared.usage_of(key)))?;
    writeln!(
        out,
        "  context:   {}",
        context.replace('\n', "\n             ")
    )?;

    writeln!(out, "\nEntities:")?;
    let mut shown = vec![key.principal_uid(), key.resource_uid()];
    let (resource_type, _) = key.resource();
    if resource_type != VAULT {
        shown.push(uid(VAULT, key.vault_name()));
    }
    for u in &shown {
        match entity_json(prepared, u) {
            Some(json) => writeln!(out, "  {}", serde_json::to_string(&json)?)?,
            None => writeln!(out, "  {u}: not in the entity store")?,
        }
    }

    let outcome = evaluate_request(policies, &prepared.entities, &request);
    writeln!(out, "\nPolicies:")?;
    let describe = |id: &str| -> String {
        match policies.policies.get(id) {
            Some(p) => format!("{id} ({}:{})", p.file, p.line),
            None => id.to_owned(),
        }
    };
    let print_text = |out: &mut dyn Write, id: &str| -> std::io::Result<()> {
        if let Some(p) = policies.policies.get(id) {
            for line in p.text.lines() {
                writeln!(out, "      | {line}")?;
            }
        }
        Ok(())
    };
    if let Some(id) = &outcome.exempted_by {
        let reason = match policies.policies.get(id).map(|p| &p.kind) {
            Some(PolicyKind::Exemption { reason }) => reason.clone(),
            _ => String::new(),
        };
        writeln!(out, "  EXEMPT by {}: {reason}", describe(id))?;
        print_text(out, id)?;
        writeln!(
            out,
            "  (rules are not consulted for exempt requests: no findings)"
        )?;
    } else {
        if outcome.rules.is_empty() {
            writeln!(out, "  no rule matched")?;
        }
        for id in &outcome.rules {
            if let Some((info, _)) = policies.rule(id) {
                writeln!(
                    out,
                    "  MATCHED {} [{}, {}]: {}",
                    describe(id),
                    info.category,
                    info.severity,
                    info.title
                )?;
            }
            print_text(out, id)?;
        }
        let not_matched: Vec<&str> = policies
            .policies
            .iter()
            .filter(|(id, p)| {
                matches!(p.kind, PolicyKind::Rule { .. }) && !outcome.rules.contains(id)
            })
            .map(|(id, _)| id.as_str())
            .collect();
        if !not_matched.is_empty() {
            writeln!(out, "  not matched: {}", not_matched.join(", "))?;
        }
        if policies.has_baseline() {
            if outcome.outside_baseline {
                writeln!(
                    out,
                    "  OUTSIDE BASELINE: no baseline permit covers this request ({OUTSIDE_BASELINE} finding)"
                )?;
            } else {
                let ids: Vec<String> = outcome.baseline.iter().map(|id| describe(id)).collect();
                writeln!(out, "  within the baseline: {}", ids.join(", "))?;
            }
        }
    }
    for e in &outcome.errors {
        writeln!(out, "  evaluation error: {e}")?;
    }
    writeln!(out)?;
    Ok(())
}
