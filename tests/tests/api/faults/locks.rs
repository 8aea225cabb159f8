//! Locks held by someone else, and clients hanging up while their requests wait for one.

use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::DbBackend;
use serde_json::Value;
use tests::{TestApp, TestUser, spawn_app_with};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::{
    ACQUIRE, BOUND, LOCK_WAIT, PROMPT, admin, assert_503, assert_recovers, assert_unavailable,
    call, content_of, count, db_name, hold_lock, join, new_post, rows, spawn_call,
    wait_until_pool_exhausted,
};

/// A table locked by someone else (PostgreSQL: `LOCK TABLE posts IN ACCESS EXCLUSIVE MODE`;
/// SQLite: another connection's write transaction), with a pool of one connection:
///
/// - the request holding the pool's connection waits for the lock, but not forever: after
///   the lock wait (PostgreSQL's `lock_timeout`, SQLite's busy timeout, both 5 s) it is 503;
/// - requests that need a connection meanwhile are 503 within about the acquire timeout;
/// - a request with a bad token needs no connection and is 401 at once; `/health` is 200;
/// - once the lock is released, everything works again.
#[tokio::test]
async fn a_locked_table_gives_prompt_503s_and_recovers() {
    locked_table(&[]).await;
}

/// The same with prepared statements off, as behind a pooler in transaction mode: no
/// `lock_timeout` is sent at connect then, and the lock wait is each statement's own
/// transaction's (`SET LOCAL`), so without it the request would wait for the statement
/// timeout (10 s) instead.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_locked_table_gives_503_within_the_lock_wait_without_prepared_statements() {
    locked_table(&[("DATABASE_PREPARED_STATEMENTS", "false")]).await;
}

