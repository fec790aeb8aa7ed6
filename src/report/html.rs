//! `report.html`: the run in one self-contained page for auditors.
//!
//! The page is rendered from the templates in `templates/` (embedded in the
//! binary) by minijinja with HTML auto-escaping on for every template, so
//! every value from the logs (UPNs, client info, object names, file names,
//! rejection details) is escaped wherever it lands. The only markup inserted
//! unescaped is the charts' SVG, which [`super::charts`] builds with escaped
//! text. The page carries a Content-Security-Policy that allows no script at
//! all and loads nothing: no CDN, no fonts, no images from anywhere.
//!
//! The page is deterministic: the same inputs give the same bytes except the
//! generation time (`generated_at`, which the caller takes from
//! `SOURCE_DATE_EPOCH` when it is set).
//!
//! # Sections
//! The body is a list of [`Section`]s, each one partial template reading its
//! data from the view. A later stage adds its section (unused permissions
//! after the findings, abnormal-rate series after the activity charts) by
//! adding its data to [`View`], a partial under `templates/partials/`, an
//! entry in [`TEMPLATES`] and a line in [`sections`] that shows it only when
//! it has something to say.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::analyze::activity::IdentityRow;
use crate::analyze::overview::VaultActivity;
use crate::analyze::policy::findings::finding_order;
use crate::analyze::policy::observations::{RateRow, span_text};
use crate::analyze::policy::{Category, Finding, Severity};
use crate::analyze::privilege::{PrivilegeAnalysis, UnusedPermission, VaultObservation};
use crate::analyze::rates::COUNTS;
use crate::files::write_atomically;
use crate::ingest::Ingested;
use crate::report::ReportContext;
use crate::report::charts::{self, Chart, thousands};
use crate::report::findings::ShownFinding;
use crate::report::job::{JobView, job_view};
use crate::text::{escape_deceptive, is_deceptive};

/// File name of the HTML report inside the output directory.
pub const HTML_FILE: &str = "report.html";

/// The templates, embedded; names ending in `.css` are not HTML-escaped.
pub const TEMPLATES: [(&str, &str); 14] = [
    ("report.html", include_str!("../../templates/report.html")),
    ("report.css", include_str!("../../templates/report.css")),
    (
        "partials/run.html",
        include_str!("../../templates/partials/run.html"),
    ),
    (
        "partials/findings-overview.html",
        include_str!("../../templates/partials/findings-overview.html"),
    ),
    (
        "partials/activity.html",
        include_str!("../../templates/partials/activity.html"),
    ),
    (
        "partials/rates.html",
        include_str!("../../templates/partials/rates.html"),
    ),
    (
        "partials/findings.html",
        include_str!("../../templates/partials/findings.html"),
    ),
    (
        "partials/identities.html",
        include_str!("../../templates/partials/identities.html"),
    ),
    (
        "partials/least-privilege.html",
        include_str!("../../templates/partials/least-privilege.html"),
    ),
    (
        "partials/data-quality.html",
        include_str!("../../templates/partials/data-quality.html"),
    ),
    (
        "partials/finding-cells.html",
        include_str!("../../templates/partials/finding-cells.html"),
    ),
    (
        "partials/since-last-run.html",
        include_str!("../../templates/partials/since-last-run.html"),
    ),
    (
        "partials/suppressed.html",
        include_str!("../../templates/partials/suppressed.html"),
    ),
    (
        "partials/expired-suppressions.html",
        include_str!("../../templates/partials/expired-suppressions.html"),
    ),
];

/// One part of the page body, with its entry in the table of contents.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Element id, the anchor the contents link to.
    pub id: &'static str,
    pub title: &'static str,
    /// Partial template that renders it.
    pub template: &'static str,
}

