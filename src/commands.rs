//! Each command's arguments mapped to the plain options of its pipeline,
//! and the one call that runs it.

use clap::CommandFactory;

use crate::cli::{
    AuditArgs, Cli, CompletionsArgs, ExplainArgs, InitArgs, PolicyArgs, PolicyCommand, PullArgs,
    RunArgs,
};
use crate::pipeline::analysis::AnalysisOptions;
use crate::pipeline::audit::AuditOptions;
use crate::pipeline::explain::{ExplainOptions, Selector};
use crate::pipeline::{self, policy};
use crate::report::exit::{Bar, Exit};

pub fn audit(args: &AuditArgs) -> anyhow::Result<Exit> {
    let workspaces =
        !args.log_analytics.workspaces.is_empty() || !args.log_analytics.resources.is_empty();
    pipeline::audit::run(&AuditOptions {
        paths: args.paths.clone(),
        pull: workspaces.then(|| args.log_analytics.options()),
        pushdown: args.pushdown,
        policy: args.policy.options(),
        inventory: args.inventory.clone(),
        analysis: AnalysisOptions {
            rates: args.rates.options(),
            min_observation_days: args.min_observation_days,
        },
        out: args.out.clone(),
        formats: args.format.clone(),
        jsonl: args.jsonl,
        quiet: args.quiet,
        timings: args.timings,
        bar: Bar {
            fail_on: args.fail_on,
            strict: args.strict,
            allow_empty: args.allow_empty,
            ..Bar::default()
        },
    })
}

pub fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    pipeline::job::run(&args.config, args.overrides())
}

pub fn init(args: &InitArgs) -> anyhow::Result<Exit> {
    pipeline::job::init(&args.path, args.force)
}

pub fn pull(args: &PullArgs) -> anyhow::Result<Exit> {
    if args.pushdown {
        // A Parquet file of kvaudit's holds events; the aggregates of a
        // pushdown describe one time range and would have to travel with
        // them, and `audit FILE.parquet` would have to know to use them.
        anyhow::bail!(
            "kvaudit pull does not take --pushdown: a pull saves events, and --pushdown \
             leaves most of them in the workspace. Run `kvaudit audit --workspace ID \
             --pushdown` to audit from the workspace's aggregates, or pull without it"
        );
    }
    pipeline::pull::save(&args.workspace.options(), &args.out, args.quiet)
}

pub fn policy(args: &PolicyArgs) -> anyhow::Result<Exit> {
    match &args.command {
        PolicyCommand::Validate(a) => policy::validate(&a.selection.options()),
        PolicyCommand::Test(a) => policy::test(a.dir.as_deref(), !a.no_default_policies),
        PolicyCommand::Generate(a) => policy::generate(&a.paths, &a.out, a.max_objects),
    }
}

/// `kvaudit completions SHELL`: the script, generated from the clap definitions.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    // Into a buffer first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "kvaudit", &mut script);
    std::io::Write::write_all(&mut std::io::stdout(), &script)?;
    Ok(Exit::Ok)
}

/// `kvaudit man`: the man page, generated from the clap definitions.
pub fn man() -> anyhow::Result<Exit> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(Exit::Ok)
}

pub fn explain(args: &ExplainArgs) -> anyhow::Result<Exit> {
    let selector = match (&args.correlation_id, &args.at) {
        (Some(id), _) => Selector::CorrelationId(id.clone()),
        (None, Some(at)) => Selector::At(at.clone()),
        // clap's `event` group requires one of the two.
        (None, None) => anyhow::bail!("name the event: --correlation-id ID or --at FILE:LINE"),
    };
    pipeline::explain::run(&ExplainOptions {
        paths: args.paths.clone(),
        selector,
        policy: args.selection.options(),
    })
}
