//! The job's configuration file (`kvaudit run --config kvaudit.toml`).
//!
//! Every option of `kvaudit audit` has a key here, under the same name
//! (`--baseline-days` is `rates.baseline-days`); `kvaudit init` writes
//! [`EXAMPLE`], which names them all. Unknown keys are errors: a misspelt
//! `fail-on` must not turn a failing compliance check into a passing one.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::ValueEnum;
use serde::Deserialize;
use toml::Spanned;

use crate::analyze::policy::PolicyOptions;
use crate::analyze::policy::Severity;
use crate::analyze::rates::RateOptions;
use crate::analyze::trends::{DEFAULT_OPEN_DAYS, DEFAULT_RESOLVE_AFTER_DAYS, Lifecycle};
use crate::ingest::azure_monitor::auth::AuthMode;
use crate::ingest::azure_monitor::client::PUBLIC_ENDPOINT;
use crate::ingest::azure_monitor::{DEFAULT_SINCE, DEFAULT_SLICE, PullOptions};
use crate::logging::LogFormat;
use crate::report::OutputFormat;

/// Where a run writes its reports by default: one directory per run.
pub const DEFAULT_OUT: &str = "reports/{date}T{time}Z";

/// The commented example `kvaudit init` writes.
pub const EXAMPLE: &str = include_str!("kvaudit.example.toml");

/// The `log-format` of a configuration file, read before the rest so that
/// errors in the rest are already written in that format; `None` when the
/// file or the key cannot be read (loading the file then says why).
pub fn log_format_of(file: &Path) -> Option<LogFormat> {
    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    struct Only {
        log_format: Option<LogFormat>,
    }
    let text = std::fs::read_to_string(file).ok()?;
    toml::from_str::<Only>(&text).ok()?.log_format
}

/// A configuration file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    state: PathBuf,
    #[serde(default = "default_out")]
    out: Spanned<String>,
    format: Option<Vec<String>>,
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    fail_on_new_only: bool,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    allow_empty: bool,
    #[serde(default)]
    quiet: bool,
    #[serde(default, alias = "json")]
    jsonl: bool,
    #[serde(default)]
    timings: bool,
    #[serde(default)]
    inventory: Vec<PathBuf>,
    min_observation_days: Option<u32>,
    suppressions: Option<PathBuf>,
    log_format: Option<LogFormat>,
    #[serde(default)]
    sources: RawSources,
    log_analytics: Option<RawLogAnalytics>,
    #[serde(default)]
    policies: RawPolicies,
    #[serde(default)]
    rates: RawRates,
    #[serde(default)]
    history: RawHistory,
    #[serde(default)]
    findings: RawFindings,
}

fn default_out() -> Spanned<String> {
    Spanned::new(0..0, DEFAULT_OUT.to_owned())
}

/// The placeholders `out` may hold.
const OUT_PLACEHOLDERS: [&str; 2] = ["{date}", "{time}"];

