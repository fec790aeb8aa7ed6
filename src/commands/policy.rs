//! `kvaudit policy validate` and `kvaudit policy test`: keep a team's
//! policies correct the way code is kept correct.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::analyze::policy::pack::{PolicyKind, Source};
use crate::analyze::policy::tests_runner::{default_test_files, run_files, test_files_in};
use crate::analyze::policy::{LoadedPolicies, PolicyErrors, PolicyOptions};
use crate::analyze::privilege::baseline;

/// Exit codes of the policy commands (errors that stop the command are 2, via `Err`).
const OK: u8 = 0;
const FAILED_CHECK: u8 = 1;

/// Which policies to use: shared by `policy validate`, `explain` and `audit`.
#[derive(Debug, Clone, Args)]
pub struct PolicySelection {
    /// Directory (or .cedar file) of team policies, added to the default pack;
    /// a policy with a default-pack @id replaces it. Repeatable.
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Leave the built-in default policy pack out.
    #[arg(long)]
    pub no_default_policies: bool,
    /// Cedar entities JSON: groups (e.g. break-glass), identity names, vault tags (env=prod).
    #[arg(long, value_name = "FILE")]
    pub entities: Option<PathBuf>,
}

impl PolicySelection {
    pub fn options(&self) -> PolicyOptions {
        PolicyOptions {
            default_pack: !self.no_default_policies,
            dirs: self.policies.clone(),
            entities_file: self.entities.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate policies strictly against kvaudit's schema; errors point to file:line:column.
    Validate(ValidateArgs),
    /// Run the policy test cases in DIR/tests/*.json (default: the built-in pack's cases).
    Test(TestArgs),
    /// Write Cedar baseline permits from the successful calls in logs; audit
    /// later logs with `--policies FILE` to flag anything outside them.
    Generate(BaselineArgs),
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Log files or directories (as for `kvaudit audit`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// The .cedar file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Most objects of one kind a permit names before it covers the whole vault.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_objects: usize,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub selection: PolicySelection,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy directory whose tests/*.json to run; its .cedar files are added
    /// to the default pack. Without DIR, the default pack's own cases run.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Leave the built-in default policy pack out.
    #[arg(long)]
    pub no_default_policies: bool,
}

pub fn run(args: &PolicyArgs) -> anyhow::Result<u8> {
    match &args.command {
        PolicyCommand::Validate(a) => validate(a),
        PolicyCommand::Test(a) => test(a),
        PolicyCommand::Generate(a) => generate(a),
    }
}

/// Loads policies; located policy errors are printed and become `Ok(None)`.
fn load_or_report(
    load: impl FnOnce() -> anyhow::Result<LoadedPolicies>,
) -> anyhow::Result<Option<LoadedPolicies>> {
    match load() {
        Ok(policies) => {
            let mut stderr = std::io::stderr().lock();
            for w in &policies.warnings {
                writeln!(stderr, "warning: {w}")?;
            }
            Ok(Some(policies))
        }
        Err(e) => match e.downcast::<PolicyErrors>() {
            Ok(errors) => {
                let mut stderr = std::io::stderr().lock();
                for error in &errors.errors {
                    writeln!(stderr, "error: {error}")?;
                }
                writeln!(
                    stderr,
                    "kvaudit: {} policy error{}",
                    errors.errors.len(),
                    if errors.errors.len() == 1 { "" } else { "s" }
                )?;
                Ok(None)
            }
            Err(other) => Err(other),
        },
    }
}

fn validate(args: &ValidateArgs) -> anyhow::Result<u8> {
    let options = args.selection.options();
    let Some(policies) = load_or_report(|| LoadedPolicies::load(&options))? else {
        return Ok(FAILED_CHECK);
    };
    let (mut rules, mut baseline, mut exemptions) = (0, 0, 0);
    for p in policies.policies.values() {
        match p.kind {
            PolicyKind::Rule { .. } => rules += 1,
            PolicyKind::Baseline => baseline += 1,
            PolicyKind::Exemption { .. } => exemptions += 1,
        }
    }
    let mut out = anstream::stdout().lock();
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "policies valid: {} ({}, {}, {})",
        policies.len(),
        count(rules, "rule", "rules"),
        count(baseline, "baseline permit", "baseline permits"),
        count(exemptions, "exemption", "exemptions"),
    )?;
    for line in policies.describe() {
        writeln!(out, "  {line}")?;
    }
    if baseline > 0 {
        writeln!(
            out,
            "baseline mode: events no baseline permit covers are `outside-baseline` findings"
        )?;
    }
    Ok(OK)
}

fn generate(args: &BaselineArgs) -> anyhow::Result<u8> {
    let inputs = crate::ingest::inputs::expand(&args.paths)?;
    if inputs.is_empty() {
        anyhow::bail!("no log files found in {}", args.paths.join(", "));
    }
    let ingested = crate::ingest::ingest(&inputs, &indicatif::ProgressBar::hidden())?;
    let schema = crate::analyze::policy::pack::default_schema();
    let actions = crate::analyze::policy::model::ActionMap::from_schema(&schema);
    let baseline = baseline::generate(
        &ingested.events,
        &actions,
        &baseline::BaselineOptions {
            max_objects: args.max_objects,
        },
    )?;
    let name = args.out.display().to_string();
    // Validate what is about to be written, exactly as `audit --policies` will load it.
    let source = Source {
        name: name.clone(),
        text: baseline.text.clone(),
        default_pack: false,
    };
    if load_or_report(|| LoadedPolicies::from_sources(&[source]))?.is_none() {
        anyhow::bail!("the generated baseline does not validate; nothing written");
    }
    crate::report::summary::write_atomically(&args.out, baseline.text.as_bytes())?;
    let rejected = ingested.rejections.total();
    eprintln!(
        "wrote {} baseline permit{} for {} identit{} to {name} (from {} successful calls in {} records{})",
        baseline.permits,
        if baseline.permits == 1 { "" } else { "s" },
        baseline.identities,
        if baseline.identities == 1 { "y" } else { "ies" },
        baseline.events,
        ingested.records_read,
        if rejected > 0 {
            format!(", {rejected} rejected")
        } else {
            String::new()
        }
    );
    Ok(OK)
}

fn test(args: &TestArgs) -> anyhow::Result<u8> {
    let (sources, files) = match &args.dir {
        None => (
            if args.no_default_policies {
                Vec::new()
            } else {
                Source::default_pack()
            },
            default_test_files(),
        ),
        Some(dir) => {
            let mut sources = if args.no_default_policies {
                Vec::new()
            } else {
                Source::default_pack()
            };
            let has_policies = walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "cedar"));
            if has_policies {
                sources.extend(Source::from_path(dir)?);
            }
            (sources, test_files_in(dir)?)
        }
    };
    let Some(policies) = load_or_report(|| LoadedPolicies::from_sources(&sources))? else {
        return Ok(FAILED_CHECK);
    };
    let results = run_files(&policies, &files)?;
    let mut out = anstream::stdout().lock();
    let failed = results.iter().filter(|r| !r.passed()).count();
    for r in &results {
        if r.passed() {
            writeln!(out, "ok    {}: {}", r.file, r.name)?;
        } else {
            writeln!(out, "FAIL  {}: {}", r.file, r.name)?;
            for f in &r.failures {
                writeln!(out, "        {f}")?;
            }
        }
    }
    writeln!(
        out,
        "policy tests: {} passed, {failed} failed",
        results.len() - failed
    )?;
    Ok(if failed == 0 { OK } else { FAILED_CHECK })
}
