//! Suppressions: findings the organisation has accepted, each for a reason,
//! by an owner, until a date.
//!
//! The scheduled job reads them from a TOML file:
//!
//! ```toml
//! [[suppress]]
//! rule = "kv-secret-read-without-caching"   # rule id; glob (`*`, `?`, `[...]`)
//! principal = "0c2d*"     # optional glob: object id, display name or principal key
//! vault = "kv-prod-*"     # optional glob
//! object = "db-password"  # optional glob
//! reason = "Legacy batch job, replaced in Q1"
//! owner = "alice@contoso.com"
//! expires = 2027-01-31    # a TOML date or "YYYY-MM-DD"
//! ```
//!
//! A suppression is live up to and including its `expires` day. A live one
//! moves the findings it matches out of the active list, but never out of
//! the report: they are counted and listed with the suppression that took
//! them. An expired one suppresses nothing, so its findings come back, and
//! it is itself reported so that its owner renews or removes it.
//!
//! Patterns match case-insensitively: Azure treats vault, secret, key and
//! certificate names, UPNs and object ids without regard to case, so a
//! suppression written `KV-Prod-*` must not silently miss `kv-prod-web`.
//!
//! Mistakes in the file are errors, never ignored keys: a misspelt
//! `expiry` would otherwise make a suppression that never expires.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use chrono::NaiveDate;
use glob::{MatchOptions, Pattern};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::policy::Finding;
use super::policy::findings::{finding_id, sort_findings};

/// What a `[[suppress]]` entry takes, for error messages.
const FORMAT_HINT: &str = "a [[suppress]] entry takes `rule`, `reason`, `owner`, `expires` \
    (a date such as 2027-01-31) and optionally `principal`, `vault`, `object`";

const MATCH_OPTIONS: MatchOptions = MatchOptions {
    case_sensitive: false,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// One accepted finding pattern, as written in the file (and where).
#[derive(Debug, Clone, Serialize)]
pub struct Suppression {
    /// Rule id glob.
    pub rule: String,
    /// Glob over the finding's principal object id, display name or principal key.
    pub principal: Option<String>,
    pub vault: Option<String>,
    pub object: Option<String>,
    pub reason: String,
    pub owner: String,
    /// Last day on which the suppression applies.
    pub expires: NaiveDate,
    pub file: PathBuf,
    /// Line of the entry's `[[suppress]]` header (1-based).
    pub line: usize,
    #[serde(skip)]
    patterns: Patterns,
}

#[derive(Debug, Clone)]
struct Patterns {
    rule: Pattern,
    principal: Option<Pattern>,
    vault: Option<Pattern>,
    object: Option<Pattern>,
}

impl Suppression {
    /// Whether it still applies on `today`.
    pub fn is_live(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }

    /// `file:line`, where the entry is written.
    pub fn source(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }

    /// Whether it covers `subject`, whose principal key is `principal_key`
    /// (when it could be recovered).
    fn matches(&self, subject: &Subject<'_>, principal_key: Option<&str>) -> bool {
        let p = &self.patterns;
        let matches = |pattern: &Pattern, value: &str| pattern.matches_with(value, MATCH_OPTIONS);
        matches(&p.rule, subject.rule)
            && p.vault.as_ref().is_none_or(|v| matches(v, subject.vault))
            && p.object.as_ref().is_none_or(|o| match subject.object {
                Some(object) => matches(o, object),
                // A vault-level finding is about no object: only a pattern
                // that accepts anything at all covers it.
                None => o.as_str() == "*",
            })
            && p.principal.as_ref().is_none_or(|pattern| {
                [subject.principal, subject.principal_name, principal_key]
                    .into_iter()
                    .flatten()
                    .any(|value| matches(pattern, value))
            })
    }
}

/// What a suppression is matched against: a finding of this run, or one the
/// scheduled job carries from an earlier run (of which it keeps only these).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: &'a str,
    pub rule: &'a str,
    pub vault: &'a str,
    pub object: Option<&'a str>,
    pub principal: Option<&'a str>,
    pub principal_name: Option<&'a str>,
    pub principal_kind: &'a str,
}

