//! The server binary under process-level faults: a database unreachable at start, SIGTERM
//! under load, `kill -9` under a write load.
//!
//! Each test runs the real binary against a database of its own: a fresh SQLite file, or,
//! when `TEST_DATABASE_URL` is set, a fresh PostgreSQL database created (and dropped) through
//! it. Every wait is bounded so a failure can never hang CI.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use tests::{
    TempDir, TestDatabase, api_binary, block_on, capture, free_port, send_sync, sigterm,
    sync_client, unique,
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
        let dir = TempDir::new("posts-process");
        let mut child = command(database_url, vars, dir.path())
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

// Raw HTTP over `std::net`, for [`SlowUpload`] alone: a client that stops halfway through a
// body is the point there, and no HTTP client does that on purpose.

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, BOUND)?;
    s.set_read_timeout(Some(BOUND))?;
    s.set_write_timeout(Some(BOUND))?;
    Ok(s)
}

fn head(
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    len: usize,
    keep_alive: bool,
) -> String {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: {content_type}\r\n\
         Content-Length: {len}\r\nConnection: {connection}\r\n\r\n"
    )
}

/// Reads one response (headers, then `Content-Length` bytes of body): status and body.
fn read_response(s: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(ErrorKind::InvalidData)?;
    let len: usize = headers
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[header_end..header_end + len]).into_owned();
    Ok((status, body))
}

fn content_of(title: &str) -> String {
    format!("{title}: {}", "0123456789".repeat(100))
}

fn post_body(title: &str) -> Value {
    json!({"title": title, "content": content_of(title), "published": true})
}

