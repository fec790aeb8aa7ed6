//! The scheduled compliance job's own pieces, beside the three stages:
//! its configuration file ([`config`]), the state directory that carries
//! what earlier runs read ([`state`]), which logs are new ([`sources`]),
//! and the history the analyses need from earlier runs ([`history`]).
//! `kvaudit run` (in `commands`) drives them through ingest, analyze and
//! report.

pub mod config;
pub mod history;
pub mod sources;
pub mod state;
