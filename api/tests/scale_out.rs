//! Scale-out: two replicas of the real server binary on one PostgreSQL database, with nginx
//! load-balancing in front of them. `.ci/scale-out.sh` runs it:
//!
//! ```sh
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo test -p api --test scale_out -- --ignored --nocapture
//! ```
//!
//! It needs PostgreSQL (`TEST_DATABASE_URL`, an admin URL: a fresh database is created and
//! dropped through it) and `nginx` on `PATH` (or at `/usr/sbin/nginx`); with either missing it
//! fails, it never skips. What it proves, step by step:
//!
//! 1. Two replicas started at the same moment on one fresh database, both migrating at start
//!    (`AUTO_MIGRATE` on): both become ready, and the schema was migrated exactly once
//!    (`seaql_migrations` holds each migration once; without the advisory lock the second
//!    replica's `CREATE TABLE` or its bookkeeping insert would fail and it would not start).
//! 2. nginx in front of them spreads requests over both.
//! 3. State is in the database only: a user registered and logged in on one replica uses the
//!    token on the other; a post written through one is read through the other.
//! 4. Votes are exactly-once across replicas: concurrent votes through A, B and nginx are each
//!    201 and a duplicate through another path is 409; the same vote raced through A and B at
//!    once is one 201 and one 409, its removal raced the same way one 201 and one 404; every
//!    count is exact.
//! 5. A rolling stop: under a read/write load through nginx, replica A gets SIGTERM. A exits 0
//!    well within its shutdown timeout; B answers a direct probe every few milliseconds
//!    throughout; every GET through nginx succeeds (a refused or reset connection to A is
//!    retried on B); every POST through nginx succeeds, except that a POST nginx had already
//!    sent to A when A stopped may get nginx's 502 (nginx does not retry a sent POST: see
//!    [`nginx_conf`]) — counted, and allowed only between the SIGTERM and A's exit; after A's
//!    exit every request succeeds, served by B; no POST is applied twice, and every POST
//!    answered 201 is in the database.
//!
//! Every wait is bounded; every child process (replicas, nginx) is killed on drop, and the
//! database is dropped on drop, also when an assertion fails.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use migration::MigratorTrait;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tests::sea_orm::{ConnectionTrait, Database, Statement};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use tests::{PgDatabase, TempDir, api_binary, capture, free_port, sigterm, unique};

/// The most any single wait may take; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(20);
/// The replicas' `SHUTDOWN_TIMEOUT_SECS`.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Both replicas sign and check tokens with it: a token from one is good on the other.
const SECRET_KEY: &str = "scale-out-test-secret-key-0123456789abcdef";
const PASSWORD: &str = "correct-horse-battery";
/// Users voting in step 4.
const VOTERS: usize = 12;
/// Client tasks of the load in step 5.
const LOAD_CLIENTS: usize = 6;

// ------------------------------------------------------------------------------------------
// Prerequisites: fail loudly, never skip.

fn admin_url() -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
        Ok(url) if !url.is_empty() => panic!(
            "TEST_DATABASE_URL must be a postgres:// admin URL for the scale-out test, not {url:?}"
        ),
        _ => panic!(
            "TEST_DATABASE_URL is not set: the scale-out test needs PostgreSQL \
             (.ci/scale-out.sh sets it to postgres://postgres@127.0.0.1:5432/postgres)"
        ),
    }
}

fn nginx_binary() -> PathBuf {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx is not on PATH (nor /usr/sbin/nginx): the scale-out test needs it \
                 (.ci/scale-out.sh installs Debian's package)"
            )
        })
}

// ------------------------------------------------------------------------------------------
// Database, processes: each cleaned up on drop (the scratch directories and the database
// itself are the harness's `TempDir` and `PgDatabase`).

