//! Loading policies: the default pack embedded in the binary, the teams' own
//! policy directories, the schema, and annotation checks that point at the
//! file and line of the problem.
//!
//! Policy kinds, told apart by effect and annotations:
//! - `forbid` with `@id`, `@category`, `@severity`, `@title` (and optional
//!   `@remediation`, `@group_by`): a **rule**, every match is a finding;
//! - `permit` with `@exemption("reason")`: an **exemption**, a request it
//!   permits produces no findings at all;
//! - any other `permit`: the **baseline**; when there is one, every request
//!   no baseline `permit` covers is an `outside-baseline` finding.
//!
//! A team policy whose `@id` equals a default-pack id replaces that policy.
//!
//! Policies judge either audit events (`kvaudit.cedarschema`) or the facts
//! the rate analyses compute (`observations.cedarschema`): a policy whose
//! action scope names an observation action is an observation policy and is
//! validated against both schemas together; any other policy is an event
//! policy and is validated against the event schema alone, so that an open
//! `action` scope never has to type-check against observation contexts. An
//! exemption with an open scope also applies to observations when it
//! type-checks against them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context as _;
use cedar_policy::{
    ActionConstraint, Effect, EntityUid, Policy, PolicyId, PolicySet, Schema, SchemaFragment,
    ValidationMode, Validator,
};
use miette::Diagnostic;

use super::PolicyOptions;
use super::findings::{Category, RuleInfo, Severity};
use super::model::ActionMap;

macro_rules! pack_file {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/", $name)),
        )
    };
}

/// The schema every policy is validated against, `policies/kvaudit.cedarschema`.
pub const DEFAULT_SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/policies/kvaudit.cedarschema"
));

/// The actions of the rate analyses' facts, `policies/observations.cedarschema`.
pub const OBSERVATION_SCHEMA: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/policies/observations.cedarschema"
));

/// The default pack, `policies/*.cedar`.
pub const DEFAULT_PACK: &[(&str, &str)] = &[
    pack_file!("sensitive-operations.cedar"),
    pack_file!("best-practice.cedar"),
    pack_file!("least-privilege.cedar"),
    pack_file!("failed-access.cedar"),
    pack_file!("exemptions.cedar"),
    pack_file!("abnormal-rate.cedar"),
    pack_file!("rotation.cedar"),
    pack_file!("logging.cedar"),
];

/// The default pack's test cases, `policies/tests/*.json`.
pub const DEFAULT_TESTS: &[(&str, &str)] = &[
    pack_file!("tests/sensitive-operations.json"),
    pack_file!("tests/best-practice.json"),
    pack_file!("tests/least-privilege.json"),
    pack_file!("tests/failed-access.json"),
    pack_file!("tests/exemptions.json"),
    pack_file!("tests/model.json"),
    pack_file!("tests/abnormal-rate.json"),
    pack_file!("tests/rotation.json"),
    pack_file!("tests/logging.json"),
];

/// How built-in files are named in messages.
pub const BUILTIN_PREFIX: &str = "<default pack>/";

/// The rule id of baseline findings.
pub const OUTSIDE_BASELINE: &str = "outside-baseline";

/// Annotations kvaudit reads; any other is an error (a typo would silently
/// drop a severity).
pub const ANNOTATIONS: [&str; 9] = [
    "id",
    "category",
    "severity",
    "title",
    "remediation",
    "group_by",
    "exemption",
    "description",
    "metric",
];

/// The event schema, `policies/kvaudit.cedarschema`.
#[allow(
    clippy::expect_used,
    reason = "the schema is embedded at build time and every test loads it"
)]
pub fn event_schema() -> Schema {
    Schema::from_cedarschema_str(DEFAULT_SCHEMA)
        .map(|(schema, _warnings)| schema)
        .expect("the embedded schema is valid")
}

/// Both schemas: the events' and the observations'. Entities, requests and
/// observation policies use this one.
#[allow(
    clippy::expect_used,
    reason = "the schemas are embedded at build time and every test loads them"
)]
pub fn default_schema() -> Schema {
    let fragment = |text: &str| {
        SchemaFragment::from_cedarschema_str(text)
            .map(|(fragment, _warnings)| fragment)
            .expect("the embedded schemas are valid")
    };
    Schema::from_schema_fragments([fragment(DEFAULT_SCHEMA), fragment(OBSERVATION_SCHEMA)])
        .expect("the embedded schemas fit together")
}

