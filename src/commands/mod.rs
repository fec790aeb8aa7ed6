//! One module per subcommand: each wires the pipeline stages for its job.

pub mod audit;
pub mod explain;
pub mod policy;
pub mod pull;
pub mod run;
