//! The server binary under process-level faults: a database unreachable at start, SIGTERM
//! under load, `kill -9` under a write load, stray signals, and clients that stall their
//! bodies or never read their responses; and two server processes on one database.
//!
//! Each test runs the real binary against a database of its own: a fresh SQLite file, or,
//! when `TEST_DATABASE_URL` is set, a fresh PostgreSQL database created (and dropped) through
//! it. Every wait is bounded so a failure can never hang CI. This file holds what the test
//! modules share: that database, the server process, and requests to it.
//!
//! A test runs past ~50 lines only where its table of cases, or the steps of its scenario,
//! read best in one place.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(target_os = "linux")]
mod priority;
mod shared;
mod signals;
mod slow_clients;
mod slow_upload;
mod start;
mod stop;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{Value, json};
use tests::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tests::{
    TempDir, TestDatabase, api_binary, block_on, capture, send_sync, sigterm, sync_client,
};

/// The most any single wait may take; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct-horse-battery";

/// Every request of these tests but the raw ones of [`SlowUpload`]: each on a connection of
/// its own, as the load of a real fleet of clients would be.
static HTTP: LazyLock<Client> = LazyLock::new(|| sync_client(BOUND));

/// A database of the test's own (see [`TestDatabase`]).
fn test_db() -> TestDatabase {
    block_on(TestDatabase::create("posts_process"))
}

/// Every post as `(id, title, content)`, read directly from the database.
fn posts(database: &TestDatabase) -> Vec<(i64, String, String)> {
    block_on(async {
        let db = Database::connect(database.url()).await.expect("connect");
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT CAST(id AS BIGINT) AS id, title, content FROM posts ORDER BY id",
            ))
            .await
            .expect("read posts");
        if backend == DbBackend::Sqlite {
            let check = db
                .query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
                .await
                .expect("integrity check")
                .expect("a row")
                .try_get_by_index::<String>(0)
                .expect("text");
            assert_eq!(check, "ok", "SQLite integrity check");
        }
        db.close().await.ok();
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<i64>("", "id").expect("id"),
                    r.try_get::<String>("", "title").expect("title"),
                    r.try_get::<String>("", "content").expect("content"),
                )
            })
            .collect()
    })
}

/// The server binary, started with a clean environment in a directory without `.env`.
fn command(database_url: &str, vars: &[(&str, &str)], dir: &Path) -> Command {
    let mut cmd = api_binary(env!("CARGO_BIN_EXE_api"), dir);
    cmd.env("DATABASE_URL", database_url)
        .env("PORT", "0")
        .env("SECRET_KEY", "process-test-secret-key-0123456789abcdef")
        .env("BCRYPT_COST", "4")
        .env("WORKERS", "2")
        .env("DATABASE_CONNECT_TIMEOUT_SECS", "5")
        .env("DATABASE_ACQUIRE_TIMEOUT_SECS", "2")
        .env("RUST_LOG", "info");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// A running server process; killed on drop if still running.
struct Server {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl Server {
    /// Starts the binary and waits (at most `bound`) until it listens.
    fn start(database_url: &str, vars: &[(&str, &str)], bound: Duration) -> Server {
        Self::start_with(database_url, vars, bound, |_| {})
    }

    /// [`start`](Self::start), with the command changed by `configure` first.
    fn start_with(
        database_url: &str,
        vars: &[(&str, &str)],
        bound: Duration,
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        let dir = TempDir::new("posts-process");
        let mut cmd = command(database_url, vars, dir.path());
        configure(&mut cmd);
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("stderr");
        capture(pipe, Arc::clone(&stderr), tx);
        let port = match rx.recv_timeout(bound) {
            Ok(port) => port,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "server did not start ({e:?}): {:?}",
                    stderr.lock().map(|l| l.join("\n")).unwrap_or_default()
                );
            }
        };
        Server {
            child,
            port,
            stderr,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn sigterm(&self) {
        sigterm(&self.child);
    }

    /// Waits at most `bound` for the process to exit.
    fn wait_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if start.elapsed() >= bound {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Registers a user and logs in; returns the token.
    fn user(&self, name: &str) -> String {
        let email = format!("{name}@example.com");
        let body = json!({"email": email, "password": PASSWORD});
        let (status, _) =
            request(self.addr(), Method::POST, "/users/", None, Some(&body)).expect("register");
        assert_eq!(status, 201, "register");
        let form = [("username", email.as_str()), ("password", PASSWORD)];
        let login = HTTP.post(format!("http://{}/login", self.addr()));
        let (status, body) = send_sync(login.form(&form)).expect("login");
        assert_eq!(status, 200, "login: {body}");
        let json: Value = serde_json::from_str(&body).expect("JSON");
        json["access_token"].as_str().expect("token").to_owned()
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

/// One request on a connection of its own: status and body, or what cut it off.
fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    json_body: Option<&Value>,
) -> reqwest::Result<(u16, String)> {
    let mut req = HTTP.request(method, format!("http://{addr}{path}"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = json_body {
        req = req.json(body);
    }
    send_sync(req)
}

fn content_of(title: &str) -> String {
    format!("{title}: {}", "0123456789".repeat(100))
}

fn post_body(title: &str) -> Value {
    json!({"title": title, "content": content_of(title), "published": true})
}