/// The action ids declared in `observations.cedarschema`.
pub fn observation_actions() -> Vec<String> {
    let schema = default_schema();
    let events = event_schema();
    let event_actions: std::collections::HashSet<EntityUid> = events.actions().cloned().collect();
    let mut ids: Vec<String> = schema
        .actions()
        .filter(|a| !event_actions.contains(a))
        .map(|a| a.id().unescaped().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Which requests a policy is about, from its action scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judges {
    Events,
    Observations,
    /// Open scope: events, and observations too if it type-checks there.
    Both,
}

fn judges(policy: &Policy, observation_actions: &[String]) -> Result<Judges, String> {
    let named: Vec<EntityUid> = match policy.action_constraint() {
        ActionConstraint::Any => return Ok(Judges::Both),
        ActionConstraint::Eq(uid) => vec![uid],
        ActionConstraint::In(uids) => uids,
    };
    let observation = |uid: &EntityUid| {
        observation_actions
            .iter()
            .any(|a| a == uid.id().unescaped())
    };
    match (named.iter().all(observation), named.iter().any(observation)) {
        (true, _) => Ok(Judges::Observations),
        (false, false) => Ok(Judges::Events),
        (false, true) => Err(format!(
            "the action scope mixes audit-event actions and observation actions ({}); a policy judges one or the other",
            observation_actions.join(", ")
        )),
    }
}

/// A problem at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n    help: {help}")?;
        }
        Ok(())
    }
}

/// Policies that failed to load: every problem found, located.
#[derive(Debug, Clone)]
pub struct PolicyErrors {
    pub errors: Vec<Located>,
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(f, "{n} policy error{}", if n == 1 { "" } else { "s" })?;
        for e in &self.errors {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// A Cedar diagnostic located in `file`, whose text is `text`.
fn located(file: &str, text: &str, diag: &dyn Diagnostic, fallback: usize) -> Located {
    let offset = diag
        .labels()
        .and_then(|mut labels| labels.next())
        .map_or(fallback, |label| label.offset());
    let (line, column) = line_col(text, offset);
    let mut message = diag.to_string();
    if let Some(source) = std::error::Error::source(diag) {
        let source = source.to_string();
        if !message.contains(&source) {
            message.push_str(": ");
            message.push_str(&source);
        }
    }
    Located {
        file: file.to_owned(),
        line,
        column,
        message,
        help: diag.help().map(|h| h.to_string()),
    }
}

/// How a rule's findings are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One finding per rule, principal, vault and object (the default).
    Object,
    /// One finding per rule, principal and vault.
    Vault,
}

/// What a policy is for.
#[derive(Debug, Clone)]
pub enum PolicyKind {
    Rule {
        info: RuleInfo,
        group_by: GroupBy,
        /// `@metric`: which count of a `RateWindow` a finding's message
        /// quotes (default `requests`).
        metric: Option<String>,
    },
    Baseline,
    Exemption {
        reason: String,
    },
}

/// One loaded policy and where it came from.
#[derive(Debug, Clone)]
pub struct PolicyInfo {
    pub id: String,
    pub kind: PolicyKind,
    pub file: String,
    pub line: usize,
    pub text: String,
    pub from_default_pack: bool,
}

/// One policy file and what it contributed.
#[derive(Debug, Clone)]
pub struct FileSummary {
    pub name: String,
    pub policies: usize,
    pub replaces: Vec<String>,
}

/// Schema, validated policies split by kind, their annotations, and the
/// user's entities.
#[derive(Debug, Clone)]
pub struct LoadedPolicies {
    pub schema: Schema,
    pub actions: ActionMap,
    /// Rules (`forbid`).
    pub rules: PolicySet,
    /// Baseline `permit`s; empty when there is no baseline.
    pub baseline: PolicySet,
    /// `@exemption` `permit`s.
    pub exemptions: PolicySet,
    /// Rules whose action scope names observation actions.
    pub observation_rules: PolicySet,
    /// Exemptions that apply to observations.
    pub observation_exemptions: PolicySet,
    /// The event schema (operations only): event policies are validated
    /// against it, and operation names are mapped with it.
    pub event_schema: Schema,
    /// Every policy by id.
    pub policies: BTreeMap<String, PolicyInfo>,
    pub files: Vec<FileSummary>,
    /// The entities file, as Cedar entities JSON values.
    pub user_entities: Vec<serde_json::Value>,
    pub entities_file: Option<String>,
    /// Validator warnings (not fatal).
    pub warnings: Vec<Located>,
}

/// A policy file to load.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub default_pack: bool,
}

