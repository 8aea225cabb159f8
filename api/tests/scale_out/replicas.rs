//! The replicas (the server binary's processes) and the queries of the database they share.

use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use tests::sea_orm::{ConnectionTrait, Database, Statement};
use tests::{TempDir, api_binary, capture, sigterm};

use super::{SECRET_KEY, SHUTDOWN_DRAIN, SHUTDOWN_TIMEOUT};

// Database, processes: each cleaned up on drop (the scratch directories and the database
// itself are the harness's `TempDir` and `PgDatabase`).

/// The first column of each row of `sql`, run on the database at `url`, as text.
pub(super) async fn column(url: &str, sql: &str) -> Vec<String> {
    let db = Database::connect(url)
        .await
        .expect("connect to the test database");
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    db.close().await.ok();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

/// Waits at most `bound` for `child` to exit, without blocking the runtime.
pub(super) async fn wait_exit(child: &mut Child, bound: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One replica: the server binary, its output captured; killed on drop if still running.
pub(super) struct Replica {
    name: &'static str,
    pub(super) child: Child,
    pub(super) port: u16,
    listening: mpsc::Receiver<u16>,
    log: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl Replica {
    /// Starts the binary (a clean environment, a directory without `.env`, `PORT=0`); it is
    /// not waited for: see [`Replica::wait_ready`].
    pub(super) fn spawn(name: &'static str, database_url: &str) -> Replica {
        let dir = TempDir::new("posts-scale-out");
        let mut child = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
            .env("DATABASE_URL", database_url)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("SECRET_KEY", SECRET_KEY)
            .env("BCRYPT_COST", "4")
            .env("WORKERS", "2")
            .env("RUST_LOG", "info")
            .env("DATABASE_CONNECT_TIMEOUT_SECS", "10")
            .env(
                "SHUTDOWN_TIMEOUT_SECS",
                SHUTDOWN_TIMEOUT.as_secs().to_string(),
            )
            .env("SHUTDOWN_DRAIN_SECS", SHUTDOWN_DRAIN.as_secs().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, listening) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        capture(stdout, Arc::clone(&log), tx.clone());
        capture(stderr, Arc::clone(&log), tx);
        Replica {
            name,
            child,
            port: 0,
            listening,
            log,
            _dir: dir,
        }
    }

    /// Waits (at most `bound`) for the "listening on port N" line, then for `/ready` to
    /// answer 200.
    pub(super) async fn wait_ready(&mut self, client: &Client, bound: Duration) {
        let deadline = Instant::now() + bound;
        loop {
            match self.listening.try_recv() {
                Ok(port) => {
                    self.port = port;
                    break;
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    panic!(
                        "replica {} exited before listening:\n{}",
                        self.name,
                        self.log()
                    )
                }
            }
            assert!(
                Instant::now() < deadline,
                "replica {} did not listen within {bound:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            if let Ok(r) = client.get(format!("{}/ready", self.base())).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replica {} not ready within {bound:?}:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(super) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) fn upstream(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(super) fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    pub(super) fn sigterm(&self) {
        sigterm(&self.child);
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
