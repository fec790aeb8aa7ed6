//! Which log files a run reads, and from where: a file already read is
//! skipped, an append blob that grew is read from where the last run
//! stopped (the start of its last, cut record if it ended mid-record), and
//! a file that changed otherwise is read again whole.
//!
//! Files are remembered by their canonical path ([`key_of`]), not as the
//! configuration or the command line spelt them: `--config kvaudit.toml`
//! and `--config ./kvaudit.toml` name the same files. A state written by an
//! earlier kvaudit, keyed by the path as written, is migrated when read.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::state::{FileMark, HEAD_BYTES};
use crate::ingest::{Input, InputSummary};

/// What to read this run, and what to remember of it.
#[derive(Debug, Default)]
pub struct FilePlan {
    pub inputs: Vec<Input>,
    /// Files read before and unchanged.
    pub unchanged: usize,
    /// Files read before that grew: read from their old end.
    pub resumed: usize,
    /// Files that changed in place (rewritten, truncated, or a gzip or
    /// document that grew): read again whole, so their earlier records may
    /// count twice; each is a warning.
    pub rewritten: Vec<String>,
    /// The marks to commit once the run's reports are written: the previous
    /// marks, updated for each input as it is planned.
    pub marks: BTreeMap<String, FileMark>,
}

/// The key a log file is remembered by: its folder's canonical path (`./`,
/// `../` and symbolic links resolved) joined with its name. A file that
/// cannot be resolved keeps its path as written.
pub fn key_of(path: &Path) -> String {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name).display().to_string(),
        _ => path.display().to_string(),
    }
}

/// The marks of an earlier run under [`key_of`] keys. A state written
/// before files were keyed so names them as written (relative paths are
/// relative to where that run ran, which a scheduled job keeps); where two
/// old keys name one file, the mark of the larger read wins.
pub fn migrate(marks: &BTreeMap<String, FileMark>) -> BTreeMap<String, FileMark> {
    let mut migrated: BTreeMap<String, FileMark> = BTreeMap::new();
    for (old, mark) in marks {
        let key = key_of(Path::new(old));
        match migrated.get(&key) {
            Some(kept) if kept.size >= mark.size => {}
            _ => {
                migrated.insert(key, mark.clone());
            }
        }
    }
    migrated
}

/// Where a file read to `size` before goes on: at `size`, or, when the read
/// ended mid-line (a blob read while a record was being written), at the
/// start of that cut line, so the record is read whole this time.
fn resume_at(path: &Path, size: u64) -> u64 {
    const CHUNK: u64 = 64 << 10;
    let Ok(mut file) = File::open(path) else {
        return size;
    };
    let mut end = size;
    let mut chunk = Vec::new();
    while end > 0 && size - end < crate::ingest::formats::MAX_RECORD_BYTES as u64 {
        let start = end.saturating_sub(CHUNK);
        chunk.clear();
        if file.seek(SeekFrom::Start(start)).is_err()
            || (&mut file)
                .take(end - start)
                .read_to_end(&mut chunk)
                .is_err()
        {
            return size;
        }
        if end == size && chunk.last() == Some(&b'\n') {
            return size;
        }
        if let Some(i) = memchr::memrchr(b'\n', &chunk) {
            return start + i as u64 + 1;
        }
        end = start;
    }
    // The whole file so far is one cut line; or a line longer than any
    // record, rejected as such: go on after it.
    if end == 0 { 0 } else { size }
}

/// Whether the file is gzip-compressed or UTF-16 (a grown one is read
/// again whole: its old end is no place to start decompressing or
/// decoding).
fn is_gzip_or_utf16(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == [0x1f, 0x8b] || crate::ingest::utf16::bom(&magic).is_some())
}

