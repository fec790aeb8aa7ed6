//! The job's state directory: a manifest naming the files of the current
//! generation, the files themselves, and a lock.
//!
//! Crash safety comes from the order of writes. A run writes every file of
//! the next generation under a new name (`<role>.g<N>.<ext>`, each written
//! to a temporary name, synced and renamed), then replaces `manifest.json`
//! the same way. The rename of the manifest is the commit: a run killed
//! before it leaves the previous manifest, whose files are all still there;
//! a run killed after it leaves the new one. Files no manifest names
//! (left by a killed run, or replaced) are removed by the next commit.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::files::{write_atomically, write_atomically_with};
use polars::prelude::{DataFrame, ParquetCompression, ParquetReader, ParquetWriter, SerReader};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const MANIFEST: &str = "manifest.json";
const LOCK: &str = "lock";
/// Bumped when the layout changes incompatibly; an older kvaudit refuses a
/// newer state rather than misreading it.
pub const FORMAT_VERSION: u32 = 1;

/// What one log file looked like when it was last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    pub size: u64,
    /// Newline count of the bytes read (the next range starts at line `lines + 1`).
    pub lines: u32,
    /// `json-lines`, `json-document`, `csv`, `parquet`, or none (unreadable).
    pub layout: Option<String>,
    /// SHA-256 of the first [`HEAD_BYTES`] bytes (fewer for a smaller file),
    /// so a file replaced by one of the same or larger size is noticed.
    pub head: String,
}

/// Bytes hashed to recognise a file again.
pub const HEAD_BYTES: u64 = 4096;

/// The manifest: what the current generation holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub generation: u64,
    /// When the generation was committed (RFC 3339).
    pub committed_at: String,
    /// role (`events/2026-11-20`, `prior/sightings`, `findings`, ...) -> file name.
    pub documents: BTreeMap<String, String>,
    /// Log files read, by path.
    pub files: BTreeMap<String, FileMark>,
    /// End of the last complete Log Analytics pull (RFC 3339), per workspace.
    pub watermarks: BTreeMap<String, String>,
}

/// Another run holds the state's lock: its own exit code
/// ([`crate::report::exit::Exit::LockHeld`]), so that a scheduler can tell
/// "still running" from a broken configuration.
#[derive(Debug)]
pub struct LockHeld {
    pub lock: PathBuf,
    /// What the lock file says of its holder (pid, host, since when).
    pub holder: String,
}

impl std::fmt::Display for LockHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "another kvaudit run holds the state lock {} ({}); wait for it to finish, \
             or give this job its own state directory",
            self.lock.display(),
            self.holder
        )
    }
}

impl std::error::Error for LockHeld {}

/// An open, locked state directory.
pub struct StateDir {
    dir: PathBuf,
    /// Held for the life of the run; the OS releases it if the process dies,
    /// so a lock left by a killed run is never mistaken for a live one.
    lock: File,
    /// What the lock file said when this run took it: a run that died
    /// holding it, else `None`.
    pub stale_lock: Option<String>,
}

