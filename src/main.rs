use std::process::ExitCode;

fn main() -> ExitCode {
    kvaudit::cli::run()
}