async fn locked_table(extra: &[(&str, &str)]) {
    let mut vars = vec![
        ("DATABASE_MAX_CONNECTIONS", "1"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let user = app.user("locked").await;
    app.post(&user, "before the lock", true).await;
    let (client, base, token) = (&app.client, app.address.as_str(), Some(user.token.as_str()));

    let (_conn, lock) = hold_lock(&app).await;
    let held = Instant::now();
    let waiting = spawn_call(
        &app,
        Method::POST,
        "/posts/",
        token,
        Some(new_post("waits for the lock")),
    );
    wait_until_pool_exhausted(&app).await;

    let r = call(client, base, Method::GET, "/posts/", token, None).await;
    assert_unavailable(&r, "GET /posts/ with the pool exhausted");
    assert!(r.took >= ACQUIRE / 2, "it did wait for a connection: {r:?}");
    let r = call(client, base, Method::GET, "/ready", None, None).await;
    assert_unavailable(&r, "/ready with the pool exhausted");
    for bad in ["garbage", "a.b.c"] {
        let r = call(client, base, Method::GET, "/posts/", Some(bad), None).await;
        assert_eq!(r.status, 401, "{r:?}");
        assert!(r.took < ACQUIRE / 2, "401 without a connection: {r:?}");
    }
    let r = call(client, base, Method::GET, "/posts/", None, None).await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = call(client, base, Method::GET, "/health", None, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.took < ACQUIRE / 2, "{r:?}");

    // The request that holds the connection gives up after the lock wait, lock still held.
    let r = join(waiting, LOCK_WAIT + PROMPT).await;
    assert_503(&r, "the request waiting for the lock");
    assert!(r.took >= LOCK_WAIT / 2, "it did wait for the lock: {r:?}");
    assert!(held.elapsed() < LOCK_WAIT + PROMPT, "{:?}", held.elapsed());

    lock.rollback().await.expect("release");
    assert_recovers(client, base, &user, "after the lock").await;
    let titles: Vec<String> = rows(&app.db).await.into_iter().map(|(t, _)| t).collect();
    assert!(!titles.contains(&"waits for the lock".to_owned()));
}

/// Clients hanging up mid-request: while sending the body, and after sending it but before
/// reading the answer (while the request waits for a lock or for a pooled connection). No
/// connection leaks: afterwards the pool still serves `DATABASE_MAX_CONNECTIONS` requests that
/// each hold a connection at the same time. No half-written row: an abandoned body writes
/// nothing, an abandoned complete request writes its whole row or nothing.
#[tokio::test]
async fn clients_hanging_up_leak_no_connection_and_write_no_half_row() {
    hanging_up(&[]).await;
}

/// The same with prepared statements off: a request abandoned inside its statement's own
/// transaction leaves no transaction open (the connection is rolled back at once), so nothing
/// it wrote commits later and no lock it took outlives it.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn clients_hanging_up_without_prepared_statements_leave_no_transaction_open() {
    hanging_up(&[("DATABASE_PREPARED_STATEMENTS", "false")]).await;
}

async fn hanging_up(extra: &[(&str, &str)]) {
    let mut vars = vec![
        ("DATABASE_MAX_CONNECTIONS", "2"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let user = app.user("hangup").await;
    let client = HangingUpClient {
        addr: app.address.trim_start_matches("http://").to_owned(),
        token: user.token.clone(),
    };

    // Half a body, then gone; and headers only, then gone.
    for i in 0..2 * POOL {
        let (head, body) = client.request(&format!("partial {i}"));
        let mut s = client.connect().await;
        s.write_all(head.as_bytes()).await.expect("send head");
        if i % 2 == 0 {
            s.write_all(&body.as_bytes()[..body.len() / 2])
                .await
                .expect("send half");
        }
        s.flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Whole requests, abandoned while they wait for the lock (or for a connection).
    let (_conn, lock) = hold_lock(&app).await;
    let mut abandoned = Vec::new();
    for i in 0..2 * POOL {
        let (head, body) = client.request(&format!("abandoned {i}"));
        let mut s = client.connect().await;
        s.write_all(format!("{head}{body}").as_bytes())
            .await
            .expect("send");
        abandoned.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(abandoned);
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.rollback().await.expect("release");
    // Whatever the abandoned requests still do (finish, or 503 for want of a connection) is
    // over once the acquire timeout has passed.
    tokio::time::sleep(ACQUIRE + Duration::from_millis(500)).await;

    assert_whole_pool_serves(&app, &user).await;
    assert_no_half_rows(&app).await;
    if app.backend() == DbBackend::Postgres {
        let open = format!(
            "SELECT count(*)::bigint FROM pg_stat_activity \
             WHERE datname = '{}' AND state LIKE 'idle in transaction%'",
            db_name(&app)
        );
        assert_eq!(
            count(&admin().await, &open).await,
            0,
            "a transaction left open"
        );
    }
}

/// `DATABASE_MAX_CONNECTIONS` of the hang-up test.
const POOL: usize = 2;

/// Speaks raw HTTP: an HTTP client neither sends half a body nor walks away from a request on
/// purpose, and hanging up is the point here.
struct HangingUpClient {
    /// `127.0.0.1:<port>`.
    addr: String,
    token: String,
}

impl HangingUpClient {
    /// The head and body of a `POST /posts/` of `title`.
    fn request(&self, title: &str) -> (String, String) {
        let body = new_post(title).to_string();
        let head = format!(
            "POST /posts/ HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            self.token,
            body.len()
        );
        (head, body)
    }

    async fn connect(&self) -> TcpStream {
        tokio::time::timeout(BOUND, TcpStream::connect(&self.addr))
            .await
            .expect("connect in time")
            .expect("connect")
    }
}

/// The pool's every connection, held at once: each request waits for the lock while holding
/// one, for longer than the acquire timeout. A leaked connection would leave one of them
/// without a connection: 503.
async fn assert_whole_pool_serves(app: &TestApp, user: &TestUser) {
    let (_conn, lock) = hold_lock(app).await;
    let held = Instant::now();
    let token = Some(user.token.as_str());
    let concurrent: Vec<_> = (0..POOL)
        .map(|i| {
            spawn_call(
                app,
                Method::POST,
                "/posts/",
                token,
                Some(new_post(&format!("capacity {i}"))),
            )
        })
        .collect();
    tokio::time::sleep(ACQUIRE + Duration::from_millis(500)).await;
    lock.rollback().await.expect("release");
    for (i, task) in concurrent.into_iter().enumerate() {
        let r = join(task, BOUND).await;
        assert_eq!(r.status, 201, "pool capacity after hang-ups: {r:?}");
        // Its own row, not the answer an abandoned statement left on the connection.
        let title = serde_json::from_str::<Value>(&r.body).expect("JSON")["title"].clone();
        assert_eq!(title, format!("capacity {i}"), "{r:?}");
    }
    assert!(held.elapsed() >= ACQUIRE);
}

/// No abandoned body was written, no row is torn, each capacity post is there once and each
/// abandoned complete request at most once.
async fn assert_no_half_rows(app: &TestApp) {
    let rows = rows(&app.db).await;
    for (title, content) in &rows {
        assert!(
            !title.starts_with("partial"),
            "an abandoned body was written"
        );
        assert_eq!(content, &content_of(title), "a torn row: {title}");
    }
    for i in 0..POOL {
        let title = format!("capacity {i}");
        assert_eq!(rows.iter().filter(|(t, _)| *t == title).count(), 1);
    }
    for i in 0..2 * POOL {
        let title = format!("abandoned {i}");
        assert!(rows.iter().filter(|(t, _)| *t == title).count() <= 1);
    }
}
