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
use crate::analyze::trends::{FindingSnapshot, Status};
use crate::ingest::Ingested;
use crate::report::job::JobReport;
use crate::text::{escape_deceptive, noun};

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
    let duplicates = match ingested.records_duplicate {
        0 => String::new(),
        n => format!(", {n} duplicate{} counted once", noun(n, "", "s")),
    };
    writeln!(
        out,
        "{BOLD}Records{BOLD:#}  {read} read, {} analysed{duplicates}, {}{rejected} rejected{:#} from {} input(s)",
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

/// One line of the findings table.
struct Row<'a> {
    severity: Severity,
    rule: &'a str,
    who: &'a str,
    vault: &'a str,
    object: Option<&'a str>,
    events: u64,
    /// `new`, `open` or `open, not seen` in a scheduled run.
    status: Option<&'static str>,
}

impl<'a> Row<'a> {
    fn of(f: &'a FindingSnapshot, status: Option<&'static str>) -> Row<'a> {
        Row {
            severity: f.severity,
            rule: &f.rule,
            who: who(f.principal_name.as_deref(), f.principal.as_deref()),
            vault: &f.vault,
            object: f.object.as_deref(),
            events: f.event_count,
            status,
        }
    }
}

fn who<'a>(name: Option<&'a str>, principal: Option<&'a str>) -> &'a str {
    name.or(principal).unwrap_or("(no identity)")
}

/// Prints the findings as a compact table, most severe first.
pub fn print_findings(out: &mut dyn Write, findings: &[Finding]) -> std::io::Result<()> {
    let shown: Vec<FindingSnapshot> = findings.iter().map(FindingSnapshot::of).collect();
    let rows: Vec<Row> = shown.iter().map(|f| Row::of(f, None)).collect();
    print_rows(out, &rows)
}

/// A scheduled run's findings table: this run's findings with their status,
/// then the open ones of earlier runs it did not raise, after one line of
/// what changed since the last run.
pub fn print_job_findings(
    out: &mut dyn Write,
    findings: &[Finding],
    job: &JobReport<'_>,
) -> std::io::Result<()> {
    print_trend(out, job)?;
    let trends = job.trends;
    let raised: Vec<FindingSnapshot> = findings.iter().map(FindingSnapshot::of).collect();
    let mut rows: Vec<Row> = raised
        .iter()
        .map(|f| {
            let status = trends.statuses.get(&f.id).copied().unwrap_or(Status::New);
            Row::of(f, Some(status.as_str()))
        })
        .collect();
    rows.extend(
        trends
            .carried
            .iter()
            .map(|c| Row::of(&c.tracked.finding, Some("open, not seen"))),
    );
    rows.sort_by_key(|r| std::cmp::Reverse(r.severity));
    print_rows(out, &rows)
}

/// `Since the last run: 1 new, 4 open (1 not seen this run), 2 resolved (1
/// fixed, 1 quiet), 1 suppressed, 1 expired suppression`.
pub fn print_trend(out: &mut dyn Write, job: &JobReport<'_>) -> std::io::Result<()> {
    let trends = job.trends;
    if trends.first_run {
        return writeln!(
            out,
            "{BOLD}Since the last run{BOLD:#} first run: every finding is new"
        );
    }
    let mut parts = vec![format!("{} new", trends.count(Status::New))];
    let open = trends.count(Status::Open);
    parts.push(if trends.carried.is_empty() {
        format!("{open} open")
    } else {
        format!("{open} open ({} not seen this run)", trends.carried.len())
    });
    let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in &trends.resolved {
        *reasons.entry(r.resolution.as_str()).or_default() += 1;
    }
    let reasons: Vec<String> = reasons
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    parts.push(if reasons.is_empty() {
        "0 resolved".to_owned()
    } else {
        format!(
            "{} resolved ({})",
            trends.resolved.len(),
            reasons.join(", ")
        )
    });
    parts.push(format!("{} suppressed", job.applied.suppressed.len()));
    let expired = job.applied.expired.len() as u64;
    if expired > 0 {
        parts.push(format!(
            "{WARN}{expired} expired {}{WARN:#}",
            noun(expired, "suppression", "suppressions")
        ));
    }
    writeln!(out, "{BOLD}Since the last run{BOLD:#} {}", parts.join(", "))?;
    if let Some(held) = &trends.resolving_held {
        writeln!(out, "  {WARN}{held}{WARN:#}")?;
    }
    Ok(())
}

fn print_rows(out: &mut dyn Write, rows: &[Row<'_>]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "{BOLD}Findings{BOLD:#} none");
    }
    let mut by_severity = std::collections::BTreeMap::new();
    for r in rows {
        *by_severity
            .entry(std::cmp::Reverse(r.severity))
            .or_insert(0u64) += 1;
    }
    let counts: Vec<String> = by_severity
        .iter()
        .map(|(severity, n)| format!("{n} {}", severity.0))
        .collect();
    writeln!(
        out,
        "{BOLD}Findings{BOLD:#} {} ({})",
        rows.len(),
        counts.join(", ")
    )?;
    for r in rows {
        let style = severity_style(r.severity);
        let target = match r.object {
            Some(object) => format!("{}/{}", r.vault, object),
            None => r.vault.to_owned(),
        };
        let status = r.status.map(|s| format!(" {:<14}", s)).unwrap_or_default();
        writeln!(
            out,
            "  {style}{:<8}{style:#}{status} {:<34} {:<30} {:<30} {:>6}",
            r.severity.as_str(),
            cell(r.rule, 34),
            cell(r.who, 30),
            cell(&target, 30),
            r.events,
        )?;
    }
    Ok(())
}
