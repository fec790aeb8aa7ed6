//! The pipeline: the stages wired together for each way kvaudit runs.
//!
//! [`crate::commands`] turns the command line into the options here and
//! calls one function; everything a run does between reading its options
//! and returning its exit code is in this module:
//!
//! - [`setup`]: policies and inventory, loaded before any log is read;
//! - [`analysis`]: the analyses over the ingested events, one [`analysis::Analysis`];
//! - [`outputs`]: writing that analysis as reports and choosing the exit code;
//! - [`pull`] and [`pushdown`]: reading Log Analytics (whole, or its aggregates);
//! - [`audit`], [`job`], [`explain`], [`policy`]: the commands' own runs.
//!
//! It reads from every stage and no stage reads from it.

pub mod analysis;
pub mod audit;
pub mod explain;
pub mod job;
pub mod outputs;
pub mod policy;
pub mod pull;
pub mod pushdown;
pub mod setup;
pub mod timer;