/// The sections of a report, in page order.
pub fn sections(view: &View) -> Vec<Section> {
    let section = |id, title, template| Section {
        id,
        title,
        template,
    };
    let mut sections = vec![
        section("run", "Run", "partials/run.html"),
        section(
            "findings-overview",
            "Findings by severity and category",
            "partials/findings-overview.html",
        ),
    ];
    if view.job.is_some() {
        sections.push(section(
            "since-last-run",
            "Since the last run",
            "partials/since-last-run.html",
        ));
    }
    sections.push(section("activity", "Activity", "partials/activity.html"));
    if !view.rates.rows.is_empty() {
        sections.push(section("rates", "Abnormal rates", "partials/rates.html"));
    }
    sections.push(section("findings", "Findings", "partials/findings.html"));
    if let Some(job) = &view.job {
        sections.push(section(
            "suppressed",
            "Suppressed findings",
            "partials/suppressed.html",
        ));
        if !job.expired.is_empty() {
            sections.push(section(
                "expired-suppressions",
                "Expired suppressions",
                "partials/expired-suppressions.html",
            ));
        }
    }
    if view.privilege.is_some() {
        sections.push(section(
            "least-privilege",
            "Least privilege",
            "partials/least-privilege.html",
        ));
    }
    sections.extend([
        section(
            "identities",
            "Identity inventory",
            "partials/identities.html",
        ),
        section("data-quality", "Data quality", "partials/data-quality.html"),
    ]);
    sections
}

/// One flagged window, as the rates table shows it.
#[derive(Debug, Serialize)]
pub struct RateView {
    pub rule: String,
    pub principal: String,
    pub vault: String,
    pub object: Option<String>,
    pub window: String,
    pub span: String,
    pub metric: String,
    pub value: i64,
    pub median: String,
    pub p90_max: String,
    pub score: String,
    pub history: String,
}

/// Most windows the page lists; `rates.csv` has them all.
pub const MAX_RATE_ROWS: usize = 200;

#[derive(Debug, Serialize)]
pub struct RatesView {
    pub rows: Vec<RateView>,
    pub omitted: usize,
}

fn rates_view(rows: &[RateRow]) -> RatesView {
    let mut sorted: Vec<&RateRow> = rows.iter().collect();
    sorted.sort_by(|a, b| (&a.rule, &a.principal, a.start).cmp(&(&b.rule, &b.principal, b.start)));
    let shown = sorted
        .iter()
        .take(MAX_RATE_ROWS)
        .map(|r| {
            let column = COUNTS.iter().position(|c| *c == r.metric).unwrap_or(0);
            let m = r.metrics.get(column).copied().flatten().unwrap_or_default();
            let with_history = m.history > 0;
            RateView {
                rule: r.rule.clone(),
                principal: r
                    .principal_name
                    .clone()
                    .unwrap_or_else(|| r.principal.clone()),
                vault: r.vault.clone(),
                object: r.object.clone(),
                window: r.window.clone(),
                span: span_text(r.start, r.end),
                metric: r.metric.replace('_', " "),
                value: m.value,
                median: if with_history {
                    format!("{:.1}", m.median)
                } else {
                    "–".into()
                },
                p90_max: if with_history {
                    format!("{} / {}", m.p90, m.max)
                } else {
                    "–".into()
                },
                score: if with_history {
                    format!("{:.1}", m.score)
                } else {
                    "–".into()
                },
                history: match r.history_days {
                    Some(0) | None => {
                        if r.run_hours.is_some() {
                            format!("{} h run", r.run_hours.unwrap_or(0))
                        } else {
                            "none".into()
                        }
                    }
                    Some(d) => format!("{d} d"),
                },
            }
        })
        .collect();
    RatesView {
        rows: shown,
        omitted: sorted.len().saturating_sub(MAX_RATE_ROWS),
    }
}

#[derive(Debug, Serialize)]
pub struct RunView {
    pub kvaudit_version: &'static str,
    /// RFC 3339, UTC, seconds.
    pub generated_at: String,
    pub inputs_described: Vec<String>,
    pub input_files: usize,
    pub policies: Vec<String>,
    pub records_read: u64,
    pub records_analyzed: u64,
    pub records_rejected: u64,
    pub time_from: Option<String>,
    pub time_to: Option<String>,
    pub vaults: Vec<VaultActivity>,
    pub identities: usize,
}

#[derive(Debug, Serialize)]
pub struct SeverityCount {
    pub severity: &'static str,
    pub findings: usize,
    pub events: u64,
}

#[derive(Debug, Serialize)]
pub struct CategoryRow {
    pub category: &'static str,
    /// Findings per severity, in [`SEVERITIES`] order.
    pub counts: Vec<usize>,
    pub total: usize,
}

