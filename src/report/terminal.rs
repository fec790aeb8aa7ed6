//! The terminal summary of a run: compact, aligned, coloured only where the
//! terminal takes colour (anstream honours `NO_COLOR`, `CLICOLOR` and pipes).
//!
//! Every value that came from a log (vault, identity, operation and file
//! names, rejection details) is printed through [`shown`], so that an escape
//! sequence or a bidirectional override in a log cannot move the cursor,
//! retitle the terminal or forge a line: it shows as `\u{1b}`.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::analyze::overview::Overview;
use crate::analyze::policy::{Finding, Severity};
use crate::ingest::Ingested;
use crate::text::escape_deceptive;

/// Log text as the terminal shows it: control and bidirectional
/// characters escaped.
fn shown(value: &str) -> std::borrow::Cow<'_, str> {
    escape_deceptive(value, &[])
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".to_owned();
    }
    let p = part as f64 * 100.0 / whole as f64;
    if p > 0.0 && p < 0.1 {
        "<0.1%".to_owned()
    } else {
        format!("{p:.1}%")
    }
}

/// How many principals the terminal lists; the JSON has them all.
const TOP_PRINCIPALS: usize = 8;

/// Prints the ingest and activity summary to `out`.
pub fn print_summary(
    out: &mut dyn Write,
    ingested: &Ingested,
    overview: &Overview,
    out_dir: &std::path::Path,
) -> std::io::Result<()> {
    let read = ingested.records_read;
    let rejected = ingested.rejections.total();
    writeln!(
        out,
        "{BOLD}Records{BOLD:#}  {read} read, {} analysed, {}{rejected} rejected{:#} from {} input(s)",
        ingested.records_analyzed(),
        if rejected > 0 { WARN } else { Style::new() },
        if rejected > 0 { WARN } else { Style::new() },
        ingested.inputs.len(),
    )?;
    for (reason, count, examples) in ingested.rejections.by_reason() {
        writeln!(
            out,
            "  {WARN}{count:>8} {reason}{WARN:#}  {DIM}{}{DIM:#}",
            reason.advice()
        )?;
        for example in examples.iter().take(3) {
            writeln!(
                out,
                "           {DIM}{}{DIM:#}",
                shown(&example.to_string())
            )?;
        }
    }
    if let (Some(from), Some(to)) = (&overview.time_from, &overview.time_to) {
        writeln!(
            out,
            "{BOLD}Time{BOLD:#}     {} .. {}",
            shown(from),
            shown(to)
        )?;
    }
    if !overview.vaults.is_empty() {
        writeln!(out, "{BOLD}Vaults{BOLD:#}   {}", overview.vaults.len())?;
        for vault in &overview.vaults {
            writeln!(
                out,
                "  {:<28} {:>9} events  {DIM}{} .. {}{DIM:#}",
                shown(&vault.name),
                vault.events,
                shown(&vault.time_from),
                shown(&vault.time_to)
            )?;
        }
    }
    if !overview.principals.is_empty() {
        writeln!(
            out,
            "{BOLD}Identities{BOLD:#} {}",
            overview.principals.len()
        )?;
        for p in overview.principals.iter().take(TOP_PRINCIPALS) {
            let who = p
                .name
                .as_deref()
                .or(p.id.as_deref())
                .unwrap_or("(no identity)");
            writeln!(
                out,
                "  {:<44} {:<18} {:>9} events",
                shown(who),
                shown(&p.kind),
                p.events
            )?;
        }
        if overview.principals.len() > TOP_PRINCIPALS {
            writeln!(
                out,
                "  {DIM}... {} more in summary.json{DIM:#}",
                overview.principals.len() - TOP_PRINCIPALS
            )?;
        }
    }
    if !overview.top_operations.is_empty() {
        writeln!(out, "{BOLD}Operations{BOLD:#}")?;
        for op in &overview.top_operations {
            writeln!(
                out,
                "  {:<32} {:>9}  {DIM}{} failed{DIM:#}",
                shown(&op.operation),
                op.events,
                percent(op.failures, op.events)
            )?;
        }
    }
    let o = &overview.outcomes;
    let all = ingested.records_analyzed();
    if all > 0 {
        let denied_style = if o.denied > 0 { BAD } else { Style::new() };
        writeln!(
            out,
            "{BOLD}Outcomes{BOLD:#} {} ok, {denied_style}{} denied (401/403){denied_style:#}, {} not found, {} throttled (429), {} server errors, {} other; {} routine authentication challenges",
            percent(o.success, all),
            percent(o.denied, all),
            percent(o.not_found, all),
            percent(o.throttled, all),
            percent(o.server_error, all),
            percent(o.other, all),
            o.authentication_challenges,
        )?;
    }
    writeln!(out, "{DIM}Reports in {}{DIM:#}", out_dir.display())?;
    Ok(())
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical | Severity::High => BAD,
        Severity::Medium => WARN,
        Severity::Low | Severity::Info => Style::new(),
    }
}

/// Shortens a log-derived value for a table cell, [`shown`] escaped.
fn cell(value: &str, width: usize) -> String {
    let clean = shown(value);
    if clean.chars().count() <= width {
        clean.into_owned()
    } else {
        let mut short: String = clean.chars().take(width.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// Prints the findings as a compact table, most severe first.
pub fn print_findings(out: &mut dyn Write, findings: &[Finding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "{BOLD}Findings{BOLD:#} none");
    }
    let mut by_severity = std::collections::BTreeMap::new();
    for f in findings {
        *by_severity
            .entry(std::cmp::Reverse(f.severity))
            .or_insert(0u64) += 1;
    }
    let counts: Vec<String> = by_severity
        .iter()
        .map(|(severity, n)| format!("{n} {}", severity.0))
        .collect();
    writeln!(
        out,
        "{BOLD}Findings{BOLD:#} {} ({})",
        findings.len(),
        counts.join(", ")
    )?;
    for f in findings {
        let style = severity_style(f.severity);
        let who = f
            .principal_name
            .as_deref()
            .or(f.principal.as_deref())
            .unwrap_or("(no identity)");
        let target = match &f.object {
            Some(object) => format!("{}/{}", f.vault, object),
            None => f.vault.clone(),
        };
        writeln!(
            out,
            "  {style}{:<8}{style:#} {:<34} {:<30} {:<30} {:>6}",
            f.severity.as_str(),
            cell(&f.rule, 34),
            cell(who, 30),
            cell(&target, 30),
            f.event_count,
        )?;
    }
    Ok(())
}
