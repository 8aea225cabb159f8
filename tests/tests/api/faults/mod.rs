//! Faults: the database going away while serving, locks that exhaust the pool, clients that
//! hang up mid-request.
//!
//! The PostgreSQL faults (backends terminated, the network to the database cut or stalled)
//! take their PostgreSQL form when `TEST_DATABASE_URL` is set; on SQLite, where they cannot
//! happen, the same test checks SQLite's analogue instead (another connection holding the write
//! lock), so no test ever passes without asserting something.
//!
//! Every wait is bounded ([`BOUND`]), so a server that hangs fails the test instead of CI.
//! This module holds the timed requests, waits, locks and checks the test modules share.

mod connections;
mod locks;
mod network;
mod proxy;

use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use serde_json::{Value, json};
use tests::{TestApp, TestUser, postgres_admin_url};
use tokio::task::JoinHandle;

/// The pool's acquire timeout in these tests (`DATABASE_ACQUIRE_TIMEOUT_SECS`).
const ACQUIRE: Duration = Duration::from_secs(1);
/// "Within a few seconds": the acquire timeout plus slack for a loaded CI machine.
const PROMPT: Duration = Duration::from_secs(3);
/// How long a statement may wait for a lock before it gives up: SQLite's busy timeout, and
/// PostgreSQL's `lock_timeout`, both 5 s (see `service::db::LOCK_WAIT`).
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// `DATABASE_STATEMENT_TIMEOUT_SECS` where a test sets it.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The most any single wait in this module may take; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(20);

/// One HTTP exchange, timed.
#[derive(Debug)]
struct Reply {
    status: u16,
    retry_after: Option<String>,
    body: String,
    took: Duration,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// Sends a request to `base` (`http://127.0.0.1:port`); no answer within [`BOUND`] fails.
async fn call(
    client: &Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut req = client
        .request(method.clone(), format!("{base}{path}"))
        .timeout(BOUND);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let start = Instant::now();
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: no answer ({e})"));
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    let body = res.text().await.unwrap_or_default();
    Reply {
        status,
        retry_after,
        body,
        took: start.elapsed(),
    }
}

/// The contract's answer while the database is out of reach: 503, the exact body, a
/// `Retry-After` in whole seconds, and within a few seconds.
fn assert_unavailable(reply: &Reply, what: &str) {
    assert_503(reply, what);
    assert!(reply.took <= PROMPT, "{what}: took {:?}", reply.took);
}

/// 503 `{"detail": "database unavailable"}` with a `Retry-After` in whole seconds.
fn assert_503(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 503, "{what}: {reply:?}");
    assert_eq!(
        reply.json(),
        json!({"detail": "database unavailable"}),
        "{what}"
    );
    let secs = reply
        .retry_after
        .as_deref()
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        secs.is_some_and(|s| s >= 1),
        "{what}: Retry-After: {reply:?}"
    );
}

/// Polls `check` every 50 ms until it holds; fails after `bound`.
async fn eventually<F, Fut>(what: &str, bound: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Awaits a spawned request; failing or taking longer than `bound` fails the test.
async fn join(task: JoinHandle<Reply>, bound: Duration) -> Reply {
    tokio::time::timeout(bound, task)
        .await
        .unwrap_or_else(|_| panic!("request still unanswered after {bound:?}"))
        .expect("request task")
}

fn spawn_call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> JoinHandle<Reply> {
    spawn_call_to(&app.client, &app.address, method, path, token, body)
}

fn spawn_call_to(
    client: &Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> JoinHandle<Reply> {
    let (client, base, path) = (client.clone(), base.to_owned(), path.to_owned());
    let token = token.map(str::to_owned);
    tokio::spawn(async move {
        call(
            &client,
            &base,
            method,
            &path,
            token.as_deref(),
            body.as_ref(),
        )
        .await
    })
}

fn new_post(title: &str) -> Value {
    json!({"title": title, "content": content_of(title), "published": true})
}

/// The content every post of these tests carries: long enough that a torn write would show.
fn content_of(title: &str) -> String {
    format!("{title}: {}", "0123456789".repeat(200))
}

/// Every `(title, content)` in `posts`, read through the test's own connection.
async fn rows(db: &DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(
        backend,
        "SELECT title, content FROM posts ORDER BY id",
    ))
    .await
    .expect("read posts")
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "title").expect("title"),
            r.try_get::<String>("", "content").expect("content"),
        )
    })
    .collect()
}

/// A transaction on a connection of the test's own that holds the lock a write to `posts`
/// needs. PostgreSQL: `LOCK TABLE posts IN ACCESS EXCLUSIVE MODE` (reads of `posts` wait too).
/// SQLite: a write, so the file's write lock is taken (readers go on, WAL).
async fn hold_lock(app: &TestApp) -> (DatabaseConnection, DatabaseTransaction) {
    let conn = Database::connect(&app.database_url)
        .await
        .expect("lock connection");
    let txn = conn.begin().await.expect("begin");
    let sql = match app.backend() {
        DbBackend::Postgres => "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE",
        _ => "UPDATE users SET email = email",
    };
    txn.execute_unprepared(sql).await.expect("take the lock");
    (conn, txn)
}

/// The name of the test's PostgreSQL database.
fn db_name(app: &TestApp) -> String {
    url::Url::parse(&app.database_url)
        .expect("database URL")
        .path()
        .trim_start_matches('/')
        .to_owned()
}

async fn admin() -> DatabaseConnection {
    let url = postgres_admin_url().expect("TEST_DATABASE_URL");
    Database::connect(&url).await.expect("admin connection")
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("an integer")
}

/// Waits until `n` of the server's statements are blocked on a lock (PostgreSQL).
async fn wait_for_lock_waiters(admin: &DatabaseConnection, db: &str, n: i64) {
    let sql = format!(
        "SELECT count(*)::bigint FROM pg_stat_activity \
         WHERE datname = '{db}' AND wait_event_type = 'Lock'"
    );
    eventually("server statements waiting on the lock", BOUND, || async {
        count(admin, &sql).await >= n
    })
    .await;
}

/// Waits until the pool's every connection is taken: `/ready` needs one and gets 503.
async fn wait_until_pool_exhausted(app: &TestApp) {
    eventually("the pool to be exhausted", BOUND, || async {
        call(&app.client, &app.address, Method::GET, "/ready", None, None)
            .await
            .status
            == 503
    })
    .await;
}

/// Waits until `GET /posts/` answers 200 again, then checks that a write and `/ready` work too.
async fn assert_recovers(client: &Client, base: &str, user: &TestUser, title: &str) {
    eventually("requests to succeed again", BOUND, || async {
        call(
            client,
            base,
            Method::GET,
            "/posts/",
            Some(&user.token),
            None,
        )
        .await
        .status
            == 200
    })
    .await;
    let created = call(
        client,
        base,
        Method::POST,
        "/posts/",
        Some(&user.token),
        Some(&new_post(title)),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let ready = call(client, base, Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
}
