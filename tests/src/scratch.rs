//! Scratch resources a test owns and cleans up: unique names, directories, free ports, and a
//! runtime for the synchronous tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test uses: `prefix`, the process id, a counter, and the clock's
/// nanoseconds (so a name left behind by a crashed run whose process id comes back is not
/// reused either).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

/// A scratch directory, removed with everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory named after `prefix` (see [`unique`]) in the system's
    /// temporary directory.
    pub fn new(prefix: &str) -> Self {
        let dir = Self::planned(prefix);
        std::fs::create_dir_all(&dir.0).expect("create a scratch directory");
        dir
    }

    /// Names a fresh directory like [`TempDir::new`] without creating it, for a test that
    /// makes it appear later; it is removed on drop all the same.
    pub fn planned(prefix: &str) -> Self {
        TempDir(std::env::temp_dir().join(unique(prefix)))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The URL of a SQLite file `posts.db` in this directory, created on first connect.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}/posts.db?mode=rwc", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Runs `f` to completion on a current-thread runtime of its own: for synchronous tests, and
/// for drops that may run inside (or while unwinding out of) another runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