impl<'a> Subject<'a> {
    pub fn of(finding: &'a Finding) -> Subject<'a> {
        Subject {
            id: &finding.id,
            rule: &finding.rule,
            vault: &finding.vault,
            object: finding.object.as_deref(),
            principal: finding.principal.as_deref(),
            principal_name: finding.principal_name.as_deref(),
            principal_kind: &finding.principal_kind,
        }
    }
}

/// A finding a live suppression took out of the active list.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressedFinding {
    pub finding: Finding,
    /// Index into [`Suppressions::entries`].
    pub suppression: usize,
}

/// A suppression past its `expires` day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredSuppression {
    /// Index into [`Suppressions::entries`].
    pub suppression: usize,
    /// Findings of this run it matches, which are active again because it expired.
    pub findings: usize,
}

/// A run's findings after the suppressions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The day the suppressions were judged live or expired on.
    pub today: NaiveDate,
    /// Findings no live suppression covers, sorted like `findings.json`.
    pub findings: Vec<Finding>,
    /// Findings a live suppression covers, in the same order.
    pub suppressed: Vec<SuppressedFinding>,
    /// Every expired suppression, in file order.
    pub expired: Vec<ExpiredSuppression>,
    /// Live suppressions that match no finding of this run (indices, file order).
    pub unused: Vec<usize>,
}

/// The suppressions of a run, in file order.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub entries: Vec<Suppression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    suppress: Vec<Spanned<RawSuppression>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    rule: Spanned<String>,
    principal: Option<Spanned<String>>,
    vault: Option<Spanned<String>>,
    object: Option<Spanned<String>>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    expires: Spanned<toml::Value>,
}

/// The file being read, for errors that point at a line of it.
struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: Range<usize>, message: &str) -> anyhow::Error {
        anyhow!(
            "{}:{}: {message}",
            self.file.display(),
            self.line(span.start)
        )
    }

    /// The value, unless it is blank; `advice` says what to write instead.
    fn non_empty<'v>(
        &self,
        key: &str,
        value: &'v Spanned<String>,
        advice: &str,
    ) -> anyhow::Result<&'v str> {
        let text = value.get_ref();
        if text.trim().is_empty() {
            return Err(self.error(value.span(), &format!("`{key}` is empty: {advice}")));
        }
        Ok(text)
    }

    fn pattern(&self, key: &str, value: &Spanned<String>) -> anyhow::Result<Pattern> {
        let text = self.non_empty(
            key,
            value,
            &format!("write a pattern (`*` matches anything) or leave `{key}` out"),
        )?;
        Pattern::new(text).map_err(|e| {
            self.error(
                value.span(),
                &format!(
                    "`{key}` is not a valid pattern ({}): use `*`, `?` and `[...]` only, and close every `[`",
                    e.msg
                ),
            )
        })
    }

    fn required_text(&self, key: &str, value: &Spanned<String>) -> anyhow::Result<String> {
        let text = self.non_empty(
            key,
            value,
            "every suppression needs a `reason` and an `owner`, so that someone answers for it",
        )?;
        Ok(text.to_owned())
    }

    fn expiry_date(&self, value: &Spanned<toml::Value>) -> anyhow::Result<NaiveDate> {
        let date = match value.get_ref() {
            toml::Value::Datetime(datetime)
                if datetime.time.is_none() && datetime.offset.is_none() =>
            {
                datetime.date.and_then(|d| {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                })
            }
            toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
            _ => None,
        };
        date.ok_or_else(|| {
            self.error(
                value.span(),
                "`expires` is not a date: write the last day the suppression applies, e.g. `expires = 2027-01-31`",
            )
        })
    }
}

