//! `--pushdown`: what the analyses know of the workspace beyond the pulled
//! events, and the first Cedar pass whose flagged rate windows the second
//! phase pulls whole (docs/pushdown.md has the why).

use chrono::DateTime;
use polars::prelude::DataFrame;

use super::analysis::AnalysisOptions;
use super::setup::Setup;
use crate::analyze::columns::{UNKNOWN_VAULT, vault_spans};
use crate::analyze::policy;
use crate::analyze::prior::Prior;
use crate::analyze::rates;
use crate::ingest::Ingested;
use crate::ingest::azure_monitor::pushdown::{
    Aggregates, FlaggedPull, FlaggedWindow, describe_pieces,
};
use crate::ingest::azure_monitor::query::Slice;

/// Says at run time what `--pushdown` changes.
pub fn explain_pushdown(aggregates: &Aggregates, flagged: &FlaggedPull, ingested: &Ingested) {
    tracing::warn!(
        "--pushdown: rate windows ({} counted in the workspace) and permission use come from \
         the workspace's aggregates; the {} events pulled are those the event policies look \
         at and every event of the {} rate window(s) Cedar flagged ({} more), so the summary's \
         counts describe them, and {} did not run (they need every event); see docs/pushdown.md",
        aggregates.windows.height(),
        ingested.records_analyzed(),
        flagged.windows,
        flagged.added,
        rates::NEED_EVERY_EVENT.join(", ")
    );
    if let Some(note) = describe_pieces(aggregates.windows_from_several_slices) {
        tracing::warn!("--pushdown: {note}");
    }
}

/// What the analyses know of the workspace beyond the pulled events: each
/// vault's logged period (learning periods, expiry) is the workspace's, not
/// that of the few events pulled.
pub fn pushdown_prior(aggregates: &Aggregates) -> anyhow::Result<Prior> {
    Ok(Prior {
        spans: vault_spans(&aggregates.vaults)?,
        ..Prior::default()
    })
}

/// The first judgement of `--pushdown`: the rate windows Cedar flags from
/// the workspace's counts, whose events the second phase pulls. Only the
/// observations are judged here (no event is), as in the full analysis that
/// follows, which judges the same counts with the same policies.
pub fn flagged_windows(
    setup: &Setup,
    events: &DataFrame,
    aggregates: &Aggregates,
    options: &AnalysisOptions,
) -> anyhow::Result<Vec<FlaggedWindow>> {
    let prior = pushdown_prior(aggregates)?;
    let observations =
        rates::observe_with(events, &options.rates, &prior, Some(&aggregates.windows))?;
    let no_event = vec![false; events.height()];
    let evaluation =
        policy::evaluate_rows(events, Some(&no_event), &observations, &setup.policies)?;
    Ok(evaluation
        .rate_rows
        .iter()
        .filter(|row| row.is_rate_window())
        .map(|row| FlaggedWindow {
            caller: row.principal.clone(),
            // The workspace's counts name no vault with an empty one.
            vault: if row.vault == UNKNOWN_VAULT {
                String::new()
            } else {
                row.vault.clone()
            },
            range: Slice {
                start: DateTime::from_timestamp_nanos(row.start),
                end: DateTime::from_timestamp_nanos(row.end),
            },
        })
        .collect())
}