/// The first column of each row of `sql`, run on the database at `url`, as text.
async fn column(url: &str, sql: &str) -> Vec<String> {
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
async fn wait_exit(child: &mut Child, bound: Duration) -> Option<ExitStatus> {
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
struct Replica {
    name: &'static str,
    child: Child,
    port: u16,
    listening: mpsc::Receiver<u16>,
    log: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl Replica {
    /// Starts the binary (a clean environment, a directory without `.env`, `PORT=0`); it is
    /// not waited for: see [`Replica::wait_listening`].
    fn spawn(name: &'static str, database_url: &str) -> Replica {
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
    async fn wait_ready(&mut self, client: &Client, bound: Duration) {
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

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn upstream(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    fn sigterm(&self) {
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

/// nginx's configuration: one process in the foreground, every file in `dir`, round-robin
/// over the replicas.
///
/// `proxy_next_upstream error timeout`: a request whose connection to a replica fails (refused
/// once it has stopped listening, reset, timed out) is passed to the other replica. nginx
/// does that for a POST only when the POST was not sent yet (a refused connection); a POST
/// already sent is never retried, because `non_idempotent` is deliberately left out: a POST
/// the replica may have applied before the connection broke would be applied twice (a second
/// post), or be answered 409 for a vote that did succeed. What that costs at a rolling stop is
/// what step 5 measures. `http_502`/`http_503` are left out too: the server never answers 502,
/// and its 503 means the database is away, which the other replica shares.
/// `X-Upstream` tells the test which replica(s) nginx tried for each answer.
fn nginx_conf(dir: &std::path::Path, port: u16, upstreams: &[String]) -> String {
    let d = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|u| format!("        server {u} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    format!(
        r#"# Written by api/tests/scale_out.rs
daemon off;
master_process off;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream api {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://api;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 5s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"#
    )
}

/// nginx in front of the replicas; killed on drop.
struct Nginx {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Nginx {
    async fn start(client: &Client, upstreams: &[String]) -> Nginx {
        let binary = nginx_binary();
        let dir = TempDir::new("posts-scale-out-nginx");
        let port = free_port();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, nginx_conf(dir.path(), port, upstreams)).expect("write nginx.conf");
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let mut nginx = Nginx { child, port, dir };
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = nginx.child.try_wait().expect("try_wait") {
                panic!("nginx exited ({status}):\n{}", nginx.error_log());
            }
            if let Ok(r) = client.get(format!("{}/health", nginx.base())).send().await
                && r.status() == StatusCode::OK
            {
                return nginx;
            }
            assert!(
                Instant::now() < deadline,
                "nginx not answering within {BOUND:?}:\n{}",
                nginx.error_log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ------------------------------------------------------------------------------------------
// HTTP.

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

async fn register(client: &Client, base: &str, email: &str) -> i64 {
    let r = client
        .post(format!("{base}/users/"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("register");
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "register {email} at {base}"
    );
    let body: Value = r.json().await.expect("JSON");
    body["id"].as_i64().expect("id")
}

async fn login(client: &Client, base: &str, email: &str) -> String {
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK, "login {email} at {base}");
    let body: Value = r.json().await.expect("JSON");
    body["access_token"].as_str().expect("token").to_owned()
}

fn post_body(title: &str) -> Value {
    json!({"title": title, "content": format!("{title}: content"), "published": true})
}

/// POST /posts/: the new post's id.
async fn create_post(client: &Client, base: &str, token: &str, title: &str) -> i64 {
    let r = client
        .post(format!("{base}/posts/"))
        .bearer_auth(token)
        .json(&post_body(title))
        .send()
        .await
        .expect("create post");
    assert_eq!(r.status(), StatusCode::CREATED, "create post at {base}");
    let body: Value = r.json().await.expect("JSON");
    body["id"].as_i64().expect("id")
}

async fn vote(client: &Client, base: &str, token: &str, post: i64, dir: u8) -> StatusCode {
    client
        .post(format!("{base}/vote/"))
        .bearer_auth(token)
        .json(&json!({"post_id": post, "dir": dir}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("vote at {base}: {e}"))
        .status()
}

async fn votes_on(client: &Client, base: &str, token: &str, post: i64) -> i64 {
    let r = client
        .get(format!("{base}/posts/{post}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get post");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("JSON");
    body["votes"].as_i64().expect("votes")
}

// ------------------------------------------------------------------------------------------
// The load of step 5.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Get,
    Post,
}

/// One request through nginx: when it started and ended, and its status and the replica(s)
/// nginx tried (`X-Upstream`), or the client-side error.
#[derive(Debug)]
struct Sample {
    op: Op,
    title: Option<String>,
    started: Instant,
    ended: Instant,
    outcome: Result<(StatusCode, String), String>,
}

async fn load_client(
    client: Client,
    base: String,
    token: String,
    worker: usize,
    stop: Arc<AtomicBool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut own_post: Option<i64> = None;
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let op = match i % 3 {
            0 => Op::Post,
            1 => Op::List,
            _ => Op::Get,
        };
        let title = (op == Op::Post).then(|| format!("load {worker}-{i}"));
        let request = match (op, own_post) {
            (Op::Post, _) => client
                .post(format!("{base}/posts/"))
                .json(&post_body(title.as_deref().unwrap_or_default())),
            (Op::Get, Some(id)) => client.get(format!("{base}/posts/{id}")),
            _ => client.get(format!("{base}/posts/?limit=5")),
        };
        let started = Instant::now();
        let outcome = match request.bearer_auth(&token).send().await {
            Ok(r) => {
                let status = r.status();
                let upstream = r
                    .headers()
                    .get("x-upstream")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = r.text().await.unwrap_or_default();
                if op == Op::Post && status == StatusCode::CREATED {
                    own_post = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["id"].as_i64());
                }
                Ok((status, upstream))
            }
            Err(e) => Err(e.to_string()),
        };
        samples.push(Sample {
            op,
            title,
            started,
            ended: Instant::now(),
            outcome,
        });
    }
    samples
}

/// GET /posts/?limit=1 straight to a replica every 10 ms until told to stop: each status, or
/// the error.
async fn probe(client: Client, base: String, token: String, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut seen = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let outcome = client
            .get(format!("{base}/posts/?limit=1"))
            .bearer_auth(&token)
            .send()
            .await;
        seen.push(match outcome {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => e.to_string(),
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs nginx and PostgreSQL: .ci/scale-out.sh runs it"]
async fn two_replicas_behind_nginx_share_one_database_and_survive_a_rolling_stop() {
    let admin_url = admin_url();
    let _ = nginx_binary(); // fail before anything is started
    let http = client();
    let db = PgDatabase::create(&admin_url, "posts_scale_out").await;

    // 1. Two replicas at the same moment on a fresh database, both migrating at start.
    let t0 = Instant::now();
    let mut a = Replica::spawn("A", &db.url);
    let mut b = Replica::spawn("B", &db.url);
    a.wait_ready(&http, BOUND).await;
    b.wait_ready(&http, BOUND).await;
    eprintln!(
        "step 1: replicas A ({}) and B ({}) ready {:?} after both were spawned",
        a.port,
        b.port,
        t0.elapsed()
    );
    let expected: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let applied = column(
        &db.url,
        "SELECT version FROM seaql_migrations ORDER BY version",
    )
    .await;
    assert_eq!(applied, expected, "each migration recorded exactly once");
    let (log_a, log_b) = (a.log(), b.log());
    for name in &expected {
        let needle = format!("Applying migration '{name}'");
        let times = log_a.matches(&needle).count() + log_b.matches(&needle).count();
        // sea-orm-migration logs each migration it applies (at info): across both replicas,
        // once. Only checked when its log lines reach the output at all.
        if log_a.contains("Applying migration") || log_b.contains("Applying migration") {
            assert_eq!(
                times, 1,
                "{name} applied {times} times:\nA:\n{log_a}\nB:\n{log_b}"
            );
        }
    }
    for (name, log) in [("A", &log_a), ("B", &log_b)] {
        assert!(!log.contains("panicked"), "replica {name}:\n{log}");
    }
    let applied_by = |log: &str| log.matches("Applying migration '").count();
    eprintln!(
        "step 1: seaql_migrations holds each of the {} migrations once; applied by A: {}, \
         by B: {} (per their logs)",
        expected.len(),
        applied_by(&log_a),
        applied_by(&log_b)
    );

    // 2. nginx in front of both.
    let nginx = Nginx::start(&http, &[a.upstream(), b.upstream()]).await;
    let mut served_by = Vec::new();
    for _ in 0..6 {
        let r = http
            .get(format!("{}/ready", nginx.base()))
            .send()
            .await
            .expect("ready through nginx");
        assert_eq!(r.status(), StatusCode::OK);
        served_by.push(
            r.headers()
                .get("x-upstream")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert!(
        served_by.contains(&a.upstream()) && served_by.contains(&b.upstream()),
        "nginx spreads requests over both replicas: {served_by:?}"
    );
    eprintln!("step 2: nginx on {} balancing over A and B", nginx.port);

    // 3. A user registered and logged in on A works on B; what one writes the other reads.
    let email = format!("{}@example.com", unique("owner"));
    let user_id = register(&http, &a.base(), &email).await;
    let token = login(&http, &a.base(), &email).await;
    let r = http
        .get(format!("{}/posts/", b.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list on B");
    assert_eq!(r.status(), StatusCode::OK, "A's token on B");
    let on_b = create_post(&http, &b.base(), &token, "written through B").await;
    let r = http
        .get(format!("{}/posts/{on_b}", a.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get on A");
    assert_eq!(r.status(), StatusCode::OK, "B's post read through A");
    let r = http
        .get(format!("{}/users/{user_id}", b.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("user on B");
    assert_eq!(r.status(), StatusCode::OK, "A's user read through B");
    eprintln!("step 3: token from A accepted by B; writes through one read through the other");

    // 4. Votes across replicas, exactly once.
    let paths = [a.base(), b.base(), nginx.base()];
    let mut voters = Vec::new();
    for i in 0..VOTERS {
        let email = format!("{}@example.com", unique("voter"));
        let base = &paths[i % 3];
        register(&http, base, &email).await;
        voters.push(login(&http, base, &email).await);
    }
    let post = create_post(&http, &nginx.base(), &token, "voted on").await;
    // 4a. Each voter once, all at the same moment, through A, B and nginx in turn: all 201.
    let statuses = race(&http, &voters, |i| vec![(paths[i % 3].clone(), post, 1)]).await;
    for (i, s) in statuses.iter().enumerate() {
        assert_eq!(
            s,
            &[StatusCode::CREATED],
            "voter {i} through {}",
            paths[i % 3]
        );
    }
    // The same votes again, each through another path: all 409.
    let statuses = race(&http, &voters, |i| {
        vec![(paths[(i + 1) % 3].clone(), post, 1)]
    })
    .await;
    for (i, s) in statuses.iter().enumerate() {
        assert_eq!(s, &[StatusCode::CONFLICT], "duplicate vote of voter {i}");
    }
    assert_eq!(
        votes_on(&http, &nginx.base(), &token, post).await,
        VOTERS as i64
    );
    // 4b. Each voter's vote sent through A and B at the same moment: one 201, one 409.
    let raced = create_post(&http, &nginx.base(), &token, "raced").await;
    let statuses = race(&http, &voters, |_| {
        vec![(a.base(), raced, 1), (b.base(), raced, 1)]
    })
    .await;
    for (i, s) in statuses.iter().enumerate() {
        let mut s = s.clone();
        s.sort();
        assert_eq!(
            s,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "voter {i}'s vote raced through A and B"
        );
    }
    assert_eq!(
        votes_on(&http, &a.base(), &token, raced).await,
        VOTERS as i64
    );
    // Its removal raced the same way: one 201, one 404 (no such vote any more).
    let statuses = race(&http, &voters, |_| {
        vec![(b.base(), raced, 0), (a.base(), raced, 0)]
    })
    .await;
    for (i, s) in statuses.iter().enumerate() {
        let mut s = s.clone();
        s.sort();
        assert_eq!(
            s,
            [StatusCode::CREATED, StatusCode::NOT_FOUND],
            "voter {i}'s removal raced through A and B"
        );
    }
    assert_eq!(votes_on(&http, &b.base(), &token, raced).await, 0);
    eprintln!(
        "step 4: {VOTERS} concurrent votes through A, B and nginx: all 201, duplicates 409; \
         {VOTERS} votes raced through A and B at once: one 201 + one 409 each, removals one \
         201 + one 404 each; counts exact"
    );

    // 5. A rolling stop under load through nginx.
    let stop = Arc::new(AtomicBool::new(false));
    let stop_probe = Arc::new(AtomicBool::new(false));
    let mut load = JoinSet::new();
    for w in 0..LOAD_CLIENTS {
        load.spawn(load_client(
            client(),
            nginx.base(),
            token.clone(),
            w,
            Arc::clone(&stop),
        ));
    }
    let probing = tokio::spawn(probe(
        client(),
        b.base(),
        token.clone(),
        Arc::clone(&stop_probe),
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let term = Instant::now();
    a.sigterm();
    let status = wait_exit(&mut a.child, SHUTDOWN_TIMEOUT + Duration::from_secs(2))
        .await
        .unwrap_or_else(|| {
            panic!(
                "A still running {:?} after SIGTERM:\n{}",
                term.elapsed(),
                a.log()
            )
        });
    let exited = Instant::now();
    let exit_took = exited - term;
    assert!(status.success(), "A's exit status {status}:\n{}", a.log());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    let deadline = tokio::time::Instant::now() + BOUND;
    while let Some(done) = tokio::time::timeout_at(deadline, load.join_next())
        .await
        .expect("the load clients finish within the bound")
    {
        samples.extend(done.expect("load client"));
    }
    stop_probe.store(true, Ordering::Relaxed);
    let probed = tokio::time::timeout(BOUND, probing)
        .await
        .expect("the probe finishes")
        .expect("probe");

    // B answered the direct probe throughout.
    assert!(probed.len() > 50, "B probed only {} times", probed.len());
    let probe_failures: Vec<_> = probed.iter().filter(|s| *s != "200").collect();
    assert!(
        probe_failures.is_empty(),
        "B failed its probe while A stopped: {probe_failures:?}"
    );

    // Every request through nginx got an answer; classify them.
    let (a_up, b_up) = (a.upstream(), b.upstream());
    let mut before = (0, 0); // (served by A, by B) before the SIGTERM
    let mut retried = 0; // answers after nginx tried A first, then B
    let mut post_502_in_window = Vec::new();
    let mut acknowledged = Vec::new();
    for s in &samples {
        let (status, upstream) = match &s.outcome {
            Ok(answer) => answer,
            Err(e) => panic!("{:?} {:?}: no answer from nginx: {e}", s.op, s.title),
        };
        let last = upstream.rsplit(", ").next().unwrap_or_default();
        if s.ended < term {
            match last {
                u if u == a_up => before.0 += 1,
                u if u == b_up => before.1 += 1,
                _ => {}
            }
        }
        if upstream.contains(&a_up) && last == b_up {
            retried += 1;
        }
        let ok = match s.op {
            Op::Post => *status == StatusCode::CREATED,
            Op::List | Op::Get => *status == StatusCode::OK,
        };
        if ok {
            if let Some(title) = &s.title {
                acknowledged.push(title.clone());
            }
            continue;
        }
        // The one failure allowed: a POST nginx had already sent to A when A stopped, answered
        // by nginx with 502 (not retried, by design), while A was stopping.
        let in_window = s.started < exited && s.ended >= term;
        assert!(
            s.op == Op::Post
                && *status == StatusCode::BAD_GATEWAY
                && in_window
                && upstream == &a_up,
            "{:?} {:?} through nginx: {status} from {upstream:?} \
             (started {:?} after the SIGTERM, A exited {exit_took:?} after it)\n\
             nginx error log:\n{}",
            s.op,
            s.title,
            s.started.checked_duration_since(term),
            nginx.error_log()
        );
        post_502_in_window.push(s.title.clone().unwrap_or_default());
    }
    assert!(
        before.0 > 0 && before.1 > 0,
        "before the stop, nginx spread the load over both replicas: {before:?}"
    );
    let after: Vec<_> = samples.iter().filter(|s| s.started > exited).collect();
    assert!(
        after.len() > 20,
        "only {} requests after A's exit",
        after.len()
    );
    for s in &after {
        let Ok((_, upstream)) = &s.outcome else {
            unreachable!("checked above")
        };
        assert!(
            upstream.ends_with(&b_up),
            "after A's exit, answered by B: {upstream}"
        );
    }

    // No POST applied twice; every one answered 201 is there.
    let titles = column(&db.url, "SELECT title FROM posts WHERE title LIKE 'load %'").await;
    let distinct: HashSet<&String> = titles.iter().collect();
    assert_eq!(
        distinct.len(),
        titles.len(),
        "a POST through nginx applied twice"
    );
    for title in &acknowledged {
        assert!(
            distinct.contains(title),
            "{title}: answered 201 but not in the database"
        );
    }
    let unanswered_kept = post_502_in_window
        .iter()
        .filter(|t| distinct.contains(t))
        .count();

    // The remaining replica keeps serving, directly and through nginx.
    for base in [b.base(), nginx.base()] {
        let r = http
            .get(format!("{base}/ready"))
            .send()
            .await
            .expect("ready");
        assert_eq!(r.status(), StatusCode::OK, "{base}/ready after the stop");
    }
    create_post(&http, &nginx.base(), &token, "after the stop").await;
    let log_a = a.log();
    assert!(!log_a.contains("panicked"), "A:\n{log_a}");

    let count = |op: Op| samples.iter().filter(|s| s.op == op).count();
    eprintln!(
        "step 5: {} requests through nginx from {LOAD_CLIENTS} clients ({} POST, {} list, {} \
         get) in {:?}; before the SIGTERM A served {}, B {}; A exited 0 {exit_took:?} after \
         SIGTERM (timeout {SHUTDOWN_TIMEOUT:?}); {retried} answers came from B after nginx \
         tried A; {} POSTs got 502 while A stopped ({unanswered_kept} of them applied \
         nonetheless); {} requests after A's exit, all answered by B; B answered all {} \
         direct probes; {} acknowledged POSTs all in the database, none twice",
        samples.len(),
        count(Op::Post),
        count(Op::List),
        count(Op::Get),
        samples
            .iter()
            .map(|s| s.ended)
            .max()
            .zip(samples.iter().map(|s| s.started).min())
            .map(|(end, start)| end - start)
            .unwrap_or_default(),
        before.0,
        before.1,
        post_502_in_window.len(),
        after.len(),
        probed.len(),
        acknowledged.len(),
    );

    // B stops cleanly too.
    b.sigterm();
    let status = wait_exit(&mut b.child, SHUTDOWN_TIMEOUT + Duration::from_secs(2))
        .await
        .expect("B exits after SIGTERM");
    assert!(status.success(), "B's exit status {status}:\n{}", b.log());
    drop(nginx);
}

/// For each voter `i`, sends the votes `plan(i)` — `(base, post, dir)` — all of every voter's
/// at the same moment (a barrier), and returns each voter's statuses in plan order.
async fn race(
    http: &Client,
    voters: &[String],
    plan: impl Fn(usize) -> Vec<(String, i64, u8)>,
) -> Vec<Vec<StatusCode>> {
    let plans: Vec<_> = (0..voters.len()).map(&plan).collect();
    let total = plans.iter().map(Vec::len).sum();
    let barrier = Arc::new(Barrier::new(total));
    let mut tasks = JoinSet::new();
    for (i, votes) in plans.into_iter().enumerate() {
        for (k, (base, post, dir)) in votes.into_iter().enumerate() {
            let (http, token, barrier) = (http.clone(), voters[i].clone(), Arc::clone(&barrier));
            tasks.spawn(async move {
                barrier.wait().await;
                (i, k, vote(&http, &base, &token, post, dir).await)
            });
        }
    }
    let mut out: Vec<Vec<(usize, StatusCode)>> = vec![Vec::new(); voters.len()];
    let deadline = tokio::time::Instant::now() + BOUND;
    while let Some(done) = tokio::time::timeout_at(deadline, tasks.join_next())
        .await
        .expect("the votes are answered within the bound")
    {
        let (i, k, status) = done.expect("vote task");
        out[i].push((k, status));
    }
    out.into_iter()
        .map(|mut v| {
            v.sort_by_key(|(k, _)| *k);
            v.into_iter().map(|(_, s)| s).collect()
        })
        .collect()
}