impl Source {
    pub fn default_pack() -> Vec<Source> {
        DEFAULT_PACK
            .iter()
            .map(|(name, text)| Source {
                name: format!("{BUILTIN_PREFIX}{name}"),
                text: (*text).to_owned(),
                default_pack: true,
            })
            .collect()
    }

    /// `.cedar` files of a directory (recursively, sorted), or the file itself.
    pub fn from_path(path: &Path) -> anyhow::Result<Vec<Source>> {
        let metadata = std::fs::metadata(path)
            .with_context(|| format!("cannot read policies from {}", path.display()))?;
        let mut files: Vec<PathBuf> = if metadata.is_file() {
            vec![path.to_owned()]
        } else {
            walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
                .collect()
        };
        files.sort();
        if files.is_empty() {
            anyhow::bail!("no .cedar policy files in {}", path.display());
        }
        files
            .into_iter()
            .map(|file| {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                Ok(Source {
                    name: file.display().to_string(),
                    text,
                    default_pack: false,
                })
            })
            .collect()
    }
}

/// The policies of one file in source order, with their byte offsets.
fn in_source_order<'a>(set: &'a PolicySet, text: &str) -> Vec<(&'a Policy, usize, String)> {
    let mut policies: Vec<&Policy> = set.policies().collect();
    policies.sort_by_key(|p| {
        p.id()
            .to_string()
            .trim_start_matches("policy")
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    });
    let mut cursor = 0;
    policies
        .into_iter()
        .map(|p| {
            let body = p.to_cedar().unwrap_or_default();
            let offset = text
                .get(cursor..)
                .and_then(|rest| rest.find(body.as_str()))
                .map_or(cursor, |i| cursor + i);
            cursor = offset + body.len();
            (p, offset, body)
        })
        .collect()
}

struct Parsed {
    info: PolicyInfo,
    policy: Policy,
}

