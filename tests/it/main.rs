//! The integration tests, one test binary (each binary links polars and
//! Cedar: one link instead of one per file). Each module is one area; they
//! drive the built `kvaudit` binary on realistic data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a panic in a test is a failed test, with its message"
)]

#[allow(dead_code, reason = "each helper serves some of the modules")]
mod common;
#[allow(dead_code, reason = "each scripted answer serves some of the tests")]
mod standin;

mod audit_outputs;
mod azure_monitor;
mod container;
mod deploy;
mod duplicates;
mod gaps;
mod golden;
mod hostile_text;
mod ingest_bad_input;
mod ingest_formats;
mod ingest_inputs;
mod ingest_utf16;
mod job;
mod kql_check;
mod layout;
mod least_privilege;
mod logging;
mod nothing_analysed;
mod policy_engine;
mod pull_bench;
mod rates;
mod record_loss;
mod report_browser;
mod sarif;