/// Severities most severe first, as the report lists them.
pub const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

#[derive(Debug, Serialize)]
pub struct FindingsOverview {
    pub total: usize,
    pub severities: Vec<SeverityCount>,
    /// Categories with at least one finding, in [`Category::ALL`] order.
    pub categories: Vec<CategoryRow>,
    pub severity_names: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct RejectionView {
    pub reason: &'static str,
    pub count: u64,
    pub advice: &'static str,
    /// `(file, line, detail)` of up to 20 examples.
    pub examples: Vec<(String, u32, String)>,
}

#[derive(Debug, Serialize)]
pub struct LayoutCount {
    pub layout: String,
    pub files: usize,
    pub records_read: u64,
    pub records_rejected: u64,
}

#[derive(Debug, Serialize)]
pub struct InputView {
    pub name: String,
    pub layout: Option<&'static str>,
    pub records_read: u64,
    pub records_rejected: u64,
}

/// Most inputs with rejections listed by name; the rest are counted.
pub const MAX_INPUTS_LISTED: usize = 50;

#[derive(Debug, Serialize)]
pub struct DataQualityView {
    pub records_read: u64,
    pub records_rejected: u64,
    /// Later copies of records read more than once, analysed once.
    pub records_duplicate: u64,
    pub rejections: Vec<RejectionView>,
    pub layouts: Vec<LayoutCount>,
    /// Inputs with at least one rejection, by name, at most [`MAX_INPUTS_LISTED`].
    pub inputs_with_rejections: Vec<InputView>,
    pub inputs_with_rejections_total: usize,
}

#[derive(Debug, Serialize)]
pub struct ActivityView {
    pub charts: Vec<Chart>,
    pub bucket: &'static str,
    pub authentication_challenges: u64,
}

/// Everything the templates read.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    pub run: RunView,
    pub overview: FindingsOverview,
    pub activity: ActivityView,
    pub findings: Vec<ShownFinding<'a>>,
    pub rates: RatesView,
    pub identities: &'a [IdentityRow],
    pub data_quality: DataQualityView,
    pub privilege: Option<PrivilegeView>,
    pub job: Option<JobView<'a>>,
}

/// Unused permissions of one principal in one vault, for the table.
#[derive(Debug, Serialize)]
pub struct UnusedGroup {
    pub vault: String,
    pub principal: String,
    pub principal_name: String,
    pub principal_kind: String,
    pub status: &'static str,
    pub permissions: Vec<String>,
    pub recommendation: String,
}

#[derive(Debug, Serialize)]
pub struct PrivilegeView {
    pub min_observation_days: u32,
    pub vaults: Vec<VaultObservation>,
    pub unused: Vec<UnusedGroup>,
    pub warnings: Vec<String>,
}