/// Reads one policy's annotations.
fn classify(
    source: &Source,
    policy: &Policy,
    offset: usize,
    body: &str,
    errors: &mut Vec<Located>,
) -> Option<PolicyInfo> {
    let at = |key: &str| -> (usize, usize) {
        let needle = format!("@{key}");
        let local = body.find(&needle).unwrap_or(0);
        line_col(&source.text, offset + local)
    };
    let error = |errors: &mut Vec<Located>, key: &str, message: String, help: Option<String>| {
        let (line, column) = at(key);
        errors.push(Located {
            file: source.name.clone(),
            line,
            column,
            message,
            help,
        });
    };
    let before = errors.len();
    for (key, _) in policy.annotations() {
        if !ANNOTATIONS.contains(&key) {
            error(
                errors,
                key,
                format!("unknown annotation `@{key}`"),
                Some(format!("kvaudit reads @{}", ANNOTATIONS.join(", @"))),
            );
        }
    }
    let (line, _) = line_col(&source.text, offset);
    let id = policy.annotation("id").map(str::to_owned);
    let exemption = policy.annotation("exemption");
    let kind = match policy.effect() {
        Effect::Forbid => {
            if exemption.is_some() {
                error(
                    errors,
                    "exemption",
                    "`@exemption` is only for `permit` policies".into(),
                    None,
                );
            }
            let mut require = |key: &str| -> Option<String> {
                let value = policy.annotation(key).map(str::to_owned);
                if value.as_deref().is_none_or(str::is_empty) {
                    error(
                        errors,
                        "",
                        format!("forbid policy has no `@{key}` annotation"),
                        Some(
                            "every forbid is a rule: give it @id, @category, @severity and @title"
                                .into(),
                        ),
                    );
                }
                value
            };
            let rule_id = require("id");
            let category = require("category");
            let severity = require("severity");
            let title = require("title");
            let category = category.and_then(|c| {
                Category::from_str(&c)
                    .map_err(|e| error(errors, "category", e, None))
                    .ok()
            });
            let severity = severity.and_then(|s| {
                Severity::from_str(&s)
                    .map_err(|e| error(errors, "severity", e, None))
                    .ok()
            });
            let group_by = match policy.annotation("group_by") {
                None | Some("object") => GroupBy::Object,
                Some("vault") => GroupBy::Vault,
                Some(other) => {
                    error(
                        errors,
                        "group_by",
                        format!(
                            "unknown `@group_by` value `{other}`, must be one of: object, vault"
                        ),
                        None,
                    );
                    GroupBy::Object
                }
            };
            let metric = policy.annotation("metric").map(str::to_owned);
            if let Some(m) = &metric
                && !crate::analyze::rates::COUNTS.contains(&m.as_str())
            {
                error(
                    errors,
                    "metric",
                    format!(
                        "unknown `@metric` value `{m}`, must be one of: {}",
                        crate::analyze::rates::COUNTS.join(", ")
                    ),
                    None,
                );
            }
            match (rule_id, category, severity, title) {
                (Some(id), Some(category), Some(severity), Some(title)) => PolicyKind::Rule {
                    metric,
                    info: RuleInfo {
                        id,
                        category,
                        severity,
                        title,
                        remediation: policy
                            .annotation("remediation")
                            .unwrap_or_default()
                            .to_owned(),
                    },
                    group_by,
                },
                _ => return None,
            }
        }
        Effect::Permit => match exemption {
            Some(reason) => PolicyKind::Exemption {
                reason: reason.to_owned(),
            },
            None => PolicyKind::Baseline,
        },
    };
    if errors.len() > before {
        return None;
    }
    let id = id.unwrap_or_else(|| {
        let stem = Path::new(&source.name)
            .file_stem()
            .map_or_else(|| source.name.clone(), |s| s.to_string_lossy().into_owned());
        format!("{stem}:{line}")
    });
    if id == OUTSIDE_BASELINE {
        error(
            errors,
            "id",
            format!("`{OUTSIDE_BASELINE}` is reserved for baseline findings"),
            None,
        );
        return None;
    }
    Some(PolicyInfo {
        id,
        kind,
        file: source.name.clone(),
        line,
        text: body.to_owned(),
        from_default_pack: source.default_pack,
    })
}

fn parse_source(source: &Source, errors: &mut Vec<Located>) -> Vec<Parsed> {
    let set = match PolicySet::from_str(&source.text) {
        Ok(set) => set,
        Err(parse_errors) => {
            errors.extend(
                parse_errors
                    .iter()
                    .map(|e| located(&source.name, &source.text, e, 0)),
            );
            return Vec::new();
        }
    };
    if let Some(template) = set.templates().next() {
        let (line, column) = line_col(&source.text, 0);
        errors.push(Located {
            file: source.name.clone(),
            line,
            column,
            message: format!(
                "`{}` is a template (it has a ?principal or ?resource slot); kvaudit evaluates static policies only",
                template.id()
            ),
            help: None,
        });
    }
    in_source_order(&set, &source.text)
        .into_iter()
        .filter_map(|(policy, offset, body)| {
            let info = classify(source, policy, offset, &body, errors)?;
            Some(Parsed {
                policy: policy.new_id(PolicyId::new(&info.id)),
                info,
            })
        })
        .collect()
}

