//! Files written whole or not at all: reports, the job's state, pulled
//! events. A reader never sees half a file, and after a crash the path
//! holds either the old content or the new.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `bytes` to `path` atomically (see [`write_atomically_with`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomically_with(path, |file| Ok(file.write_all(bytes)?))
}

/// Lets `write` fill a temporary file beside `path`, syncs it, and renames
/// it over `path`, creating `path`'s directory first.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    let tmp = temporary_beside(path);
    let mut file =
        File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    write(&mut file)
        .and_then(|()| Ok(file.sync_all()?))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    // The rename itself is durable once the directory is synced.
    File::open(dir).and_then(|d| d.sync_all()).ok();
    Ok(())
}

/// `report.html` -> `report.html.tmp`, in the same directory (a rename
/// across file systems would not be atomic).
fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_whole_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/dir/summary.json");
        write_atomically(&path, b"{}\n").unwrap();
        write_atomically(&path, b"{\"second\": true}\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"second\": true}\n");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.json"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("findings.json");
        write_atomically(&path, b"old").unwrap();
        let failed = write_atomically_with(&path, |_| anyhow::bail!("disk full"));
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
    }
}