fn privilege_view(analysis: &PrivilegeAnalysis) -> PrivilegeView {
    let mut groups: BTreeMap<(String, String, &'static str), Vec<&UnusedPermission>> =
        BTreeMap::new();
    for row in &analysis.unused {
        groups
            .entry((row.vault.clone(), row.principal.clone(), row.status))
            .or_default()
            .push(row);
    }
    PrivilegeView {
        min_observation_days: analysis.min_observation_days,
        vaults: analysis.vaults.clone(),
        unused: groups
            .into_values()
            .map(|rows| UnusedGroup {
                vault: rows[0].vault.clone(),
                principal: rows[0].principal.clone(),
                principal_name: rows[0].principal_name.clone(),
                principal_kind: rows[0].principal_kind.clone(),
                status: rows[0].status,
                // The vault prefix is the same for every RBAC data action.
                permissions: rows
                    .iter()
                    .map(|r| {
                        let p = r.permission.as_str();
                        p.strip_prefix("Microsoft.KeyVault/vaults/")
                            .unwrap_or(p)
                            .to_owned()
                    })
                    .collect(),
                recommendation: rows[0].recommendation.clone(),
            })
            .collect(),
        warnings: analysis.warnings.clone(),
    }
}

fn findings_overview(findings: &[&Finding]) -> FindingsOverview {
    let severities = SEVERITIES
        .iter()
        .map(|s| SeverityCount {
            severity: s.as_str(),
            findings: findings.iter().filter(|f| f.severity == *s).count(),
            events: findings
                .iter()
                .filter(|f| f.severity == *s)
                .map(|f| f.event_count)
                .sum(),
        })
        .collect();
    let categories = Category::ALL
        .iter()
        .filter_map(|c| {
            let of = |s: &Severity| {
                findings
                    .iter()
                    .filter(|f| f.category == *c && f.severity == *s)
                    .count()
            };
            let counts: Vec<usize> = SEVERITIES.iter().map(of).collect();
            let total = counts.iter().sum();
            (total > 0).then_some(CategoryRow {
                category: c.as_str(),
                counts,
                total,
            })
        })
        .collect();
    FindingsOverview {
        total: findings.len(),
        severities,
        categories,
        severity_names: SEVERITIES.iter().map(|s| s.as_str()).collect(),
    }
}

fn data_quality(ingested: &Ingested) -> DataQualityView {
    let rejections = ingested
        .rejections
        .by_reason()
        .into_iter()
        .map(|(reason, count, examples)| RejectionView {
            reason: reason.as_str(),
            count,
            advice: reason.advice(),
            examples: examples
                .iter()
                .map(|e| (e.file.clone(), e.line, e.detail.clone()))
                .collect(),
        })
        .collect();
    let mut layouts: BTreeMap<String, LayoutCount> = BTreeMap::new();
    for input in &ingested.inputs {
        let layout = input.layout.unwrap_or("not recognised").to_owned();
        let entry = layouts.entry(layout.clone()).or_insert(LayoutCount {
            layout,
            files: 0,
            records_read: 0,
            records_rejected: 0,
        });
        entry.files += 1;
        entry.records_read += input.records_read;
        entry.records_rejected += input.records_rejected;
    }
    let mut with_rejections: Vec<InputView> = ingested
        .inputs
        .iter()
        .filter(|i| i.records_rejected > 0)
        .map(|i| InputView {
            name: i.name.clone(),
            layout: i.layout,
            records_read: i.records_read,
            records_rejected: i.records_rejected,
        })
        .collect();
    with_rejections.sort_by(|a, b| a.name.cmp(&b.name));
    let total = with_rejections.len();
    with_rejections.truncate(MAX_INPUTS_LISTED);
    DataQualityView {
        records_read: ingested.records_read,
        records_rejected: ingested.rejections.total(),
        records_duplicate: ingested.records_duplicate,
        rejections,
        layouts: layouts.into_values().collect(),
        inputs_with_rejections: with_rejections,
        inputs_with_rejections_total: total,
    }
}

/// Builds what the templates read from a run.
pub fn view<'a>(ctx: &ReportContext<'a>) -> anyhow::Result<View<'a>> {
    let analysis = ctx.analysis;
    let activity = &analysis.activity;
    let overview = &analysis.overview;
    let charts = charts::activity_charts(activity)?;
    let mut findings: Vec<&Finding> = ctx.findings.iter().collect();
    findings.sort_by(|a, b| finding_order(a, b));
    Ok(View {
        run: RunView {
            kvaudit_version: env!("CARGO_PKG_VERSION"),
            generated_at: ctx.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            inputs_described: ctx.inputs_described.to_vec(),
            input_files: ctx.ingested.inputs.len(),
            policies: ctx.policies.to_vec(),
            records_read: ctx.ingested.records_read,
            records_analyzed: ctx.ingested.records_analyzed(),
            records_rejected: ctx.ingested.rejections.total(),
            time_from: overview.time_from.clone(),
            time_to: overview.time_to.clone(),
            vaults: overview.vaults.clone(),
            identities: activity
                .identities
                .iter()
                .filter(|i| !i.is_anonymous())
                .count(),
        },
        overview: findings_overview(&findings),
        activity: ActivityView {
            charts,
            bucket: activity.timeline.bucket.as_str(),
            authentication_challenges: activity.authentication_challenges,
        },
        findings: findings
            .iter()
            .map(|f| ShownFinding {
                finding: f,
                status: ctx
                    .job
                    .and_then(|job| job.trends.statuses.get(&f.id))
                    .map(|s| s.as_str()),
            })
            .collect(),
        rates: rates_view(&analysis.evaluation.rate_rows),
        identities: &activity.identities,
        data_quality: data_quality(ctx.ingested),
        privilege: analysis.privilege.as_ref().map(privilege_view),
        job: ctx.job.map(job_view).transpose()?,
    })
}

