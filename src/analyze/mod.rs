//! Stage 2, analyze: what the normalised events say.

pub mod activity;
pub mod columns;
pub mod overview;
pub mod policy;
pub mod prior;
pub mod privilege;
pub mod rates;
#[cfg(test)]
pub(crate) mod sample_findings;
pub mod suppressions;
pub mod trends;