impl StateDir {
    /// Opens (creating) the directory and takes its lock; fails at once,
    /// naming the holder, when another run holds it.
    pub fn open(dir: &Path) -> anyhow::Result<StateDir> {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
        let path = dir.join(LOCK);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock {}", path.display()))?;
        let mut holder = String::new();
        let _ = lock.read_to_string(&mut holder);
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(LockHeld {
                    lock: path,
                    holder: holder.trim().to_owned(),
                }
                .into());
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        // A lock file with a holder in it, yet free: that run died without
        // finishing (its state writes were all-or-nothing, see the module doc).
        let stale_lock = (!holder.trim().is_empty()).then(|| holder.trim().to_owned());
        let me = format!(
            "pid {} on {} since {}",
            std::process::id(),
            hostname(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        lock.set_len(0)?;
        lock.seek(SeekFrom::Start(0))?;
        lock.write_all(me.as_bytes())?;
        lock.sync_all()?;
        Ok(StateDir {
            dir: dir.to_owned(),
            lock,
            stale_lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The committed manifest, or `None` before the first commit.
    pub fn manifest(&self) -> anyhow::Result<Option<Manifest>> {
        let path = self.dir.join(MANIFEST);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let manifest: Manifest = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; move the state directory aside to start afresh (the next run then re-reads every log)",
                path.display()
            )
        })?;
        if manifest.version > FORMAT_VERSION {
            bail!(
                "{} was written by a newer kvaudit (state format {}, this one reads {FORMAT_VERSION}); upgrade kvaudit",
                path.display(),
                manifest.version
            );
        }
        Ok(Some(manifest))
    }

    /// A document of the committed generation.
    pub fn document_path(&self, manifest: &Manifest, role: &str) -> Option<PathBuf> {
        manifest.documents.get(role).map(|name| self.dir.join(name))
    }

    pub fn read_json<T: DeserializeOwned>(
        &self,
        manifest: &Manifest,
        role: &str,
    ) -> anyhow::Result<Option<T>> {
        let Some(path) = self.document_path(manifest, role) else {
            return Ok(None);
        };
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("{} is damaged", path.display()))
    }

    pub fn read_parquet(
        &self,
        manifest: &Manifest,
        role: &str,
    ) -> anyhow::Result<Option<DataFrame>> {
        let Some(path) = self.document_path(manifest, role) else {
            return Ok(None);
        };
        let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        ParquetReader::new(file)
            .finish()
            .map(Some)
            .with_context(|| format!("{} is damaged", path.display()))
    }

    /// Starts the generation after `previous`.
    pub fn next_generation(&self, previous: Option<&Manifest>) -> Generation {
        let number = previous.map_or(1, |m| m.generation + 1);
        Generation {
            dir: self.dir.clone(),
            manifest: Manifest {
                version: FORMAT_VERSION,
                generation: number,
                ..Manifest::default()
            },
        }
    }

    /// Makes `generation` the current state, then removes every file no
    /// longer named (see the module doc for why this order is safe).
    pub fn commit(&self, mut generation: Generation) -> anyhow::Result<()> {
        generation.manifest.committed_at =
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let json = serde_json::to_vec_pretty(&generation.manifest)?;
        write_atomically(&self.dir.join(MANIFEST), &json)?;
        let keep: std::collections::BTreeSet<&str> = generation
            .manifest
            .documents
            .values()
            .map(String::as_str)
            .chain([MANIFEST, LOCK])
            .collect();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(name) = name.to_str()
                && !keep.contains(name)
                && entry.file_type()?.is_file()
            {
                fs::remove_file(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            }
        }
        Ok(())
    }
}

impl Drop for StateDir {
    /// A run that ends, however it ends short of dying, empties the lock
    /// file: only a run that died leaves its name in it.
    fn drop(&mut self) {
        let _ = self.lock.set_len(0);
    }
}

/// The files of the next state, written before the manifest names them.
pub struct Generation {
    dir: PathBuf,
    pub manifest: Manifest,
}

impl Generation {
    fn file_name(&self, role: &str, extension: &str) -> String {
        format!(
            "{}.g{}.{extension}",
            role.replace('/', "-"),
            self.manifest.generation
        )
    }

    pub fn write_json<T: Serialize>(&mut self, role: &str, value: &T) -> anyhow::Result<()> {
        let name = self.file_name(role, "json");
        write_atomically(&self.dir.join(&name), &serde_json::to_vec(value)?)?;
        self.manifest.documents.insert(role.to_owned(), name);
        Ok(())
    }

    pub fn write_parquet(&mut self, role: &str, frame: &mut DataFrame) -> anyhow::Result<()> {
        let name = self.file_name(role, "parquet");
        write_atomically_with(&self.dir.join(&name), |file| {
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(frame)?;
            Ok(())
        })?;
        self.manifest.documents.insert(role.to_owned(), name);
        Ok(())
    }

    /// Carries a document of the previous generation over unchanged.
    pub fn keep(&mut self, previous: &Manifest, role: &str) {
        if let Some(name) = previous.documents.get(role) {
            self.manifest
                .documents
                .insert(role.to_owned(), name.clone());
        }
    }
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateDir::open(dir.path()).unwrap();
        assert!(first.stale_lock.is_none());
        let error = StateDir::open(dir.path()).err().unwrap();
        assert!(
            error.downcast_ref::<LockHeld>().is_some(),
            "its own exit code"
        );
        let error = error.to_string();
        assert!(error.contains("another kvaudit run holds"), "{error}");
        assert!(
            error.contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        drop(first);
        let second = StateDir::open(dir.path()).unwrap();
        assert!(second.stale_lock.is_none(), "a run that ended is not stale");
        drop(second);
        // A run killed while holding the lock: the OS released the lock,
        // its name is still in the file.
        fs::write(
            dir.path().join(LOCK),
            "pid 4242 on host since 2026-11-26T06:00:00Z",
        )
        .unwrap();
        let third = StateDir::open(dir.path()).unwrap();
        assert!(third.stale_lock.as_deref().unwrap().contains("pid 4242"));
    }

    #[test]
    fn an_uncommitted_generation_leaves_the_previous_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::open(dir.path()).unwrap();
        assert!(state.manifest().unwrap().is_none());
        let mut first = state.next_generation(None);
        first.write_json("findings", &vec!["a"]).unwrap();
        state.commit(first).unwrap();
        let m1 = state.manifest().unwrap().unwrap();

        // A run that writes its files and dies before committing.
        let mut killed = state.next_generation(Some(&m1));
        killed.write_json("findings", &vec!["b"]).unwrap();
        drop(killed);
        let m = state.manifest().unwrap().unwrap();
        assert_eq!(m.generation, 1);
        let findings: Vec<String> = state.read_json(&m, "findings").unwrap().unwrap();
        assert_eq!(findings, ["a"]);

        // The next commit removes the dead run's file and the replaced one.
        let mut next = state.next_generation(Some(&m));
        next.write_json("findings", &vec!["c"]).unwrap();
        state.commit(next).unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["findings.g2.json", "lock", "manifest.json"]);
    }
}