/// `2026-11-20T10:00:00.123000Z` as `2026-11-20 10:00:00`, for reading; other text unchanged.
fn short_time(value: &str) -> String {
    match (value.get(..10), value.get(11..19)) {
        (Some(date), Some(time)) if value.as_bytes().get(10) == Some(&b'T') => {
            format!("{date} {time}")
        }
        _ => value.to_owned(),
    }
}

/// The template environment: every template HTML-escaped except the stylesheet.
pub fn environment() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".css") {
            AutoEscape::None
        } else {
            AutoEscape::Html
        }
    });
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Auto-escaping leaves control and bidirectional characters alone; a
    // U+202E in an object name would reverse what the auditor reads.
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if text.chars().any(is_deceptive) => {
            let shown = escape_deceptive(text, &['\n', '\t', '\r']).into_owned();
            let value = if value.is_safe() {
                Value::from_safe_string(shown)
            } else {
                Value::from(shown)
            };
            minijinja::escape_formatter(out, state, &value)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.add_filter("thousands", |n: u64| thousands(n));
    env.add_filter("short_time", |s: String| short_time(&s));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .with_context(|| format!("the embedded template {name} is invalid"))?;
    }
    Ok(env)
}

/// Renders the report page.
pub fn render_html(ctx: &ReportContext) -> anyhow::Result<String> {
    let view = view(ctx)?;
    let sections = sections(&view);
    let env = environment()?;
    let template = env.get_template("report.html")?;
    let html = template
        .render(minijinja::context! {
            view => Serde(&view),
            sections => Serde(&sections),
        })
        .context("cannot render report.html")?;
    Ok(html)
}