impl LoadedPolicies {
    /// Loads the default pack (unless disabled), every policy directory and
    /// the entities file; validates everything against the schema.
    pub fn load(options: &PolicyOptions) -> anyhow::Result<LoadedPolicies> {
        let mut sources = Vec::new();
        if options.default_pack {
            sources.extend(Source::default_pack());
        }
        for dir in &options.dirs {
            sources.extend(Source::from_path(dir)?);
        }
        let mut loaded = Self::from_sources(&sources)?;
        if let Some(path) = &options.entities_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read entities file {}", path.display()))?;
            loaded.set_entities(&text, &path.display().to_string())?;
        }
        Ok(loaded)
    }

    /// Loads policies from already-read sources.
    pub fn from_sources(sources: &[Source]) -> anyhow::Result<LoadedPolicies> {
        let mut errors = Vec::new();
        let mut parsed: Vec<Parsed> = Vec::new();
        let mut files = Vec::new();
        for source in sources {
            let policies = parse_source(source, &mut errors);
            files.push(FileSummary {
                name: source.name.clone(),
                policies: policies.len(),
                replaces: Vec::new(),
            });
            parsed.extend(policies);
        }

        // Ids: team policies replace default-pack policies of the same id;
        // any other duplicate is an error.
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut kept: Vec<Option<Parsed>> = Vec::new();
        for p in parsed {
            match by_id.get(&p.info.id).copied() {
                Some(i) => {
                    let replace = kept[i]
                        .as_ref()
                        .is_some_and(|old| old.info.from_default_pack && !p.info.from_default_pack);
                    if replace {
                        if let Some(f) = files.iter_mut().find(|f| f.name == p.info.file) {
                            f.replaces.push(p.info.id.clone());
                        }
                        kept[i] = Some(p);
                    } else {
                        let first = kept[i]
                            .as_ref()
                            .map(|o| format!("{}:{}", o.info.file, o.info.line));
                        let (line, column) = (p.info.line, 1);
                        errors.push(Located {
                            file: p.info.file.clone(),
                            line,
                            column,
                            message: format!("duplicate policy id `{}`", p.info.id),
                            help: first.map(|f| format!("first defined at {f}")),
                        });
                    }
                }
                None => {
                    by_id.insert(p.info.id.clone(), kept.len());
                    kept.push(Some(p));
                }
            }
        }
        let kept: Vec<Parsed> = kept.into_iter().flatten().collect();

        let observation_actions = observation_actions();
        let mut event_policies = PolicySet::new();
        let mut observation_policies = PolicySet::new();
        let mut rules = PolicySet::new();
        let mut baseline = PolicySet::new();
        let mut exemptions = PolicySet::new();
        let mut observation_rules = PolicySet::new();
        let mut observation_exemptions = PolicySet::new();
        let event_schema = event_schema();
        let schema = default_schema();
        let mut policies = BTreeMap::new();
        for p in &kept {
            let judges = match judges(&p.policy, &observation_actions) {
                Ok(j) => j,
                Err(message) => {
                    errors.push(Located {
                        file: p.info.file.clone(),
                        line: p.info.line,
                        column: 1,
                        message,
                        help: None,
                    });
                    continue;
                }
            };
            let add = |set: &mut PolicySet| set.add(p.policy.clone()).context("adding a policy");
            if judges == Judges::Observations {
                add(&mut observation_policies)?;
                match p.info.kind {
                    PolicyKind::Rule { .. } => add(&mut observation_rules)?,
                    PolicyKind::Exemption { .. } => add(&mut observation_exemptions)?,
                    PolicyKind::Baseline => errors.push(Located {
                        file: p.info.file.clone(),
                        line: p.info.line,
                        column: 1,
                        message: "a baseline permit cannot name observation actions".into(),
                        help: Some("baseline permits describe allowed audit events; use @exemption to accept observations".into()),
                    }),
                }
            } else {
                add(&mut event_policies)?;
                match p.info.kind {
                    PolicyKind::Rule { .. } => add(&mut rules)?,
                    PolicyKind::Baseline => add(&mut baseline)?,
                    PolicyKind::Exemption { .. } => {
                        add(&mut exemptions)?;
                        if judges == Judges::Both && type_checks(&p.policy, &schema) {
                            add(&mut observation_exemptions)?;
                        }
                    }
                }
            }
            policies.insert(p.info.id.clone(), p.info.clone());
        }

        // Strict validation against the schemas, errors located in their file.
        let text_of = |id: &PolicyId| -> Option<(&str, &str)> {
            let info = policies.get(&id.to_string())?;
            let source = sources.iter().find(|s| s.name == info.file)?;
            Some((info.file.as_str(), source.text.as_str()))
        };
        let mut warnings = Vec::new();
        for (set, against) in [
            (&event_policies, &event_schema),
            (&observation_policies, &schema),
        ] {
            let result = Validator::new(against.clone()).validate(set, ValidationMode::Strict);
            for e in result.validation_errors() {
                let (file, text) = text_of(e.policy_id()).unwrap_or(("<unknown>", ""));
                errors.push(located(file, text, e, 0));
            }
            for w in result.validation_warnings() {
                let (file, text) = text_of(w.policy_id()).unwrap_or(("<unknown>", ""));
                warnings.push(located(file, text, w, 0));
            }
        }
        if !errors.is_empty() {
            return Err(PolicyErrors { errors }.into());
        }
        Ok(LoadedPolicies {
            actions: ActionMap::from_schema(&event_schema),
            schema,
            event_schema,
            rules,
            baseline,
            exemptions,
            observation_rules,
            observation_exemptions,
            policies,
            files,
            user_entities: Vec::new(),
            entities_file: None,
            warnings,
        })
    }

    /// Sets the user's entities (Cedar entities JSON), checking them against the schema.
    pub fn set_entities(&mut self, json: &str, name: &str) -> anyhow::Result<()> {
        let value: serde_json::Value =
            serde_json::from_str(json).with_context(|| format!("{name}: not valid JSON"))?;
        self.set_entities_value(value, name)
    }

    pub fn set_entities_value(
        &mut self,
        value: serde_json::Value,
        name: &str,
    ) -> anyhow::Result<()> {
        let serde_json::Value::Array(entities) = value else {
            anyhow::bail!("{name}: expected a JSON array of Cedar entities");
        };
        // Check now, against no events, so a bad file fails before ingest.
        super::entities::build(
            &super::entities::EventEntities::default(),
            &entities,
            &self.schema,
        )
        .with_context(|| format!("invalid entities file {name}"))?;
        self.user_entities = entities;
        self.entities_file = Some(name.to_owned());
        Ok(())
    }

    /// One line per policy file (and the entities file), for report headers.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .map(|f| {
                let mut line = format!(
                    "{} ({} polic{})",
                    f.name,
                    f.policies,
                    if f.policies == 1 { "y" } else { "ies" }
                );
                if !f.replaces.is_empty() {
                    line.push_str(&format!(", replaces {}", f.replaces.join(", ")));
                }
                line
            })
            .collect();
        if let Some(name) = &self.entities_file {
            let n = self.user_entities.len();
            lines.push(format!(
                "{name} ({n} entit{})",
                if n == 1 { "y" } else { "ies" }
            ));
        }
        lines
    }

    /// Number of policies, all kinds.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Whether baseline mode is on (there are baseline `permit`s).
    pub fn has_baseline(&self) -> bool {
        !self.baseline.is_empty()
    }

    pub fn rule(&self, id: &str) -> Option<(&RuleInfo, GroupBy)> {
        match &self.policies.get(id)?.kind {
            PolicyKind::Rule { info, group_by, .. } => Some((info, *group_by)),
            _ => None,
        }
    }

    /// The count a `RateWindow` rule's findings quote.
    pub fn metric_of(&self, id: &str) -> &str {
        match self.policies.get(id).map(|p| &p.kind) {
            Some(PolicyKind::Rule {
                metric: Some(m), ..
            }) => m,
            _ => "requests",
        }
    }
}

