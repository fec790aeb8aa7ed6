//! Stage 1, ingest: Key Vault audit logs in any of their export forms, read
//! into one normalised polars `DataFrame` (see [`schema`]) plus an account of
//! every record that could not be read ([`rejections`]).

pub mod azure_monitor;
pub mod dedup;
pub mod formats;
pub mod identity;
pub mod inputs;
pub mod inventory;
pub mod lenient;
pub mod normalise;
pub mod parquet;
pub mod reader;
pub mod rejections;
pub mod resource;
pub mod schema;
pub mod time;
pub mod utf16;

use indicatif::ProgressBar;
use polars::prelude::*;
use rayon::prelude::*;

pub use inputs::Input;
use reader::read_input;
use rejections::RejectionLog;

/// Per-input account, for the data-quality part of reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputSummary {
    pub name: String,
    pub layout: Option<&'static str>,
    pub records_read: u64,
    pub records_rejected: u64,
    /// Newlines up to where reading stopped, in the file's own numbering
    /// (the scheduled job resumes a grown file at the next line).
    #[serde(skip)]
    pub lines: u32,
}

/// Everything ingest produced.
pub struct Ingested {
    /// Normalised events, ordered by time (ties keep input order).
    pub events: DataFrame,
    pub rejections: RejectionLog,
    pub records_read: u64,
    /// Records read that repeat one already read (a duplicate delivery,
    /// overlapping exports): counted once, in `events`, and here for each
    /// later copy ([`dedup`]).
    pub records_duplicate: u64,
    pub inputs: Vec<InputSummary>,
    /// The account of a Log Analytics pull, when events came from one.
    pub pull: Option<azure_monitor::PullAccount>,
}

impl Ingested {
    /// Records analysed: those read, less the rejected and the duplicates.
    pub fn records_analyzed(&self) -> u64 {
        self.events.height() as u64
    }

    /// Adds another ingest's events and account to this one; a record both
    /// hold is kept once (this one's copy).
    pub fn merge(&mut self, other: Ingested) -> PolarsResult<()> {
        let events = std::mem::take(&mut self.events);
        let (events, duplicates) = dedup::drop_duplicates(combine(vec![events, other.events])?)?;
        self.events = events;
        self.rejections.merge(other.rejections);
        self.records_read += other.records_read;
        self.records_duplicate += other.records_duplicate + duplicates;
        self.inputs.extend(other.inputs);
        absorb_pull(&mut self.pull, other.pull);
        Ok(())
    }
}

/// Reads every input (in parallel) and normalises them into one frame, each
/// record once however many inputs hold it.
pub fn ingest(inputs: &[Input], progress: &ProgressBar) -> PolarsResult<Ingested> {
    let outcomes: Vec<_> = inputs
        .par_iter()
        .map(|input| read_any(input, progress))
        .collect::<PolarsResult<_>>()?;

    let mut rejections = RejectionLog::default();
    let mut records_read = 0;
    let mut summaries = Vec::with_capacity(outcomes.len());
    let mut frames = Vec::new();
    let mut pull = None;
    for outcome in outcomes {
        absorb_pull(&mut pull, outcome.pull);
        summaries.push(InputSummary {
            name: outcome.name,
            layout: outcome.layout,
            records_read: outcome.records,
            records_rejected: outcome.rejections.total(),
            lines: outcome.lines,
        });
        records_read += outcome.records;
        rejections.merge(outcome.rejections);
        frames.extend(outcome.frames);
    }
    let (events, records_duplicate) = dedup::drop_duplicates(combine(frames)?)?;
    Ok(Ingested {
        events,
        rejections,
        records_read,
        records_duplicate,
        inputs: summaries,
        pull,
    })
}

fn absorb_pull(
    into: &mut Option<azure_monitor::PullAccount>,
    other: Option<azure_monitor::PullAccount>,
) {
    match (into.as_mut(), other) {
        (Some(account), Some(other)) => account.absorb(other),
        (None, other) => *into = other,
        (Some(_), None) => {}
    }
}

/// One input's outcome, whatever reader read it.
struct Outcome {
    name: String,
    layout: Option<&'static str>,
    frames: Vec<DataFrame>,
    rejections: RejectionLog,
    records: u64,
    /// The pull account kept in a Parquet file.
    pull: Option<azure_monitor::PullAccount>,
    lines: u32,
}

/// Reads one input: Parquet files (kvaudit's own frames) are loaded as they
/// are, everything else is a log export to parse; which is told from the
/// input's first bytes, by the reader that reads it.
fn read_any(input: &Input, progress: &ProgressBar) -> PolarsResult<Outcome> {
    let read = read_input(input, progress)?;
    Ok(Outcome {
        name: read.name,
        layout: read.layout.map(reader::Layout::as_str),
        frames: read.frames,
        rejections: read.rejections,
        records: read.records,
        lines: read.lines,
        pull: read.pull,
    })
}

/// Stacks per-piece frames and orders them by time.
///
/// The pieces are not rechunked first: the time order is computed once and
/// each column is gathered into one chunk and its pieces freed, a column
/// per thread at a time, so the peak is the frame plus a column per core
/// rather than two frames.
pub fn combine(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut frames = frames.into_iter();
    let Some(mut events) = frames.next() else {
        return schema::empty_frame();
    };
    for frame in frames {
        events.vstack_mut_owned(frame)?;
    }
    let order = events
        .column("time")?
        .as_materialized_series()
        .arg_sort(SortOptions::default().with_maintain_order(true));
    let height = events.height();
    let columns = events
        .into_columns()
        .into_par_iter()
        .map(|column| {
            // SAFETY: `order` is a permutation of the frame's rows.
            let mut sorted = unsafe { column.take_unchecked(&order) }.rechunk();
            if sorted.name() == "time" {
                sorted.set_sorted_flag(polars::series::IsSorted::Ascending);
            }
            sorted
        })
        .collect();
    DataFrame::new(height, columns)
}
