//! `kvaudit policy validate` and `kvaudit policy test`: keep a team's
//! policies correct the way code is kept correct.

use std::io::Write;
use std::path::Path;

use crate::analyze::policy::pack::{PolicyKind, Source};
use crate::analyze::policy::tests_runner::{default_test_files, run_files, test_files_in};
use crate::analyze::policy::{LoadedPolicies, PolicyErrors, PolicyOptions};
use crate::analyze::privilege::baseline;
use crate::files::write_atomically;
use crate::report::exit::Exit;
use crate::text::noun;

/// Loads policies; located policy errors are printed and become `Ok(None)`.
fn load_or_report(
    load: impl FnOnce() -> anyhow::Result<LoadedPolicies>,
) -> anyhow::Result<Option<LoadedPolicies>> {
    match load() {
        Ok(policies) => {
            for w in &policies.warnings {
                tracing::warn!("{w}");
            }
            Ok(Some(policies))
        }
        Err(e) => match e.downcast::<PolicyErrors>() {
            Ok(errors) => {
                for error in &errors.errors {
                    tracing::error!("{error}");
                }
                let n = errors.errors.len() as u64;
                tracing::error!(errors = n, "{n} policy {}", noun(n, "error", "errors"));
                Ok(None)
            }
            Err(other) => Err(other),
        },
    }
}

/// `policy validate`: loads the policies strictly and says what they are.
pub fn validate(options: &PolicyOptions) -> anyhow::Result<Exit> {
    let Some(policies) = load_or_report(|| LoadedPolicies::load(options))? else {
        return Ok(Exit::FailedCheck);
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
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", noun(n as u64, one, many));
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
    Ok(Exit::Ok)
}

/// `policy generate`: baseline permits from the successful calls in
/// `paths`, validated, written to `out`.
pub fn generate(paths: &[String], out: &Path, max_objects: usize) -> anyhow::Result<Exit> {
    let inputs = crate::ingest::inputs::expand(paths)?;
    if inputs.is_empty() {
        anyhow::bail!("no log files found in {}", paths.join(", "));
    }
    let ingested = crate::ingest::ingest(&inputs, &indicatif::ProgressBar::hidden())?;
    let schema = crate::analyze::policy::pack::event_schema();
    let actions = crate::analyze::policy::model::ActionMap::from_schema(&schema);
    let baseline = baseline::generate(
        &ingested.events,
        &actions,
        &baseline::BaselineOptions { max_objects },
    )?;
    let name = out.display().to_string();
    // Validate what is about to be written, exactly as `audit --policies` will load it.
    let source = Source {
        name: name.clone(),
        text: baseline.text.clone(),
        default_pack: false,
    };
    if load_or_report(|| LoadedPolicies::from_sources(&[source]))?.is_none() {
        anyhow::bail!("the generated baseline does not validate; nothing written");
    }
    write_atomically(out, baseline.text.as_bytes())?;
    let rejected = ingested.rejections.total();
    tracing::info!(
        permits = baseline.permits,
        identities = baseline.identities,
        out = %name,
        "wrote {} baseline permit{} for {} identit{} to {name} (from {} successful calls in {} records{})",
        baseline.permits,
        noun(baseline.permits as u64, "", "s"),
        baseline.identities,
        noun(baseline.identities as u64, "y", "ies"),
        baseline.events,
        ingested.records_read,
        if rejected > 0 {
            format!(", {rejected} rejected")
        } else {
            String::new()
        }
    );
    Ok(Exit::Ok)
}

/// `policy test`: the test cases of `dir` (its policies added to the
/// default pack unless left out), or of the default pack itself.
pub fn test(dir: Option<&Path>, default_pack: bool) -> anyhow::Result<Exit> {
    let (sources, files) = match dir {
        None => (
            if !default_pack {
                Vec::new()
            } else {
                Source::default_pack()
            },
            default_test_files(),
        ),
        Some(dir) => {
            let mut sources = if !default_pack {
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
        return Ok(Exit::FailedCheck);
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
    Ok(if failed == 0 {
        Exit::Ok
    } else {
        Exit::FailedCheck
    })
}
