use clap::Parser;
use kvaudit::cli::{Cli, Command};
use kvaudit::commands;
use kvaudit::job::state::LockHeld;
use kvaudit::report::exit::Exit;

fn main() -> Exit {
    // Argument errors are clap's to print, before there is a log format.
    let cli = Cli::parse();
    kvaudit::logging::init(cli.log_format());
    let result = match &cli.command {
        Command::Audit(args) => commands::audit(args),
        Command::Run(args) => commands::run(args),
        Command::Init(args) => commands::init(args),
        Command::Pull(args) => commands::pull(args),
        Command::Policy(args) => commands::policy(args),
        Command::Explain(args) => commands::explain(args),
        Command::Completions(args) => commands::completions(args),
        Command::Man => commands::man(),
    };
    result.unwrap_or_else(|error| {
        tracing::error!("{error:#}");
        if error.downcast_ref::<LockHeld>().is_some() {
            Exit::LockHeld
        } else {
            Exit::Error
        }
    })
}
