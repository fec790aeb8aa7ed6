//! kvaudit: audits how secrets in Azure Key Vault are used, from the vault's
//! own audit logs.
//!
//! The pipeline has three stages, one module each, each reading only from the
//! stages before it:
//! 1. [`ingest`]: every export form of Key Vault audit logs into one
//!    normalised polars `DataFrame`, with an account of what was rejected;
//! 2. [`analyze`]: what the events say (activity overview, and in later
//!    stages policies, rates and least privilege);
//! 3. [`report`]: terminal output, JSON, CSV and HTML, and the exit code.
//!
//! [`cli`] and [`commands`] wire the stages to the command line;
//! [`job`] holds the scheduled job's configuration, state and history;
//! [`text`] formats numbers for every stage; [`memo`] remembers costly
//! values per thread for every stage; [`logging`] writes the job's
//! own messages (warnings, errors, timings) to stderr as text or JSON lines.

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod ingest;
pub mod job;
pub mod logging;
pub mod memo;
pub mod report;
pub mod text;