impl Suppressions {
    /// Reads a suppressions file.
    pub fn load(path: &Path) -> anyhow::Result<Suppressions> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the suppressions file {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses the text of a suppressions file; `file` names it in errors and
    /// in each entry's source.
    pub fn parse(text: &str, file: &Path) -> anyhow::Result<Suppressions> {
        let source = Source { file, text };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end_matches('\n');
            // Missing and unknown keys are what people get wrong in a file
            // that parses: say what an entry takes. A syntax error speaks for itself.
            let message = if message.contains("field `") {
                format!("{message}: {FORMAT_HINT}")
            } else {
                message.to_owned()
            };
            match e.span() {
                Some(span) => source.error(span, &message),
                None => anyhow!("{}: {message}", file.display()),
            }
        })?;
        let entries = raw
            .suppress
            .into_iter()
            .map(|entry| {
                let line = source.line(entry.span().start);
                let raw = entry.into_inner();
                let optional = |key: &str, value: &Option<Spanned<String>>| {
                    value.as_ref().map(|v| source.pattern(key, v)).transpose()
                };
                let patterns = Patterns {
                    rule: source.pattern("rule", &raw.rule)?,
                    principal: optional("principal", &raw.principal)?,
                    vault: optional("vault", &raw.vault)?,
                    object: optional("object", &raw.object)?,
                };
                Ok(Suppression {
                    expires: source.expiry_date(&raw.expires)?,
                    reason: source.required_text("reason", &raw.reason)?,
                    owner: source.required_text("owner", &raw.owner)?,
                    rule: raw.rule.into_inner(),
                    principal: raw.principal.map(Spanned::into_inner),
                    vault: raw.vault.map(Spanned::into_inner),
                    object: raw.object.map(Spanned::into_inner),
                    file: file.to_owned(),
                    line,
                    patterns,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Suppressions { entries })
    }

    /// Refuses an entry whose `rule` matches none of the `known` rule ids:
    /// a misspelt rule would suppress nothing, and its findings would fail
    /// the gate with a suppression apparently written for them.
    pub fn check_rules(&self, known: &[&str]) -> anyhow::Result<()> {
        for entry in &self.entries {
            if known
                .iter()
                .any(|id| entry.patterns.rule.matches_with(id, MATCH_OPTIONS))
            {
                continue;
            }
            let closest = known
                .iter()
                .map(|id| {
                    (
                        strsim::jaro_winkler(&entry.rule.to_ascii_lowercase(), id),
                        *id,
                    )
                })
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, id)| format!(" (did you mean `{id}`?)"))
                .unwrap_or_default();
            anyhow::bail!(
                "{}: `rule = \"{}\"` matches no rule kvaudit runs{closest}; a rule is the @id of a \
                 policy (policies/*.cedar and those given with --policies) or one of the \
                 least-privilege rules (unused-permission, dormant-grant, \
                 access-policy-escalation, unused-permission-no-data)",
                entry.source(),
                entry.rule
            );
        }
        Ok(())
    }

    /// The first live suppression that covers `subject` on `today`: the one
    /// [`Suppressions::apply`] would give it to.
    pub fn live_cover(&self, subject: &Subject<'_>, today: NaiveDate) -> Option<usize> {
        let key = principal_key(subject);
        self.entries
            .iter()
            .position(|s| s.is_live(today) && s.matches(subject, key.as_deref()))
    }

    /// Splits `findings` into active and suppressed as of `today`.
    ///
    /// A finding goes to the first live suppression in file order that
    /// covers it. Expired suppressions take nothing; each is reported with
    /// the number of findings it matches. A live suppression that matches no
    /// finding (not even one an earlier entry took) is reported as unused.
    pub fn apply(&self, mut findings: Vec<Finding>, today: NaiveDate) -> Applied {
        sort_findings(&mut findings);
        let mut matched = vec![0usize; self.entries.len()];
        let mut applied = Applied {
            today,
            ..Applied::default()
        };
        for finding in findings {
            let subject = Subject::of(&finding);
            let key = principal_key(&subject);
            let mut taken_by = None;
            for (i, suppression) in self.entries.iter().enumerate() {
                if suppression.matches(&subject, key.as_deref()) {
                    matched[i] += 1;
                    if taken_by.is_none() && suppression.is_live(today) {
                        taken_by = Some(i);
                    }
                }
            }
            match taken_by {
                Some(suppression) => applied.suppressed.push(SuppressedFinding {
                    finding,
                    suppression,
                }),
                None => applied.findings.push(finding),
            }
        }
        for (i, suppression) in self.entries.iter().enumerate() {
            if !suppression.is_live(today) {
                applied.expired.push(ExpiredSuppression {
                    suppression: i,
                    findings: matched[i],
                });
            } else if matched[i] == 0 {
                applied.unused.push(i);
            }
        }
        applied
    }
}