/// Whether a policy passes strict validation against `schema` on its own.
fn type_checks(policy: &Policy, schema: &Schema) -> bool {
    let mut set = PolicySet::new();
    set.add(policy.clone()).is_ok()
        && Validator::new(schema.clone())
            .validate(&set, ValidationMode::Strict)
            .validation_passed()
}

/// The rule behind baseline findings.
pub fn outside_baseline_rule() -> RuleInfo {
    RuleInfo {
        id: OUTSIDE_BASELINE.to_owned(),
        category: Category::LeastPrivilege,
        severity: Severity::Medium,
        title: "Access outside the baseline".to_owned(),
        remediation: "No baseline permit policy covers this access. If it is intended, add a permit for it to the baseline; if not, remove the permission that allowed it.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, text: &str) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
            default_pack: false,
        }
    }

    fn errors_of(sources: &[Source]) -> Vec<Located> {
        match LoadedPolicies::from_sources(sources) {
            Ok(_) => panic!("expected errors"),
            Err(e) => e.downcast::<PolicyErrors>().expect("policy errors").errors,
        }
    }

    #[test]
    fn the_default_pack_loads_and_validates() {
        let loaded = LoadedPolicies::from_sources(&Source::default_pack()).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert!(loaded.rule("kv-purge").is_some());
        assert!(!loaded.has_baseline());
        assert_eq!(loaded.exemptions.policies().count(), 1);
        let described = loaded.describe();
        assert!(
            described
                .iter()
                .any(|d| d.starts_with("<default pack>/sensitive-operations.cedar (6 policies)")),
            "{described:?}"
        );
    }

    #[test]
    fn every_pack_file_on_disk_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        for entry in walkdir::WalkDir::new(&dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            let rel = entry
                .path()
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel.ends_with(".cedar") {
                assert!(
                    DEFAULT_PACK.iter().any(|(n, _)| *n == rel),
                    "{rel} is not in DEFAULT_PACK"
                );
            }
            if rel.ends_with(".json") && rel.starts_with("tests/") {
                assert!(
                    DEFAULT_TESTS.iter().any(|(n, _)| *n == rel),
                    "{rel} is not in DEFAULT_TESTS"
                );
            }
        }
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }

    #[test]
    fn unknown_category_and_severity_name_file_and_line() {
        let text = "// a rule\n@id(\"x\")\n@category(\"noise\")\n@severity(\"urgent\")\n@title(\"t\")\nforbid (principal, action, resource);\n";
        let errors = errors_of(&[source("team/x.cedar", text)]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(
            (errors[0].file.as_str(), errors[0].line, errors[0].column),
            ("team/x.cedar", 3, 1)
        );
        assert!(errors[0].message.contains("unknown category `noise`"));
        assert_eq!(errors[1].line, 4);
        assert!(errors[1].message.contains("unknown severity `urgent`"));
    }

    #[test]
    fn missing_annotations_and_typos_are_errors() {
        let text = "@id(\"x\")\n@severty(\"high\")\nforbid (principal, action, resource);";
        let errors = errors_of(&[source("x.cedar", text)]);
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("unknown annotation `@severty`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("no `@category`")),
            "{messages:?}"
        );
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn parse_and_validation_errors_are_located() {
        let errors = errors_of(&[source(
            "bad.cedar",
            "\n\npermit (principal, action, resource) when { context.nope };",
        )]);
        assert!(
            errors
                .iter()
                .any(|e| e.line == 3 && e.message.contains("nope")),
            "{errors:?}"
        );
        let errors = errors_of(&[source(
            "syntax.cedar",
            "permit (principal, action, resource)\nwhen { 1 + };",
        )]);
        assert_eq!(errors[0].line, 2, "{errors:?}");
        let text = "@exemption(\"r\")\npermit (principal, action, resource);\n\n@exemption(\"r\")\npermit (principal, action == Action::\"NoSuchOp\", resource);";
        let errors = errors_of(&[source("e.cedar", text)]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 5, "{errors:?}");
        assert!(errors[0].message.contains("NoSuchOp"), "{errors:?}");
    }

    #[test]
    fn team_policies_replace_default_ones_and_duplicates_are_errors() {
        let mut sources = Source::default_pack();
        sources.push(source(
            "team/purge.cedar",
            "@id(\"kv-purge\")\n@category(\"sensitive-operation\")\n@severity(\"critical\")\n@title(\"t\")\nforbid (principal, action in Action::\"purge\", resource);",
        ));
        let loaded = LoadedPolicies::from_sources(&sources).unwrap();
        assert_eq!(
            loaded.rule("kv-purge").unwrap().0.severity,
            Severity::Critical
        );
        assert!(
            loaded
                .describe()
                .iter()
                .any(|d| d.contains("replaces kv-purge"))
        );

        let twice = "@id(\"a\")\n@category(\"rotation\")\n@severity(\"low\")\n@title(\"t\")\nforbid (principal, action, resource);\n";
        let errors = errors_of(&[source("a.cedar", twice), source("b.cedar", twice)]);
        assert!(errors[0].message.contains("duplicate policy id `a`"));
        assert_eq!(
            errors[0].help.as_deref(),
            Some("first defined at a.cedar:1")
        );
    }
}
