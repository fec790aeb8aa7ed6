//! kvaudit: audits how secrets in Azure Key Vault are used, from the vault's
//! own audit logs.
//!
//! The pipeline has three stages, one module each, each reading only from the
//! stages before it:
//! 1. [`ingest`]: every export form of Key Vault audit logs into one
//!    normalised polars `DataFrame`, with an account of what was rejected;
//! 2. [`analyze`]: what the events say (activity, policies, rates, least
//!    privilege), gathered into one [`analyze::Analysis`];
//! 3. [`report`]: terminal output, JSON, CSV and HTML, and the exit code.
//!
//! [`pipeline`] wires the stages together for each way kvaudit runs, and
//! [`job`] holds the scheduled job's configuration, state and history.
//! [`cli`] defines the command line and [`commands`] maps it onto the
//! pipeline's options; `main.rs` parses and dispatches.
//!
//! Below every stage: [`text`] formats numbers and words, [`memo`]
//! remembers costly values per thread, [`files`] writes files atomically,
//! [`progress`] draws progress bars, and [`logging`] writes kvaudit's own
//! messages (warnings, errors, timings) to stderr as text or JSON lines.
//! `docs/ARCHITECTURE.md` draws the whole.

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod files;
pub mod ingest;
pub mod job;
pub mod logging;
pub mod memo;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod text;
