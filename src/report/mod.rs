//! Stage 3, report: what a run tells its reader (terminal), its machines
//! (JSON) and its scheduler (exit code).

pub mod charts;
pub mod csv;
pub mod findings;
pub mod html;
pub mod job;
pub mod rates;
pub mod summary;
pub mod terminal;
