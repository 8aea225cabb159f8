//! Helpers shared by the `api` crate's integration tests: unique names, scratch directories,
//! free ports, a PostgreSQL database of a test's own, and the server binary (a clean
//! environment, its output captured, SIGTERM).

// Each test binary compiles this module and uses a subset of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use sea_orm::{ConnectionTrait, Database};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test (of this run or a concurrent one) uses: `prefix`, the process id and
/// a counter.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a fresh directory named after `prefix` (see [`unique`]) in the system's
    /// temporary directory.
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
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

/// Runs `f` to completion on a current-thread runtime of its own.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The `api` binary, to run in `dir` with nothing inherited but `PATH`: no variable of the
/// test's environment and no `.env` of the checkout applies.
pub fn api_binary(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_api"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// Copies `pipe`'s lines into `log` on a thread of its own, sending the port of a
/// "listening on port N" line.
pub fn capture(
    pipe: impl Read + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    tx: mpsc::Sender<u16>,
) {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = line
                .split("listening on port ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = tx.send(port);
            }
            if let Ok(mut l) = log.lock() {
                l.push(line);
            }
        }
    });
}

/// Sends SIGTERM to `child`.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {} failed", child.id());
}

/// A fresh PostgreSQL database, created through an admin URL (`TEST_DATABASE_URL`) and
/// dropped through it on drop.
pub struct PgDatabase {
    /// The URL of the new database: the admin URL with the database's name as its path.
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a database named after `prefix` (see [`unique`]).
    pub async fn create(admin_url: &str, prefix: &str) -> Self {
        let name = unique(prefix);
        let admin = Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is unreachable: {e}"));
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        PgDatabase {
            url: url.to_string(),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop may run inside a test's runtime (or while unwinding out of it): a runtime of
        // its own, on a thread of its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = thread::spawn(move || {
            block_on(async {
                let admin = Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!(
                        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                    ))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}