/// Runs the binary to completion (at most [`BOUND`]): exit status, stderr, time taken.
fn run_to_exit(database_url: &str, vars: &[(&str, &str)]) -> (ExitStatus, String, Duration) {
    let dir = TempDir::new("posts-process");
    let start = Instant::now();
    let mut child = command(database_url, vars, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server binary");
    let mut pipe = child.stderr.take().expect("stderr");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server neither started nor exited within {BOUND:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    (status, reader.join().unwrap_or_default(), took)
}

/// With the database out of reach, start-up retries for `DATABASE_CONNECT_TIMEOUT_SECS`, then
/// exits non-zero with one line on stderr that names the database's host (no panic trace):
/// PostgreSQL refusing connections, PostgreSQL never answering (a port that accepts but says
/// nothing), a SQLite file whose directory does not exist. Each attempt is bounded by the
/// acquire timeout, so the whole wait is bounded. None needs a database server.
#[test]
fn an_unreachable_database_stops_start_up_after_the_connect_timeout() {
    let refused = free_port();
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let missing = std::env::temp_dir().join(unique("no-such-dir"));
    let cases = [
        (
            format!("postgres://postgres@127.0.0.1:{refused}/posts"),
            format!("127.0.0.1:{refused}"),
            "off",
        ),
        (
            format!("postgres://app:s3cret@127.0.0.1:{silent_port}/posts"),
            format!("127.0.0.1:{silent_port}"),
            "off",
        ),
        (
            format!("sqlite://{}/posts.db?mode=rwc", missing.display()),
            missing.display().to_string(),
            "off",
        ),
        // With logging on, the retries are logged too; the last line is still the error.
        (
            format!("postgres://postgres@127.0.0.1:{refused}/posts"),
            format!("127.0.0.1:{refused}"),
            "info",
        ),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(url, names, log)| {
            thread::spawn(move || {
                let vars = [
                    ("DATABASE_CONNECT_TIMEOUT_SECS", "2"),
                    ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
                    ("RUST_LOG", log),
                ];
                (run_to_exit(&url, &vars), url, names, log)
            })
        })
        .collect();
    for run in runs {
        let ((status, stderr, took), url, names, log) = run.join().expect("run");
        let what = format!("{url} (RUST_LOG={log})");
        assert!(!status.success(), "{what}: should not start");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(
            !stderr.contains("s3cret"),
            "{what}: password shown: {stderr}"
        );
        let error = stderr.trim().lines().last().unwrap_or("");
        assert!(
            error.starts_with("error: cannot reach the database at ") && error.contains(&names),
            "{what}: should name {names}: {stderr}"
        );
        if log == "off" {
            assert_eq!(
                stderr.trim().lines().count(),
                1,
                "{what}: one line: {stderr}"
            );
        } else {
            assert!(stderr.contains("retrying"), "{what}: {stderr}");
        }
        assert!(
            took >= Duration::from_secs(2),
            "{what}: gave up after {took:?}"
        );
        assert!(
            took <= Duration::from_secs(6),
            "{what}: kept trying for {took:?}"
        );
    }
    drop(silent);
}

/// Forwards connections on `port` to `target` from when it starts until dropped.
struct Forwarder {
    stop: Arc<AtomicBool>,
}

impl Forwarder {
    fn start(port: u16, target: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the late port");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if let Ok(server) = TcpStream::connect(target) {
                            pipe(&client, &server);
                            pipe(&server, &client);
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Forwarder { stop }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies `from` into `to` on a thread until either side closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    if let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) {
        thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    }
}

/// A database that becomes reachable within `DATABASE_CONNECT_TIMEOUT_SECS` is waited for: the
/// server starts and serves. PostgreSQL: its port opens 1.5 s after the server started.
/// SQLite: the file's directory appears 1.5 s after the server started.
#[test]
fn a_database_that_comes_up_within_the_connect_timeout_is_waited_for() {
    let db = test_db();
    let late = Duration::from_millis(1500);
    let (url, opener): (String, thread::JoinHandle<Box<dyn Send>>) = match &db {
        TestDatabase::Postgres(_) => {
            let mut url = url::Url::parse(db.url()).expect("URL");
            let target = resolve(url.host_str().expect("host"), url.port().unwrap_or(5432));
            let port = free_port();
            url.set_host(Some("127.0.0.1")).expect("host");
            url.set_port(Some(port)).expect("port");
            let opener = thread::spawn(move || {
                thread::sleep(late);
                Box::new(Forwarder::start(port, target)) as Box<dyn Send>
            });
            (url.to_string(), opener)
        }
        TestDatabase::Sqlite { .. } => {
            // Not created yet: the opener creates it, late.
            let dir = TempDir::planned("late-dir");
            let url = dir.sqlite_url();
            let opener = thread::spawn(move || {
                thread::sleep(late);
                std::fs::create_dir_all(dir.path()).expect("create the directory");
                Box::new(dir) as Box<dyn Send>
            });
            (url, opener)
        }
    };
    let start = Instant::now();
    let mut server = Server::start(
        &url,
        &[
            ("DATABASE_CONNECT_TIMEOUT_SECS", "10"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
        ],
        BOUND,
    );
    let took = start.elapsed();
    let _opened = opener.join().expect("opener");
    assert!(
        took >= late,
        "started after {took:?}, before the database was up"
    );
    let (status, body) = request(server.addr(), Method::GET, "/ready", None, None).expect("ready");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let token = server.user("late");
    let (status, _) = request(
        server.addr(),
        Method::POST,
        "/posts/",
        Some(&token),
        Some(&post_body("late")),
    )
    .expect("create");
    assert_eq!(status, 201);
    assert!(server.stderr().contains("retrying"), "{}", server.stderr());
    server.sigterm();
    assert!(server.wait_exit(BOUND).is_some());
}

fn resolve(host: &str, port: u16) -> SocketAddr {
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .expect("resolve the database host")
        .next()
        .expect("an address")
}

/// A POST /posts/ whose body is half sent: the request is in flight until [`finish`] sends
/// the rest. The connection is proved accepted (a request answered on it) before.
struct SlowUpload {
    stream: TcpStream,
    rest: Vec<u8>,
    title: String,
}

impl SlowUpload {
    fn begin(addr: SocketAddr, token: &str, title: &str) -> Self {
        let mut stream = connect(addr).expect("connect");
        let probe = head("GET", "/health", None, "application/json", 0, true);
        stream.write_all(probe.as_bytes()).expect("send probe");
        let (status, _) = read_response(&mut stream).expect("probe answered");
        assert_eq!(status, 200);
        let body = post_body(title).to_string().into_bytes();
        let head = head(
            "POST",
            "/posts/",
            Some(token),
            "application/json",
            body.len(),
            false,
        );
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).expect("send head");
        stream.write_all(first).expect("send half the body");
        SlowUpload {
            stream,
            rest: rest.to_vec(),
            title: title.to_owned(),
        }
    }

    fn finish(mut self) -> Outcome {
        let result = self
            .stream
            .write_all(&self.rest)
            .and_then(|()| read_response(&mut self.stream));
        (self.title, result.map_err(|e| e.to_string()))
    }
}

/// A post's title and what its POST was answered: status and body, or the error that cut it
/// off.
type Outcome = (String, Result<(u16, String), String>);

/// Writers posting in a loop on fresh connections until told to stop or the server is gone;
/// each records what it was answered.
fn write_load(
    addr: SocketAddr,
    token: &str,
    writers: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<Vec<Outcome>>> {
    (0..writers)
        .map(|w| {
            let (token, stop) = (token.to_owned(), Arc::clone(stop));
            thread::spawn(move || {
                let mut results = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let title = format!("load {w}-{i}");
                    let result = request(
                        addr,
                        Method::POST,
                        "/posts/",
                        Some(&token),
                        Some(&post_body(&title)),
                    )
                    .map_err(|e| e.to_string());
                    let gone = result.is_err();
                    results.push((title, result));
                    if gone {
                        break;
                    }
                }
                results
            })
        })
        .collect()
}

/// Every title answered 201 is in the database, once, whole; and no row is torn.
fn assert_acknowledged_writes_kept(db: &TestDatabase, acknowledged: &[String]) {
    let posts = posts(db);
    for title in acknowledged {
        let found: Vec<_> = posts.iter().filter(|(_, t, _)| t == title).collect();
        assert_eq!(found.len(), 1, "acknowledged post {title:?} is there once");
    }
    for (id, title, content) in &posts {
        assert_eq!(content, &content_of(title), "post {id} is whole");
    }
}

/// SIGTERM under load: requests in flight (bodies half uploaded, writes being handled) all
/// complete with 2xx; new connections are refused as soon as shutdown starts, while those
/// requests are still running; the process exits promptly once they are done (well within
/// `SHUTDOWN_TIMEOUT_SECS`) and successfully; every acknowledged write is in the database.
#[test]
fn sigterm_finishes_requests_in_flight_and_refuses_new_connections() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[("SHUTDOWN_TIMEOUT_SECS", "10")], BOUND);
    let addr = server.addr();
    let token = server.user("sigterm");

    let uploads: Vec<_> = (0..3)
        .map(|i| SlowUpload::begin(addr, &token, &format!("in flight {i}")))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let load = write_load(addr, &token, 3, &stop);
    thread::sleep(Duration::from_millis(300));

    let term = Instant::now();
    server.sigterm();
    let refused = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => break term.elapsed(),
            _ => {}
        }
        assert!(
            term.elapsed() < Duration::from_secs(3),
            "still accepting after SIGTERM"
        );
        thread::sleep(Duration::from_millis(10));
    };
    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "exited with requests still in flight"
    );
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    for upload in uploads {
        let (title, result) = upload.finish();
        let (status, body) = result.unwrap_or_else(|e| panic!("{title}: cut off ({e})"));
        assert_eq!(status, 201, "{title}: {body}");
        acknowledged.push(title);
    }
    let finished = Instant::now();
    let mut answered = 0;
    for writer in load {
        for (title, result) in writer.join().expect("writer") {
            match result {
                Ok((201, _)) => {
                    answered += 1;
                    acknowledged.push(title);
                }
                Ok((status, body)) => panic!("{title}: {status} {body}"),
                Err(_) => {} // never accepted: not acknowledged, nothing to keep
            }
        }
    }
    assert!(answered > 0, "the load got nothing done");

    let status = server
        .wait_exit(Duration::from_secs(10 + 2).saturating_sub(term.elapsed()))
        .unwrap_or_else(|| {
            panic!(
                "still running after the shutdown timeout: {}",
                server.stderr()
            )
        });
    assert!(
        status.success(),
        "exit status {status}: {}",
        server.stderr()
    );
    assert!(
        finished.elapsed() < Duration::from_secs(3),
        "lingered {:?} after the last request",
        finished.elapsed()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    eprintln!(
        "refused new connections {refused:?} after SIGTERM; {answered} load writes acknowledged"
    );
    assert_acknowledged_writes_kept(&db, &acknowledged);
}

