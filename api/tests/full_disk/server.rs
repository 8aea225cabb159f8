//! The server binary under test, its log captured.

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use tests::{TempDir, api_binary, capture, sigterm};

use super::BOUND;

/// The server binary, its log captured; killed on drop if still running.
pub(super) struct Server {
    child: Child,
    pub(super) base: String,
    log: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl Server {
    pub(super) fn start(database_url: &str) -> Self {
        let dir = TempDir::new("posts-full-disk-cwd");
        let mut child = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
            .env("DATABASE_URL", database_url)
            .env("PORT", "0")
            .env("SECRET_KEY", "full-disk-test-secret-key-0123456789abcdef")
            .env("BCRYPT_COST", "4")
            .env("WORKERS", "2")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        capture(child.stderr.take().expect("stderr"), Arc::clone(&log), tx);
        let port = rx.recv_timeout(BOUND).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!(
                "the server did not start ({e:?}): {:?}",
                log.lock().map(|l| l.join("\n"))
            )
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        }
    }

    pub(super) fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// SIGTERM, then waits for the exit (bounded).
    pub(super) fn stop(&mut self) {
        sigterm(&self.child);
        let deadline = std::time::Instant::now() + BOUND;
        while matches!(self.child.try_wait(), Ok(None)) {
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