/// The first `{...}` in `out` that is not a placeholder kvaudit fills in.
fn unknown_placeholder(out: &str) -> Option<&str> {
    let mut rest = out;
    while let Some(start) = rest.find('{') {
        let tail = &rest[start..];
        let end = tail.find('}').map_or(tail.len(), |i| i + 1);
        let placeholder = &tail[..end];
        if !OUT_PLACEHOLDERS.contains(&placeholder) {
            return Some(placeholder);
        }
        rest = &tail[end..];
    }
    None
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// toml's type errors name Rust types (`expected u32`); say what to write.
fn plain_type_error(message: &str) -> String {
    [
        (
            "expected u32",
            "expected a whole number such as 7, without quotes",
        ),
        (
            "expected a boolean",
            "expected true or false, without quotes",
        ),
        ("expected a string", "expected text in double quotes"),
        (
            "expected a sequence",
            "expected a list in brackets, such as [\"a\", \"b\"]",
        ),
    ]
    .iter()
    .fold(message.to_owned(), |m, (from, to)| m.replace(from, to))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSources {
    #[serde(default)]
    paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLogAnalytics {
    #[serde(default)]
    workspaces: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    since: Option<String>,
    until: Option<String>,
    query: Option<PathBuf>,
    auth: Option<String>,
    endpoint: Option<String>,
    ca_cert: Option<PathBuf>,
    slice: Option<String>,
    latency: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicies {
    #[serde(default)]
    dirs: Vec<PathBuf>,
    #[serde(default = "yes")]
    default_pack: bool,
    entities: Option<PathBuf>,
}

impl Default for RawPolicies {
    fn default() -> Self {
        RawPolicies {
            dirs: Vec::new(),
            default_pack: true,
            entities: None,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRates {
    baseline_days: Option<u32>,
    learning_days: Option<u32>,
    max_secret_age: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawHistory {
    usage_days: Option<u32>,
    runs: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFindings {
    resolve_after_days: Option<u32>,
    open_days: Option<u32>,
}

/// A loaded configuration: paths resolved against the file's directory,
/// values checked.
#[derive(Debug)]
pub struct Config {
    pub file: PathBuf,
    pub state: PathBuf,
    /// Output directory pattern; `{date}` and `{time}` are the run's UTC
    /// date (2026-11-26) and time (061500).
    pub out: String,
    pub formats: Vec<OutputFormat>,
    pub fail_on: Option<Severity>,
    /// `fail-on` counts only new findings, not the open ones of earlier runs.
    pub fail_on_new_only: bool,
    pub strict: bool,
    /// A run that analysed no record exits as it otherwise would, not 4.
    pub allow_empty: bool,
    pub quiet: bool,
    /// Findings as JSON lines on stdout.
    pub jsonl: bool,
    pub timings: bool,
    pub inventory: Vec<PathBuf>,
    pub min_observation_days: u32,
    pub suppressions: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub paths: Vec<String>,
    pub log_analytics: Option<LogAnalytics>,
    pub policies: PolicyOptions,
    pub rates: RateOptions,
    /// Days of permission use kept for the least-privilege analysis.
    pub usage_days: u32,
    /// Runs kept in the trend history.
    pub runs_kept: u32,
    /// How long findings stay open (`[findings]`).
    pub lifecycle: Lifecycle,
}

/// What `kvaudit run`'s command line sets over the file: `None` leaves the
/// file's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub out: Option<String>,
    pub fail_on: Option<Severity>,
    pub strict: Option<bool>,
    pub allow_empty: Option<bool>,
    pub formats: Option<Vec<OutputFormat>>,
    pub jsonl: Option<bool>,
    pub quiet: Option<bool>,
    pub timings: Option<bool>,
}

/// The Log Analytics source: the pull options, and how far behind now the
/// job stops so that late-ingested records are not skipped.
#[derive(Debug)]
pub struct LogAnalytics {
    pub pull: PullOptions,
    pub latency: chrono::Duration,
}

impl Config {
    pub fn load(file: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(file).with_context(|| {
            format!(
                "cannot read the configuration {}; `kvaudit init` writes an example",
                file.display()
            )
        })?;
        Config::parse(&text, file)
    }

    /// Parses `text` as the contents of `file` (relative paths are relative
    /// to the file's directory).
    pub fn parse(text: &str, file: &Path) -> anyhow::Result<Config> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}",
                file.display(),
                plain_type_error(e.to_string().trim_end()).replace("TOML parse error at ", "")
            )
        })?;
        let base = file.parent().unwrap_or(Path::new("")).to_owned();
        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let bad = |key: &str, message: String| -> anyhow::Error {
            anyhow::anyhow!("{}: `{key}`: {message}", file.display())
        };
        let formats = match raw.format {
            None => OutputFormat::DEFAULT.to_vec(),
            Some(names) => names
                .iter()
                .map(|n| OutputFormat::from_str(n, true))
                .collect::<Result<_, _>>()
                .map_err(|_| bad("format", "use json, csv, html and/or sarif".into()))?,
        };
        let at = |key: &str, span: std::ops::Range<usize>, message: String| -> anyhow::Error {
            anyhow::anyhow!(
                "{}: line {}: `{key}`: {message}",
                file.display(),
                line_of(text, span.start)
            )
        };
        let fail_on = raw
            .fail_on
            .map(|s| {
                s.get_ref()
                    .parse::<Severity>()
                    .map_err(|e| at("fail-on", s.span(), e))
            })
            .transpose()?;
        if let Some(placeholder) = unknown_placeholder(raw.out.get_ref()) {
            bail!(at(
                "out",
                raw.out.span(),
                format!(
                    "`{placeholder}` is not a placeholder kvaudit fills in; use {{date}} (the run's UTC date, 2026-11-26) and {{time}} (its UTC time, 061500)"
                )
            ));
        }
        let log_analytics = raw
            .log_analytics
            .map(|la| -> anyhow::Result<LogAnalytics> {
                if la.workspaces.is_empty() && la.resources.is_empty() {
                    bail!(bad(
                        "log-analytics.workspaces",
                        "name at least one workspace ID (or a vault's resource ID in \
                         `resources`), or remove [log-analytics]"
                            .into()
                    ));
                }
                let auth = match &la.auth {
                    None => AuthMode::Auto,
                    Some(a) => AuthMode::from_str(a, true).map_err(|_| {
                        bad(
                            "log-analytics.auth",
                            format!(
                                "`{a}`: use auto, managed-identity, workload-identity, azure-cli or client-secret"
                            ),
                        )
                    })?,
                };
                let latency = match &la.latency {
                    None => chrono::Duration::minutes(15),
                    Some(text) => crate::ingest::azure_monitor::query::parse_duration_arg(text)
                        .map_err(|e| bad("log-analytics.latency", format!("{e:#}")))?,
                };
                Ok(LogAnalytics {
                    pull: PullOptions {
                        workspaces: la.workspaces.into_iter().chain(la.resources).collect(),
                        since: la.since.unwrap_or_else(|| DEFAULT_SINCE.to_owned()),
                        until: la.until,
                        query: la.query.as_deref().map(resolve),
                        auth,
                        endpoint: la
                            .endpoint
                            .unwrap_or_else(|| PUBLIC_ENDPOINT.to_owned()),
                        ca_cert: la.ca_cert.as_deref().map(resolve),
                        slice: la.slice.unwrap_or_else(|| DEFAULT_SLICE.to_owned()),
                    },
                    latency,
                })
            })
            .transpose()?;
        let paths: Vec<String> = raw
            .sources
            .paths
            .iter()
            .map(|p| resolve(Path::new(p)).display().to_string())
            .collect();
        if paths.is_empty() && log_analytics.is_none() {
            bail!(
                "{}: no sources: set `sources.paths` (log files, directories, globs) or a [log-analytics] workspace",
                file.display()
            );
        }
        let defaults = RateOptions::default();
        let days = |v: Option<u32>, default: i64| v.map_or(default, i64::from);
        let config = Config {
            file: file.to_owned(),
            state: resolve(&raw.state),
            out: resolve(Path::new(raw.out.get_ref())).display().to_string(),
            formats,
            fail_on,
            fail_on_new_only: raw.fail_on_new_only,
            strict: raw.strict,
            allow_empty: raw.allow_empty,
            quiet: raw.quiet,
            jsonl: raw.jsonl,
            timings: raw.timings,
            inventory: raw.inventory.iter().map(|p| resolve(p)).collect(),
            min_observation_days: raw
                .min_observation_days
                .unwrap_or(crate::analyze::privilege::DEFAULT_MIN_OBSERVATION_DAYS),
            suppressions: raw.suppressions.as_deref().map(resolve),
            log_format: raw.log_format,
            paths,
            log_analytics,
            policies: PolicyOptions {
                default_pack: raw.policies.default_pack,
                dirs: raw.policies.dirs.iter().map(|p| resolve(p)).collect(),
                entities_file: raw.policies.entities.as_deref().map(resolve),
            },
            rates: RateOptions {
                baseline_days: days(raw.rates.baseline_days, defaults.baseline_days),
                learning_days: days(raw.rates.learning_days, defaults.learning_days),
                max_secret_age_days: days(raw.rates.max_secret_age, defaults.max_secret_age_days),
            },
            usage_days: raw.history.usage_days.unwrap_or(90),
            runs_kept: raw.history.runs.unwrap_or(90),
            lifecycle: Lifecycle {
                resolve_after_days: raw
                    .findings
                    .resolve_after_days
                    .unwrap_or(DEFAULT_RESOLVE_AFTER_DAYS),
                open_days: raw.findings.open_days.unwrap_or(DEFAULT_OPEN_DAYS),
            },
        };
        if config.lifecycle.resolve_after_days < 1 {
            bail!(bad(
                "findings.resolve-after-days",
                "must be at least 1".into()
            ));
        }
        if config.lifecycle.open_days < 1 {
            bail!(bad("findings.open-days", "must be at least 1".into()));
        }
        if config.rates.baseline_days < 1 {
            bail!(bad("rates.baseline-days", "must be at least 1".into()));
        }
        Ok(config)
    }

    /// The file's settings with the command line's over them.
    pub fn with(mut self, overrides: Overrides) -> Config {
        if let Some(out) = overrides.out {
            self.out = out;
        }
        self.fail_on = overrides.fail_on.or(self.fail_on);
        self.strict = overrides.strict.unwrap_or(self.strict);
        self.allow_empty = overrides.allow_empty.unwrap_or(self.allow_empty);
        self.formats = overrides.formats.unwrap_or(self.formats);
        self.jsonl = overrides.jsonl.unwrap_or(self.jsonl);
        self.quiet = overrides.quiet.unwrap_or(self.quiet);
        self.timings = overrides.timings.unwrap_or(self.timings);
        self
    }

    /// The output directory of a run at `now`: the `out` pattern filled in,
    /// and where that directory already holds a report (an earlier run of
    /// the same day with `{date}` alone, two runs in one second), the first
    /// free `-2`, `-3`, ... beside it: a run never replaces a report.
    pub fn out_dir(&self, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
        let date: NaiveDate = now.date_naive();
        let named = PathBuf::from(
            self.out
                .replace("{date}", &date.format("%Y-%m-%d").to_string())
                .replace("{time}", &now.format("%H%M%S").to_string()),
        );
        let holds_a_report =
            |dir: &Path| std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
        if !holds_a_report(&named) {
            return named;
        }
        (2u32..)
            .map(|n| {
                let mut name = named.as_os_str().to_owned();
                name.push(format!("-{n}"));
                PathBuf::from(name)
            })
            .find(|dir| !holds_a_report(dir))
            .unwrap_or(named)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(text, Path::new("/etc/kvaudit/kvaudit.toml"))
    }

    #[test]
    fn the_example_is_a_valid_configuration() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.state, Path::new("/etc/kvaudit/state"));
        assert_eq!(config.fail_on, Some(Severity::High));
        assert_eq!(config.rates, RateOptions::default());
    }

    /// Each `audit` option and the key that stands for it; a new option
    /// without a key (or a key missing from the example) fails here.
    #[test]
    fn every_audit_option_has_a_key_in_the_example() {
        use clap::CommandFactory;
        let keys: BTreeMap<&str, &str> = BTreeMap::from([
            ("paths", "paths"),
            ("workspace", "workspaces"),
            ("resource", "resources"),
            ("since", "since"),
            ("until", "until"),
            ("query", "query"),
            ("auth", "auth"),
            ("endpoint", "endpoint"),
            ("ca-cert", "ca-cert"),
            ("slice", "slice"),
            ("out", "out"),
            ("policies", "dirs"),
            ("no-default-policies", "default-pack"),
            ("entities", "entities"),
            ("baseline-days", "baseline-days"),
            ("learning-days", "learning-days"),
            ("max-secret-age", "max-secret-age"),
            ("fail-on", "fail-on"),
            ("strict", "strict"),
            ("allow-empty", "allow-empty"),
            ("format", "format"),
            ("jsonl", "jsonl"),
            ("quiet", "quiet"),
            ("timings", "timings"),
            ("inventory", "inventory"),
            ("min-observation-days", "min-observation-days"),
            ("log-format", "log-format"),
        ]);
        let cli = crate::cli::Cli::command();
        let audit = cli.find_subcommand("audit").unwrap();
        let options: Vec<String> = audit
            .get_arguments()
            .filter(|a| a.get_id() != "help")
            .map(|a| a.get_long().unwrap_or(a.get_id().as_str()).to_owned())
            .collect();
        // The job keeps every event of its recent days as history (first
        // sightings, sequences and baselines read them), which is what
        // --pushdown avoids pulling: the two do not combine (README).
        let not_in_the_job = ["pushdown"];
        for option in options
            .iter()
            .filter(|o| !not_in_the_job.contains(&o.as_str()))
        {
            let key = keys
                .get(option.as_str())
                .unwrap_or_else(|| panic!("`--{option}` has no configuration key"));
            let written = EXAMPLE.lines().any(|line| {
                line.trim_start_matches(['#', ' '])
                    .starts_with(&format!("{key} ="))
            });
            assert!(
                written,
                "the example does not show `{key}` (for --{option})"
            );
        }
        assert!(options.len() >= 20, "{options:?}");
    }

    #[test]
    fn the_deployment_guide_shows_a_valid_configuration() {
        // Read, not embedded: the image's build context holds no docs/.
        let guide =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deployment.md"))
                .unwrap();
        let block = guide
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("docs/deployment.md opens with a toml block");
        let config = parse(block).unwrap();
        assert!(config.log_analytics.is_some());
        assert_eq!(config.fail_on, Some(Severity::High));
    }

    #[test]
    fn an_unknown_key_names_the_key_the_line_and_the_file() {
        let error = parse("state = \"s\"\nfail_on = \"high\"\n[sources]\npaths = [\"logs\"]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("/etc/kvaudit/kvaudit.toml"), "{error}");
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("unknown field `fail_on`"), "{error}");
        let nested = parse("state = \"s\"\n[sources]\npaths = [\"logs\"]\n[rates]\nbaseline = 3\n")
            .unwrap_err()
            .to_string();
        assert!(nested.contains("unknown field `baseline`"), "{nested}");
        assert!(nested.contains("line 5"), "{nested}");
    }

    #[test]
    fn values_are_checked_with_the_key_named() {
        let error = parse("state = \"s\"\nfail-on = \"severe\"\n[sources]\npaths = [\"l\"]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 2: `fail-on`"), "{error}");
        assert!(error.contains("unknown severity `severe`"), "{error}");
        assert!(
            error.contains("info, low, medium, high, critical"),
            "{error}"
        );
        let error = parse("state = \"s\"\n").unwrap_err().to_string();
        assert!(error.contains("no sources"), "{error}");
    }

    #[test]
    fn a_value_of_the_wrong_type_says_what_to_write() {
        let sources = "[sources]\npaths = [\"l\"]\n";
        let error = parse(&format!(
            "state = \"s\"\n{sources}[rates]\nbaseline-days = \"7\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(error.contains("line 5"), "{error}");
        assert!(
            error.contains("expected a whole number such as 7, without quotes"),
            "{error}"
        );
        assert!(!error.contains("u32"), "{error}");
        let error = parse(&format!("state = \"s\"\nstrict = \"yes\"\n{sources}"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected true or false"), "{error}");
    }

    #[test]
    fn an_unknown_placeholder_in_out_is_refused_with_its_line() {
        let error = parse("state = \"s\"\n\nout = \"reports/{day}\"\n[sources]\npaths = [\"l\"]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 3: `out`"), "{error}");
        assert!(error.contains("`{day}` is not a placeholder"), "{error}");
        assert!(error.contains("{date}"), "{error}");
        assert_eq!(unknown_placeholder("reports/{date}T{time}Z"), None);
        assert_eq!(unknown_placeholder("reports/{date"), Some("{date"));
        assert_eq!(unknown_placeholder("r/{time}/{run}"), Some("{run}"));
    }

    #[test]
    fn sarif_is_a_format_to_ask_for_and_not_a_default() {
        let sources = "[sources]\npaths = [\"l\"]\n";
        let config = parse(&format!("state = \"s\"\nformat = [\"sarif\"]\n{sources}")).unwrap();
        assert_eq!(config.formats, [OutputFormat::Sarif]);
        let config = parse(&format!("state = \"s\"\n{sources}")).unwrap();
        assert!(!config.formats.contains(&OutputFormat::Sarif));
        let error = parse(&format!("state = \"s\"\nformat = [\"xml\"]\n{sources}"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`format`") && error.contains("sarif"),
            "{error}"
        );
    }

    #[test]
    fn relative_paths_are_relative_to_the_file_and_out_takes_the_date() {
        let config = parse(
            "state = \"state\"\nout = \"reports/{date}\"\ninventory = [\"/abs/inv\"]\n[sources]\npaths = [\"logs/*.json\"]\n",
        )
        .unwrap();
        assert_eq!(config.paths, ["/etc/kvaudit/logs/*.json"]);
        assert_eq!(config.inventory, [PathBuf::from("/abs/inv")]);
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T06:15:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            config.out_dir(now),
            Path::new("/etc/kvaudit/reports/2026-11-26")
        );
    }

    #[test]
    fn each_run_has_its_own_directory_and_never_replaces_a_report() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kvaudit.toml");
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc();
        let default = Config::parse("state = \"s\"\n[sources]\npaths = [\"l\"]\n", &file).unwrap();
        let morning = default.out_dir(at("2026-11-26T06:15:00Z"));
        assert_eq!(morning, dir.path().join("reports/2026-11-26T061500Z"));
        assert_ne!(morning, default.out_dir(at("2026-11-26T18:15:00Z")));

        let daily = Config::parse(
            "state = \"s\"\nout = \"reports/{date}\"\n[sources]\npaths = [\"l\"]\n",
            &file,
        )
        .unwrap();
        let first = daily.out_dir(at("2026-11-26T06:15:00Z"));
        assert_eq!(first, dir.path().join("reports/2026-11-26"));
        std::fs::create_dir_all(&first).unwrap();
        assert_eq!(
            daily.out_dir(at("2026-11-26T18:15:00Z")),
            first,
            "an empty directory is free"
        );
        std::fs::write(first.join("summary.json"), "{}").unwrap();
        let second = daily.out_dir(at("2026-11-26T18:15:00Z"));
        assert_eq!(second, dir.path().join("reports/2026-11-26-2"));
        std::fs::create_dir_all(&second).unwrap();
        std::fs::write(second.join("summary.json"), "{}").unwrap();
        assert_eq!(
            daily.out_dir(at("2026-11-26T23:00:00Z")),
            dir.path().join("reports/2026-11-26-3")
        );
    }
}
