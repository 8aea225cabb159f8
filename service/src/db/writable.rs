//! Whether the SQLite file can still be written, for readiness.
//!
//! A write probe cannot tell on SQLite: in WAL mode a transaction rolled back writes nothing
//! to disk, and one that commits would be a real write on every probe; and with writers busy
//! it would queue behind them for the busy timeout. What makes writes fail is the file system:
//! the file deleted or replaced (the open connections then write to a file no one will ever
//! read again: the inode at the path is no longer the one opened), or the file, or its
//! directory (where the WAL and shared-memory files live), not writable any more: a read-only
//! mount, or permissions (for a user other than root). Each is one system call: `stat` of the
//! path, and `access(W_OK)` of the file and of its directory, a few microseconds all told.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;

/// The database file opened at start: its path and the file (device and inode) it was.
#[derive(Debug)]
pub(crate) struct SqliteFile {
    path: PathBuf,
    identity: Option<(u64, u64)>,
}

impl SqliteFile {
    /// The file `url` names, as it is now (after connecting); `None` for an in-memory
    /// database or a URL sqlx cannot read.
    pub(crate) fn opened(url: &str) -> Option<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        let path = options.get_filename().to_path_buf();
        let identity = identity(&path);
        Some(Self { path, identity })
    }

    /// Why writes would fail now, if they would: the file gone or replaced, or not writable.
    pub(crate) fn unwritable(&self) -> Option<String> {
        let shown = self.path.display();
        match identity(&self.path) {
            None => return Some(format!("{shown} is gone")),
            Some(now) if self.identity.is_some_and(|then| then != now) => {
                return Some(format!("{shown} was replaced by another file"));
            }
            Some(_) => {}
        }
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        [self.path.as_path(), dir]
            .into_iter()
            .find_map(|p| not_writable(p).map(|e| format!("{} is not writable: {e}", p.display())))
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|_| (0, 0))
}

/// Why this process could not write `path`, if it could not (`access(2)` with `W_OK`: a
/// read-only mount answers `EROFS`, whoever asks).
#[cfg(target_os = "linux")]
fn not_writable(path: &Path) -> Option<std::io::Error> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c_path` is a NUL-terminated string that lives across the call, which only
    // reads it.
    let rc = unsafe { libc::access(c_path.as_ptr(), libc::W_OK) };
    (rc != 0).then(std::io::Error::last_os_error)
}

#[cfg(not(target_os = "linux"))]
fn not_writable(path: &Path) -> Option<std::io::Error> {
    let meta = std::fs::metadata(path).ok()?;
    meta.permissions()
        .readonly()
        .then(|| std::io::Error::from(std::io::ErrorKind::PermissionDenied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_unwritable() {
        let dir = std::env::temp_dir().join(format!("posts-writable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        std::fs::write(&path, b"x").unwrap();
        let file = SqliteFile::opened(&format!("sqlite://{}?mode=rwc", path.display())).unwrap();
        assert_eq!(file.unwritable(), None);
        std::fs::remove_file(&path).unwrap();
        assert!(file.unwritable().unwrap().contains("is gone"));
        std::fs::write(&path, b"y").unwrap();
        let replaced = file.unwritable().unwrap_or_default();
        // A new file may reuse the inode number; then only the path's writability is known.
        assert!(replaced.contains("replaced") || replaced.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(SqliteFile::opened("sqlite::memory:").is_none());
    }
}
