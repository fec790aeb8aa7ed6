//! What the user named on the command line, expanded into the inputs to read:
//! files, directories (walked), glob patterns and `-` for standard input.

use std::fmt;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::ProgressBar;

/// File extensions read when walking a directory. Files named explicitly
/// are always read, whatever their name.
pub const LOG_EXTENSIONS: [&str; 6] = ["json", "jsonl", "ndjson", "csv", "gz", "parquet"];

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    File(PathBuf),
    /// Bytes `start..end` of a JSON-lines file whose first `start` bytes were
    /// read before (an append blob that grew): lines are numbered from
    /// `first_line`, so rejections name the file's own line numbers.
    Range {
        path: PathBuf,
        start: u64,
        end: u64,
        first_line: u32,
    },
    Stdin,
    /// Records already in memory, under a name their rejections carry (a
    /// policy test case's records).
    Memory {
        name: String,
        bytes: std::sync::Arc<[u8]>,
    },
}

impl Input {
    /// The name reports use for it.
    pub fn name(&self) -> String {
        match self {
            Input::File(path) | Input::Range { path, .. } => path.display().to_string(),
            Input::Stdin => "-".to_owned(),
            Input::Memory { name, .. } => name.clone(),
        }
    }

    /// Whether this is the rest of a file read before (a range that starts past 0).
    pub fn resumes(&self) -> bool {
        matches!(self, Input::Range { start, .. } if *start > 0)
    }

    /// The number of the first line read (1 unless a range starts later).
    pub fn first_line(&self) -> u32 {
        match self {
            Input::Range { first_line, .. } => *first_line,
            _ => 1,
        }
    }

    /// Size on disk, for progress; unknown for stdin.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Input::Range { start, end, .. } => Some(end.saturating_sub(*start)),
            Input::Stdin => None,
            Input::Memory { bytes, .. } => Some(bytes.len() as u64),
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A reader whose reads count towards a progress bar.
pub(crate) struct CountingReader {
    inner: Box<dyn Read + Send>,
    progress: ProgressBar,
}

impl CountingReader {
    pub(crate) fn new(inner: Box<dyn Read + Send>, progress: ProgressBar) -> Self {
        CountingReader { inner, progress }
    }
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

fn is_glob(arg: &str) -> bool {
    arg.contains(['*', '?', '['])
}

fn has_log_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| LOG_EXTENSIONS.iter().any(|l| e.eq_ignore_ascii_case(l)))
}

/// Adds the log files under `dir`. Symbolic links are followed, to files
/// and to folders alike; a link that leads back into the walk (a loop) or
/// to nothing is skipped with a warning naming it, never silently.
fn walk(dir: &Path, out: &mut Vec<Input>) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let Some(path) = e.path().map(Path::to_owned) else {
                    return Err(e).with_context(|| format!("cannot walk {}", dir.display()));
                };
                if let Some(ancestor) = e.loop_ancestor() {
                    tracing::warn!(
                        "{}: skipped: a symbolic link back to {}, which is already being read (a loop)",
                        path.display(),
                        ancestor.display()
                    );
                    continue;
                }
                if path.is_symlink() && std::fs::metadata(&path).is_err() {
                    tracing::warn!(
                        "{}: skipped: a symbolic link to {}, which does not exist",
                        path.display(),
                        std::fs::read_link(&path)
                            .map_or_else(|_| "?".to_owned(), |t| t.display().to_string())
                    );
                    continue;
                }
                return Err(e).with_context(|| format!("cannot walk {}", dir.display()));
            }
        };
        let path = entry.path();
        let named_as_log = has_log_extension(path)
            || (entry.path_is_symlink()
                && std::fs::canonicalize(path).is_ok_and(|target| has_log_extension(&target)));
        if entry.file_type().is_file() && named_as_log {
            out.push(Input::File(entry.into_path()));
        }
    }
    Ok(())
}

/// What makes two inputs the same: a file's canonical path (so `logs/x`,
/// `./logs/x` and a link to it are read once), else the input itself.
fn identity(input: &Input) -> Input {
    match input {
        Input::File(path) => {
            Input::File(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
        }
        other => other.clone(),
    }
}

/// Expands command-line paths into inputs, in a stable order.
pub fn expand(args: &[String]) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            walk(path, &mut inputs)?;
        } else if path.exists() {
            inputs.push(Input::File(path.to_owned()));
        } else if is_glob(arg) {
            let matches =
                glob::glob(arg).with_context(|| format!("{arg}: not a valid glob pattern"))?;
            let before = inputs.len();
            for entry in matches {
                let path = entry.with_context(|| format!("{arg}: cannot read a match"))?;
                if path.is_dir() {
                    walk(&path, &mut inputs)?;
                } else {
                    inputs.push(Input::File(path));
                }
            }
            if inputs.len() == before {
                bail!("{arg}: the pattern matches no files");
            }
        } else {
            bail!("{arg}: no such file or directory");
        }
    }
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|input| seen.insert(identity(input)));
    Ok(inputs)
}