/// SIGTERM with a request that never finishes (its client stalls mid-body): the process
/// waits for it only `SHUTDOWN_TIMEOUT_SECS`, then exits; the request writes nothing.
#[test]
fn sigterm_exits_within_the_shutdown_timeout_despite_a_stalled_request() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[("SHUTDOWN_TIMEOUT_SECS", "1")], BOUND);
    let token = server.user("stalled");
    let upload = SlowUpload::begin(server.addr(), &token, "never finished");
    thread::sleep(Duration::from_millis(100));

    let term = Instant::now();
    server.sigterm();
    let status = server
        .wait_exit(Duration::from_secs(1 + 3))
        .unwrap_or_else(|| panic!("still running 4 s after SIGTERM: {}", server.stderr()));
    let took = term.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "did not wait for the request: {took:?}"
    );
    assert!(
        status.success(),
        "exit status {status}: {}",
        server.stderr()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    let (_, result) = upload.finish();
    assert!(
        result.is_err(),
        "a stalled request has no answer: {result:?}"
    );
    assert!(posts(&db).is_empty(), "the stalled request wrote nothing");
}

/// `kill -9` under a write load, then a restart on the same database: every POST /posts/
/// answered 201 is there, whole; nothing is torn; the server starts and serves again.
#[test]
fn kill_9_under_write_load_loses_no_acknowledged_write() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[], BOUND);
    let addr = server.addr();
    let token = server.user("killed");
    let stop = Arc::new(AtomicBool::new(false));
    let load = write_load(addr, &token, 4, &stop);
    thread::sleep(Duration::from_millis(800));
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reaped");
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    let mut cut_off = 0;
    for writer in load {
        for (title, result) in writer.join().expect("writer") {
            match result {
                Ok((201, _)) => acknowledged.push(title),
                Ok((status, body)) => panic!("{title}: {status} {body}"),
                Err(_) => cut_off += 1,
            }
        }
    }
    assert!(
        acknowledged.len() >= 10,
        "only {} writes",
        acknowledged.len()
    );
    assert!(
        cut_off > 0,
        "the writers were still writing when the server died"
    );

    let restarted = Server::start(db.url(), &[], BOUND);
    let (status, _) = request(restarted.addr(), Method::GET, "/ready", None, None).expect("ready");
    assert_eq!(status, 200);
    let (status, body) = request(
        restarted.addr(),
        Method::GET,
        "/posts/?limit=100",
        Some(&token),
        None,
    )
    .expect("list");
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("JSON");
    assert!(!listed.as_array().expect("a list").is_empty());
    assert_acknowledged_writes_kept(&db, &acknowledged);
    eprintln!(
        "{} writes acknowledged before kill -9, {cut_off} cut off; all kept",
        acknowledged.len()
    );
}