/// The principal key a finding was grouped by (`oid`, `app:<appid>`,
/// `unauthenticated`, ...), which the finding does not carry: each possible
/// key is checked against the finding id, which is a hash of it. `None` for
/// an app-only caller known by a display name instead of its app id.
fn principal_key(subject: &Subject<'_>) -> Option<String> {
    let candidates = subject
        .principal
        .map(str::to_owned)
        .into_iter()
        .chain(subject.principal_name.map(|n| format!("app:{n}")))
        .chain([subject.principal_kind.to_owned(), "unknown".to_owned()]);
    candidates
        .into_iter()
        .find(|key| finding_id(subject.rule, key, subject.vault, subject.object) == subject.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::sample_findings::{
        a_day, client_secret_credential, finding, legacy_app, purge,
    };

    const FILE: &str = "kvaudit-suppressions.toml";

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn parse(text: &str) -> Suppressions {
        Suppressions::parse(text, Path::new(FILE)).unwrap()
    }

    fn error(text: &str) -> String {
        format!(
            "{:#}",
            Suppressions::parse(text, Path::new(FILE)).unwrap_err()
        )
    }

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    const BATCH_JOB: &str = r#"
# Accepted until the batch job is replaced.
[[suppress]]
rule = "kv-secret-read-without-caching"
principal = "0c2d*"
vault = "kv-prod-*"
object = "db-password"
reason = "Legacy batch job, replaced in Q1"
owner = "alice@contoso.com"
expires = 2027-01-31
"#;

    #[test]
    fn reads_every_key_and_where_each_entry_is() {
        let s = parse(&format!(
            "{BATCH_JOB}\n[[suppress]]\nrule = \"kv-purge\"\nreason = \"sandbox\"\nowner = \"bob\"\nexpires = \"2026-12-01\"\n"
        ));
        assert_eq!(s.entries.len(), 2);
        let first = &s.entries[0];
        assert_eq!(first.rule, "kv-secret-read-without-caching");
        assert_eq!(first.principal.as_deref(), Some("0c2d*"));
        assert_eq!(first.object.as_deref(), Some("db-password"));
        assert_eq!(first.expires, day("2027-01-31"));
        assert_eq!(first.source(), format!("{FILE}:3"));
        let second = &s.entries[1];
        assert_eq!(second.expires, day("2026-12-01"), "a date as a string");
        assert_eq!((second.principal.as_ref(), second.line), (None, 12));
        assert!(parse("").entries.is_empty());
    }

    #[test]
    fn a_live_suppression_moves_its_finding_and_nothing_else() {
        let s = parse(BATCH_JOB);
        let applied = s.apply(a_day(), day("2026-11-21"));
        assert_eq!(applied.suppressed.len(), 1);
        let taken = &applied.suppressed[0];
        assert_eq!(taken.suppression, 0);
        assert_eq!(taken.finding.object.as_deref(), Some("db-password"));
        assert_eq!(applied.findings.len(), 4, "smtp-password is another object");
        assert!(
            applied
                .findings
                .iter()
                .all(|f| f.object.as_deref() != Some("db-password"))
        );
        assert_eq!(
            applied.findings[0].severity,
            crate::analyze::policy::Severity::High
        );
        assert!(applied.expired.is_empty() && applied.unused.is_empty());
    }

    #[test]
    fn a_suppression_applies_on_its_last_day_and_resurfaces_the_day_after() {
        let s = parse(BATCH_JOB);
        let last_day = s.apply(a_day(), day("2027-01-31"));
        assert_eq!(last_day.suppressed.len(), 1);
        assert!(last_day.expired.is_empty());

        let after = s.apply(a_day(), day("2027-02-01"));
        assert!(
            after.suppressed.is_empty(),
            "an expired suppression takes nothing"
        );
        assert_eq!(after.findings.len(), 5);
        assert!(
            after
                .findings
                .iter()
                .any(|f| f.object.as_deref() == Some("db-password")),
            "the finding is active again"
        );
        assert_eq!(
            after.expired,
            [ExpiredSuppression {
                suppression: 0,
                findings: 1
            }]
        );
        assert!(after.unused.is_empty(), "expired is not also unused");
    }

    #[test]
    fn principal_matches_object_id_name_or_key_and_patterns_ignore_case() {
        let findings = a_day();
        let count = |principal: &str| {
            let text = format!(
                "[[suppress]]\nrule = \"*\"\nprincipal = \"{principal}\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n"
            );
            parse(&text)
                .apply(findings.clone(), day("2026-11-21"))
                .suppressed
                .len()
        };
        assert_eq!(count("0c2d4e6f-*"), 2, "object id");
        assert_eq!(count("payroll-batch"), 2, "display name");
        assert_eq!(count("DANA.ADMIN@contoso.com"), 2, "name, any case");
        assert_eq!(count("app:1f0e2d3c-*"), 1, "the app-only caller's key");
        assert_eq!(count("service-principal"), 0, "the kind is not a key here");
        assert_eq!(count("nobody"), 0);
    }

    #[test]
    fn the_key_of_an_unauthenticated_caller_is_recovered_from_the_id() {
        let who = crate::analyze::policy::findings::Who {
            key: "unauthenticated".into(),
            object_id: None,
            name: None,
            kind: "unauthenticated".into(),
        };
        let f = finding(&purge(), &who, "kv-a", None, "SecretPurge", 1);
        assert_eq!(
            principal_key(&Subject::of(&f)).as_deref(),
            Some("unauthenticated")
        );
        let app = finding(
            &client_secret_credential(),
            &legacy_app(),
            "kv-a",
            None,
            "SecretGet",
            1,
        );
        assert_eq!(
            principal_key(&Subject::of(&app)).as_deref(),
            Some("app:1f0e2d3c-aaaa-4bbb-8ccc-ddddeeeeffff")
        );
        let mut renamed = app.clone();
        renamed.principal_name = Some("Legacy Payroll".into());
        assert_eq!(
            principal_key(&Subject::of(&renamed)),
            None,
            "the app id is not in the finding"
        );
    }

    #[test]
    fn rule_vault_and_object_patterns() {
        let findings = a_day();
        let suppressed = |lines: &str| {
            let text = format!(
                "[[suppress]]\n{lines}\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n"
            );
            let applied = parse(&text).apply(findings.clone(), day("2026-11-21"));
            applied
                .suppressed
                .iter()
                .map(|s| s.finding.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(&suppressed("rule = \"kv-secret-read-*\"")),
            ["kv-secret-read-without-caching"; 2]
        );
        assert_eq!(suppressed("rule = \"kv-purg?\"").len(), 1);
        assert_eq!(suppressed("rule = \"*\"\nvault = \"kv-prod-*\"").len(), 4);
        assert_eq!(suppressed("rule = \"*\"\nobject = \"*-password\"").len(), 2);
        // Vault-level findings (client secret, human read) have no object:
        // only `*` covers them.
        assert_eq!(suppressed("rule = \"*\"\nobject = \"*\"").len(), 5);
        assert_eq!(suppressed("rule = \"*\"\nobject = \"?*\"").len(), 3);
        assert_eq!(
            suppressed("rule = \"kv-purge\"\nvault = \"kv-prod-*\"").len(),
            0
        );
    }

    #[test]
    fn the_first_live_entry_takes_a_finding_and_unused_ones_are_listed() {
        let text = format!(
            "{BATCH_JOB}
[[suppress]]
rule = \"kv-secret-read-*\"
reason = \"all cached reads accepted\"
owner = \"bob@contoso.com\"
expires = 2027-06-30

[[suppress]]
rule = \"kv-vault-delete\"
reason = \"decommissioning\"
owner = \"bob@contoso.com\"
expires = 2027-06-30

[[suppress]]
rule = \"kv-purge\"
reason = \"was accepted once\"
owner = \"bob@contoso.com\"
expires = 2026-01-01
"
        );
        let applied = parse(&text).apply(a_day(), day("2026-11-21"));
        let by: Vec<_> = applied
            .suppressed
            .iter()
            .map(|s| (s.finding.object.as_deref(), s.suppression))
            .collect();
        assert_eq!(by, [(Some("db-password"), 0), (Some("smtp-password"), 1)]);
        assert_eq!(applied.unused, [2], "kv-vault-delete matched nothing");
        assert_eq!(
            applied.expired,
            [ExpiredSuppression {
                suppression: 3,
                findings: 1
            }]
        );
        assert_eq!(
            applied.findings.len(),
            3,
            "the purge is active: its suppression expired"
        );
    }

    #[test]
    fn missing_reason_names_file_line_and_what_to_write() {
        let e = error(
            "[[suppress]]\nrule = \"kv-purge\"\nowner = \"o\"\nexpires = 2027-01-31\n\n[[suppress]]\nrule = \"kv-backup\"\nowner = \"o\"\nexpires = 2027-01-31\n",
        );
        assert!(e.starts_with(&format!("{FILE}:1: ")), "{e}");
        assert!(e.contains("missing field `reason`"), "{e}");
        assert!(e.contains("`reason`, `owner`, `expires`"), "{e}");
    }

    #[test]
    fn unknown_key_names_the_key_and_its_line() {
        let e = error(&BATCH_JOB.replace("expires =", "expiry ="));
        assert!(e.starts_with(&format!("{FILE}:10: ")), "{e}");
        assert!(e.contains("unknown field `expiry`"), "{e}");
        let e = error("[[supress]]\nrule = \"x\"\n");
        assert!(e.contains("unknown field `supress`"), "{e}");
    }

    #[test]
    fn empty_values_bad_patterns_and_bad_dates_are_errors_at_their_line() {
        let cases = [
            (
                "reason = \"Legacy batch job, replaced in Q1\"",
                "reason = \"  \"",
                8,
                "`reason` is empty",
            ),
            (
                "owner = \"alice@contoso.com\"",
                "owner = \"\"",
                9,
                "`owner` is empty",
            ),
            (
                "vault = \"kv-prod-*\"",
                "vault = \"\"",
                6,
                "`vault` is empty",
            ),
            (
                "object = \"db-password\"",
                "object = \"db-[pass\"",
                7,
                "`object` is not a valid pattern",
            ),
            (
                "expires = 2027-01-31",
                "expires = 2027-02-30",
                10,
                "invalid date",
            ),
            (
                "expires = 2027-01-31",
                "expires = \"31/01/2027\"",
                10,
                "`expires` is not a date",
            ),
            (
                "expires = 2027-01-31",
                "expires = 2027-01-31T00:00:00Z",
                10,
                "`expires` is not a date",
            ),
            (
                "expires = 2027-01-31",
                "expires = 20270131",
                10,
                "`expires` is not a date",
            ),
        ];
        for (from, to, line, message) in cases {
            let text = BATCH_JOB.replace(from, to);
            assert_ne!(text, BATCH_JOB);
            let e = error(&text);
            assert!(
                e.starts_with(&format!("{FILE}:{line}: {message}")),
                "{to}: {e}"
            );
        }
    }

    #[test]
    fn load_names_a_missing_file() {
        let e = Suppressions::load(Path::new("/nonexistent/suppressions.toml")).unwrap_err();
        assert!(
            format!("{e:#}")
                .contains("cannot read the suppressions file /nonexistent/suppressions.toml")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, BATCH_JOB).unwrap();
        let loaded = Suppressions::load(&path).unwrap();
        assert_eq!(loaded.entries[0].file, path);
    }
}