/// SHA-256 (hex) of the first `len` bytes of the file (fewer at its end).
fn head_hash(path: &Path, len: u64) -> std::io::Result<String> {
    let mut head = Vec::new();
    File::open(path)?.take(len).read_to_end(&mut head)?;
    Ok(Sha256::digest(&head)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Plans the reads of `candidates` against the marks of earlier runs.
pub fn plan(candidates: Vec<Input>, previous: &BTreeMap<String, FileMark>) -> FilePlan {
    let previous = migrate(previous);
    let mut plan = FilePlan {
        marks: previous.clone(),
        ..FilePlan::default()
    };
    let mut planned = std::collections::BTreeSet::new();
    for input in candidates {
        let Input::File(path) = &input else {
            plan.inputs.push(input);
            continue;
        };
        let name = input.name();
        let key = key_of(path);
        // The same file named twice (`logs/` and `./logs/`) is read once.
        if !planned.insert(key.clone()) {
            continue;
        }
        // A file that cannot be inspected is read whole: the reader then
        // reports exactly what is wrong with it.
        let Ok(size) = std::fs::metadata(path).map(|m| m.len()) else {
            plan.marks.remove(&key);
            plan.inputs.push(input);
            continue;
        };
        let Some(old) = previous.get(&key) else {
            plan.inputs.push(bounded(input, size));
            continue;
        };
        let same_head =
            head_hash(path, old.size.min(HEAD_BYTES)).ok().as_deref() == Some(old.head.as_str());
        if same_head && size == old.size {
            plan.unchanged += 1;
            continue;
        }
        let appendable = old.layout.as_deref() == Some("json-lines") && !is_gzip_or_utf16(path);
        if same_head && size > old.size && appendable {
            plan.resumed += 1;
            plan.inputs.push(Input::Range {
                path: path.clone(),
                start: resume_at(path, old.size),
                end: size,
                first_line: old.lines + 1,
            });
            continue;
        }
        plan.rewritten.push(name);
        plan.inputs.push(bounded(input, size));
    }
    plan
}

/// The file up to the size it had when planned: a blob still being
/// appended to is read to that point now and from it next run, never twice.
/// (A Parquet file, whole or nothing, is read whole from a range at 0.)
fn bounded(input: Input, size: u64) -> Input {
    match input {
        Input::File(path) => Input::Range {
            path,
            start: 0,
            end: size,
            first_line: 1,
        },
        other => other,
    }
}

impl FilePlan {
    /// Records what each input's read covered, from ingest's account of it.
    pub fn record(&mut self, summaries: &[InputSummary]) {
        let read: BTreeMap<&str, &InputSummary> =
            summaries.iter().map(|s| (s.name.as_str(), s)).collect();
        for input in &self.inputs {
            let (path, start, end) = match input {
                Input::File(path) => {
                    let Ok(size) = std::fs::metadata(path).map(|m| m.len()) else {
                        continue;
                    };
                    (path, 0, size)
                }
                Input::Range {
                    path, start, end, ..
                } => (path, *start, *end),
                Input::Stdin | Input::Memory { .. } => continue,
            };
            let name = input.name();
            let key = key_of(path);
            let (Some(summary), Ok(head)) = (
                read.get(name.as_str()),
                head_hash(path, end.min(HEAD_BYTES)),
            ) else {
                continue;
            };
            // The rest of a file keeps the layout found when it was first read.
            let layout = if start > 0 {
                self.marks.get(&key).and_then(|m| m.layout.clone())
            } else {
                summary.layout.map(str::to_owned)
            };
            self.marks.insert(
                key,
                FileMark {
                    size: end,
                    lines: summary.lines,
                    layout,
                    head,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = "{\"time\":\"2026-11-20T10:00:00Z\",\"operationName\":\"SecretGet\"}\n";

    #[test]
    fn a_grown_blob_is_read_from_its_old_end_and_a_rewritten_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("PT1H.json");
        std::fs::write(&blob, RECORD.repeat(3)).unwrap();
        let first = plan(vec![Input::File(blob.clone())], &BTreeMap::new());
        let whole = |len: usize| Input::Range {
            path: blob.clone(),
            start: 0,
            end: len as u64,
            first_line: 1,
        };
        assert_eq!(first.inputs, [whole(3 * RECORD.len())]);
        let mut first = first;
        first.record(&[InputSummary {
            name: blob.display().to_string(),
            layout: Some("json-lines"),
            records_read: 3,
            records_rejected: 0,
            lines: 3,
        }]);
        let marks = first.marks;
        assert_eq!(marks.values().next().unwrap().lines, 3);

        let again = plan(vec![Input::File(blob.clone())], &marks);
        assert!(again.inputs.is_empty());
        assert_eq!(again.unchanged, 1);

        std::fs::write(&blob, RECORD.repeat(5)).unwrap();
        let grown = plan(vec![Input::File(blob.clone())], &marks);
        assert_eq!(
            grown.inputs,
            [Input::Range {
                path: blob.clone(),
                start: 3 * RECORD.len() as u64,
                end: 5 * RECORD.len() as u64,
                first_line: 4,
            }]
        );

        std::fs::write(&blob, RECORD.replace("10:00", "11:00").repeat(5)).unwrap();
        let rewritten = plan(vec![Input::File(blob.clone())], &marks);
        assert_eq!(rewritten.inputs, [whole(5 * RECORD.len())]);
        assert_eq!(rewritten.rewritten, [blob.display().to_string()]);
    }
}