/// bcrypt runs on threads with a nice value of 10 (Linux), so that a login flood yields the
/// CPU to every other route, and, from Linux 6.12, with a time slice of 0.1 ms, so that a
/// woken request waits at most that long for one; the threads answering requests keep the
/// defaults.
#[cfg(target_os = "linux")]
#[test]
fn bcrypt_runs_on_lowered_priority_threads() {
    let db = test_db();
    let server = Server::start(db.url(), &[], BOUND);
    server.user("nice"); // a registration and a login: two hashes on the blocking pool
    // (name, nice value, the time slice it asked for in ns where the kernel shows one)
    let threads: Vec<(String, i64, Option<u64>)> =
        std::fs::read_dir(format!("/proc/{}/task", server.child.id()))
            .expect("the server's threads")
            .filter_map(|t| {
                let path = t.ok()?.path();
                // "tid (name) state ...": fields after the name; nice is field 19 of stat.
                let stat = std::fs::read_to_string(path.join("stat")).ok()?;
                let (head, rest) = stat.rsplit_once(')')?;
                let name = head.split_once('(')?.1.to_owned();
                let nice = rest.split_whitespace().nth(16)?.parse().ok()?;
                // "se.slice   :   100000" in sched.
                let sched = std::fs::read_to_string(path.join("sched")).unwrap_or_default();
                let slice = sched
                    .lines()
                    .find(|l| l.starts_with("se.slice"))
                    .and_then(|l| l.rsplit(':').next()?.trim().parse().ok());
                Some((name, nice, slice))
            })
            .collect();
    assert!(
        threads.iter().any(|(_, nice, _)| *nice == 10),
        "no thread at nice 10: {threads:?}"
    );
    assert!(
        threads
            .iter()
            .any(|(name, nice, _)| name.starts_with("actix") && *nice == 0),
        "the workers must keep their priority: {threads:?}"
    );

    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut version = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    if (version.next(), version.next()) < (Some(6), Some(12)) {
        eprintln!("skipped the slice check: Linux {release} sets no slice of a thread's own");
        return;
    }
    assert!(
        threads
            .iter()
            .filter(|(_, nice, _)| *nice == 10)
            .all(|(_, _, slice)| *slice == Some(100_000)),
        "bcrypt threads with another slice: {threads:?}"
    );
    assert!(
        threads.iter().any(
            |(name, _, slice)| name.starts_with("actix") && slice.is_some_and(|s| s != 100_000)
        ),
        "the workers must keep the default slice: {threads:?}"
    );
}