/// Writes `DIR/report.html` (atomically, creating `DIR`).
pub fn write_html(dir: &Path, ctx: &ReportContext) -> anyhow::Result<()> {
    let html = render_html(ctx)?;
    write_atomically(&dir.join(HTML_FILE), html.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::{DateTime, TimeZone, Utc};
    use indicatif::ProgressBar;

    use super::*;
    use crate::analyze::Analysis;
    use crate::analyze::activity::Activity;
    use crate::analyze::overview::Overview;
    use crate::analyze::policy::{Evidence, PolicyEvaluation};
    use crate::ingest::{self, Input};

    fn data(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(relative)
    }

    fn ingest_files(paths: &[PathBuf]) -> Ingested {
        let inputs: Vec<Input> = paths.iter().cloned().map(Input::File).collect();
        ingest::ingest(&inputs, &ProgressBar::hidden()).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    fn hostile_finding() -> Finding {
        Finding {
            id: "0123456789abcdef".into(),
            rule: "kvaudit.sensitive.secret-delete".into(),
            category: Category::SensitiveOperation,
            severity: Severity::High,
            title: "Secret deleted".into(),
            principal: Some("66666666-7777-4888-9999-000000000000".into()),
            principal_name: Some("<script>document.title='pwned-finding'</script>".into()),
            principal_kind: "user".into(),
            vault: "kv-payments-prod".into(),
            object: Some("<img src=x onerror=\"document.title='pwned-object'\">".into()),
            operations: vec!["SecretDelete".into()],
            first_seen: "2026-11-20T11:04:00.000000Z".into(),
            last_seen: "2026-11-20T11:04:00.000000Z".into(),
            event_count: 1,
            evidence: vec![Evidence {
                correlation_id: Some("\"><script>document.title='pwned-evidence'</script>".into()),
                source: "PT1H.json:6".into(),
                time: "2026-11-20T11:04:00.000000Z".into(),
            }],
            message: "javascript:document.title='pwned-message' deleted a secret".into(),
            remediation: "Enable soft delete and purge protection.".into(),
        }
    }

    /// What the analyses would hand the report for `ingested`, with no
    /// policy evaluated.
    fn analysis(ingested: &Ingested, privilege: Option<PrivilegeAnalysis>) -> Analysis {
        Analysis {
            overview: Overview::of(&ingested.events).unwrap(),
            activity: Activity::of(&ingested.events).unwrap(),
            evaluation: PolicyEvaluation::default(),
            privilege,
        }
    }

    fn context<'a>(
        ingested: &'a Ingested,
        analysis: &'a Analysis,
        findings: &'a [Finding],
        job: Option<&'a crate::report::job::JobReport<'a>>,
    ) -> ReportContext<'a> {
        ReportContext {
            ingested,
            analysis,
            findings,
            policies: &[],
            inputs_described: &[],
            generated_at: at(0),
            job,
        }
    }

    fn render(ingested: &Ingested, findings: &[Finding], generated_at: DateTime<Utc>) -> String {
        let analysis = analysis(ingested, None);
        let policies = ["default pack (12 policies)".to_owned()];
        let inputs = ["tests/data/ (1 file)".to_owned()];
        render_html(&ReportContext {
            policies: &policies,
            inputs_described: &inputs,
            generated_at,
            ..context(ingested, &analysis, findings, None)
        })
        .unwrap()
    }

    #[test]
    fn least_privilege_section_appears_with_an_inventory_and_escapes_it() {
        use crate::analyze::privilege::{PrivilegeAnalysis, UnusedPermission, VaultObservation};
        let ingested = ingest_files(&[data("same-events/PT1H.json")]);
        let hostile = "<script>document.title='pwned-privilege'</script>";
        let privilege = PrivilegeAnalysis {
            vaults: vec![VaultObservation {
                vault: "kv-web-prod".into(),
                permission_model: "access-policy",
                first_seen: None,
                last_seen: None,
                observed_days: 0.0,
                events: 0,
                provisional: true,
                principals_with_grants: 1,
                group_grants: 0,
                unknown_roles: vec![hostile.into()],
                callers_without_grant: 0,
            }],
            unused: vec![UnusedPermission {
                vault: "kv-web-prod".into(),
                permission_model: "access-policy",
                principal: "oid-1".into(),
                principal_name: hostile.into(),
                principal_kind: "user".into(),
                permission: "secrets:purge".into(),
                granted_by: "access policy".into(),
                status: "no-data",
                observed_from: String::new(),
                observed_to: String::new(),
                observed_days: 0.0,
                provisional: true,
                recommendation: "none: no events".into(),
                finding_rule: "unused-permission-no-data",
            }],
            warnings: vec![hostile.into()],
            ..PrivilegeAnalysis::default()
        };
        let without = analysis(&ingested, None);
        let without = render_html(&context(&ingested, &without, &[], None)).unwrap();
        assert!(!without.contains("<section id=\"least-privilege\""));
        let with = analysis(&ingested, Some(privilege));
        let html = render_html(&context(&ingested, &with, &[], None)).unwrap();
        assert!(html.contains("<section id=\"least-privilege\""));
        assert!(html.contains("no data: no events"));
        assert!(!html.contains("<script"), "escaped");
        assert!(html.contains("&lt;script&gt;document.title="));
    }

    #[test]
    fn a_job_report_adds_its_sections_labels_findings_and_escapes_the_suppressions_file() {
        let ingested = ingest_files(&[data("same-events/PT1H.json")]);
        let analysis = analysis(&ingested, None);
        let job = crate::report::job::fixture::second_run(
            "<script>document.title='pwned-reason'</script>",
        );
        let report = job.report();
        let context = |job| context(&ingested, &analysis, &report.applied.findings, job);
        const JOB_SECTIONS: [&str; 3] = ["since-last-run", "suppressed", "expired-suppressions"];
        let plain = render_html(&context(None)).unwrap();
        for section in JOB_SECTIONS {
            assert!(
                !plain.contains(&format!("<section id=\"{section}\"")),
                "{section}"
            );
        }
        assert!(
            !plain.contains("class=\"status "),
            "no status outside the job"
        );

        let html = render_html(&context(Some(&report))).unwrap();
        for section in JOB_SECTIONS {
            assert!(
                html.contains(&format!("<section id=\"{section}\"")),
                "{section}"
            );
            assert!(
                html.contains(&format!("<a href=\"#{section}\">")),
                "{section} in the contents"
            );
        }
        let position = |needle: &str| html.find(needle).unwrap();
        assert!(
            position("<section id=\"findings-overview\"")
                < position("<section id=\"since-last-run\"")
        );
        assert!(position("<section id=\"findings\"") < position("<section id=\"suppressed\""));

        // Every active finding carries its status; the one new finding is the second purge.
        assert_eq!(
            html.matches("<span class=\"status status-open\">open</span>")
                .count(),
            3
        );
        assert_eq!(
            html.matches("<span class=\"status status-new\">new</span>")
                .count(),
            1
        );
        let new_purge = &report
            .applied
            .findings
            .iter()
            .find(|f| f.object.as_deref() == Some("api-key"))
            .unwrap()
            .id;
        let row = &html[position(&format!("id=\"finding-{new_purge}\""))..];
        assert!(row[..row.find("</tr>").unwrap()].contains("status-new"));

        let resolved = &report.trends.resolved[0].finding.id;
        assert!(html.contains(&format!(
            "<tr class=\"resolved-finding\" id=\"resolved-{resolved}\">"
        )));
        assert!(html.contains("not raised again in 8 complete days of logs"));
        let carried = &report.trends.carried[0].tracked.finding.id;
        assert!(html.contains(&format!(
            "<tr class=\"carried-finding\" id=\"carried-{carried}\">"
        )));
        assert!(html.contains("<figure class=\"chart-figure\" id=\"chart-findings-trend\">"));
        let suppressed = &report.applied.suppressed[0].finding.id;
        assert!(html.contains(&format!(
            "<tr class=\"suppressed-finding\" id=\"suppressed-{suppressed}\">"
        )));
        assert!(html.contains("owner alice@contoso.com · until <time datetime=\"2026-11-30\">2026-11-30</time> <span class=\"warn\">(expires in 9 days)</span>"));
        // The identifying cells come from a macro: rendered once, not escaped twice.
        assert!(html.contains("<td>Person read a secret value in a production vault<br>"));
        assert!(html.contains("<td>Secret read on every request instead of cached<br>"));
        assert!(!html.contains("&lt;td&gt;"));
        assert!(html.contains("<code>suppressions.toml:1</code>"));
        assert!(
            html.contains("<code>suppressions.toml:9</code>"),
            "the expired one"
        );
        assert!(
            html.contains("rule <code>kv-vault-delete</code>"),
            "the unused one"
        );

        assert!(!html.contains("<script"), "the reason is text");
        assert!(html.contains(
            "<span class=\"suppression-reason\">&lt;script&gt;document.title=&#x27;pwned-reason&#x27;&lt;&#x2f;script&gt;</span>"
        ));
    }

    #[test]
    fn every_template_parses() {
        let env = environment().unwrap();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }

    #[test]
    fn report_has_every_section_and_chart_and_loads_nothing() {
        let ingested = ingest_files(&[data("same-events/PT1H.json")]);
        let html = render(&ingested, &[hostile_finding()], at(1_800_000_000));
        for section in [
            "run",
            "findings-overview",
            "activity",
            "findings",
            "identities",
            "data-quality",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{section}\"")),
                "{section}"
            );
            assert!(
                html.contains(&format!("<a href=\"#{section}\">")),
                "{section} in the contents"
            );
        }
        for chart in [
            "chart-activity",
            "chart-outcomes",
            "chart-identities",
            "chart-heatmap",
        ] {
            assert!(
                html.contains(&format!("<figure class=\"chart-figure\" id=\"{chart}\">")),
                "{chart}"
            );
        }
        assert_eq!(html.matches("<svg role=\"img\"").count(), 4);
        assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none';"));
        assert!(html.contains("kv-payments-prod"));
        assert!(html.contains("2027-01-15T08:00:00Z"), "generation time");
        for external in [
            "<script",
            "<link",
            "<iframe",
            "src=\"http",
            "href=\"http",
            "@import",
            "url(",
        ] {
            assert!(!html.contains(external), "{external}");
        }
    }

    #[test]
    fn hostile_log_values_are_text() {
        let ingested = ingest_files(&[data("hostile/PT1H.json")]);
        assert!(
            ingested.rejections.total() > 0,
            "the fixture ends with a cut-off record"
        );
        let html = render(&ingested, &[hostile_finding()], at(0));
        assert!(!html.contains("<script"), "no script element");
        assert!(!html.contains("<img"), "no img element");
        assert!(!html.contains("<svg onload"), "no injected svg element");
        assert!(
            !html.contains("<b>"),
            "no injected markup from the vault name"
        );
        assert!(!html.contains("href=\"javascript"), "no javascript: link");
        assert!(
            html.contains("&lt;script&gt;document.title=&#x27;pwned-upn&#x27;&lt;&#x2f;script&gt;")
        );
        assert!(html.contains("&lt;img src=x onerror="));
        assert!(html.contains("&lt;script&gt;document.title=&#x27;pwned-finding&#x27;"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;document.title=&#x27;pwned-evidence&#x27;"));
    }

    #[test]
    fn same_inputs_give_the_same_bytes_except_the_generation_time() {
        // Two separate ingests of every test file: parallel reading and
        // polars' grouping must not change a byte.
        let files: Vec<PathBuf> = ["same-events", "hostile"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(data(dir)).unwrap())
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e != "md"))
            .collect();
        let first = ingest_files(&files);
        let second = ingest_files(&files);
        let findings = [hostile_finding()];
        let a = render(&first, &findings, at(1_800_000_000));
        let b = render(&second, &findings, at(1_800_000_000));
        assert_eq!(a, b);
        let c = render(&first, &findings, at(1_900_000_000));
        assert_ne!(a, c);
        let normalise = |html: &str, generated: DateTime<Utc>| {
            html.replace(
                &generated.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "GENERATED",
            )
            .replace(
                &generated.format("%Y-%m-%d %H:%M:%S").to_string(),
                "GENERATED",
            )
        };
        assert_eq!(
            normalise(&a, at(1_800_000_000)),
            normalise(&c, at(1_900_000_000))
        );
    }

    #[test]
    fn findings_are_summarised_by_severity_and_category() {
        let ingested = ingest_files(&[data("same-events/PT1H.json")]);
        let mut low = hostile_finding();
        low.id = "fedcba9876543210".into();
        low.severity = Severity::Low;
        low.category = Category::BestPractice;
        low.title = "Client secret in use".into();
        let analysis = analysis(&ingested, None);
        let findings = [low, hostile_finding()];
        let view = view(&context(&ingested, &analysis, &findings, None)).unwrap();
        assert_eq!(view.overview.total, 2);
        let counts: Vec<_> = view
            .overview
            .severities
            .iter()
            .map(|s| (s.severity, s.findings))
            .collect();
        assert_eq!(
            counts,
            [
                ("critical", 0),
                ("high", 1),
                ("medium", 0),
                ("low", 1),
                ("info", 0)
            ]
        );
        let categories: Vec<_> = view
            .overview
            .categories
            .iter()
            .map(|c| (c.category, c.total))
            .collect();
        assert_eq!(
            categories,
            [("sensitive-operation", 1), ("best-practice", 1)]
        );
        assert_eq!(
            view.findings[0].finding.severity,
            Severity::High,
            "most severe first"
        );
        assert_eq!(view.findings[0].finding.evidence[0].source, "PT1H.json:6");
    }

    #[test]
    fn an_empty_run_still_renders() {
        let ingested = ingest_files(&[]);
        let html = render(&ingested, &[], at(0));
        assert!(html.contains("No events to chart."));
        assert!(html.contains("No findings: no policy matched any event."));
        assert!(html.contains("No identities"));
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn write_html_writes_report_html() {
        let ingested = ingest_files(&[data("same-events/PT1H.json")]);
        let analysis = analysis(&ingested, None);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/out");
        let ctx = context(&ingested, &analysis, &[], None);
        write_html(&out, &ctx).unwrap();
        let written = std::fs::read_to_string(out.join(HTML_FILE)).unwrap();
        assert_eq!(written, render_html(&ctx).unwrap());
        crate::report::csv::write_csv(&out, &ctx).unwrap();
        let identities =
            std::fs::read_to_string(out.join(crate::report::csv::IDENTITIES_CSV)).unwrap();
        assert!(identities.starts_with("principal_id,display_name,kind,"));
        assert!(identities.contains("dana.admin@contoso.com"));
    }
}
