//! Faults: the database going away while serving, locks that exhaust the pool, clients that
//! hang up mid-request.
//!
//! The PostgreSQL faults (backends terminated, the network to the database cut or stalled)
//! take their PostgreSQL form when `TEST_DATABASE_URL` is set; on SQLite, where they cannot
//! happen, the same test checks SQLite's analogue instead (another connection holding the write
//! lock), so no test ever passes without asserting something.
//!
//! Every wait is bounded ([`BOUND`]), so a server that hangs fails the test instead of CI.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use serde_json::{Value, json};
use tests::{TestApp, TestUser, postgres_admin_url, serve, spawn_app_with};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The pool's acquire timeout in these tests (`DATABASE_ACQUIRE_TIMEOUT_SECS`).
const ACQUIRE: Duration = Duration::from_secs(1);
/// "Within a few seconds": the acquire timeout plus slack for a loaded CI machine.
const PROMPT: Duration = Duration::from_secs(3);
/// How long a statement may wait for a lock before it gives up: SQLite's busy timeout, and
/// PostgreSQL's `lock_timeout`, both 5 s (see `api::startup::LOCK_WAIT`).
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

/// PostgreSQL: the server's backends are terminated (`pg_terminate_backend`, as a DBA or a
/// failover would). Idle connections are replaced without anyone noticing more than a 503;
/// a statement that was running when its backend died is 503 (57P01), never 500; everything
/// works again with no restart.
///
/// SQLite (nothing can terminate a connection): another connection writing in a long
/// transaction does not disturb readers (WAL), and its rows appear once it commits.
#[tokio::test]
async fn terminated_database_connections_give_503_then_recover() {
    let app = spawn_app_with(&[
        ("DATABASE_MAX_CONNECTIONS", "3"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
    ])
    .await;
    let user = app.user("terminated").await;
    app.post(&user, "before", true).await;
    let (client, base, token) = (&app.client, app.address.as_str(), Some(user.token.as_str()));

    if app.backend() != DbBackend::Postgres {
        let other = Database::connect(&app.database_url).await.expect("connect");
        let txn = other.begin().await.expect("begin");
        txn.execute_unprepared(&format!(
            "INSERT INTO posts (title, content, published, owner_id) \
             VALUES ('from another connection', 'x', 1, {})",
            user.id
        ))
        .await
        .expect("write in a transaction");
        for path in ["/posts/", "/users/me", "/ready", "/posts/latest"] {
            let r = call(client, base, Method::GET, path, token, None).await;
            assert_eq!(
                r.status, 200,
                "{path} while another connection writes: {r:?}"
            );
            assert!(r.took <= PROMPT, "{path} took {:?}", r.took);
            assert!(!r.body.contains("from another connection"), "{path}");
        }
        txn.commit().await.expect("commit");
        let r = call(client, base, Method::GET, "/posts/", token, None).await;
        assert!(r.body.contains("from another connection"), "{r:?}");
        return;
    }

    let name = db_name(&app);
    let admin = admin().await;
    let kill_all = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );

    // 1. Idle connections killed: at most a 503, never a 500 or a hang; then 200.
    admin
        .execute_unprepared(&kill_all)
        .await
        .expect("terminate");
    for path in ["/posts/", "/users/me", "/posts/latest"] {
        let r = call(client, base, Method::GET, path, token, None).await;
        if r.status != 200 {
            assert_unavailable(&r, path);
        }
    }
    assert_recovers(client, base, &user, "after idle connections died").await;

    // 2. A statement running when its backend dies: it waits on a lock, then is terminated
    //    from the lock holder's own connection (which survives).
    let (_conn, lock) = hold_lock(&app).await;
    let waiting = spawn_call(&app, Method::GET, "/posts/", token, None);
    wait_for_lock_waiters(&admin, &name, 1).await;
    let killed = Instant::now();
    lock.execute_unprepared(&kill_all).await.expect("terminate");
    let r = join(waiting, BOUND).await;
    assert_503(&r, "statement whose backend was terminated");
    assert!(
        killed.elapsed() <= PROMPT,
        "answered {:?} later",
        killed.elapsed()
    );
    let health = call(client, base, Method::GET, "/health", None, None).await;
    assert_eq!(health.status, 200);
    lock.rollback().await.expect("release");
    assert_recovers(client, base, &user, "after a running statement died").await;
    assert!(
        rows(&app.db)
            .await
            .iter()
            .any(|(t, _)| t == "after a running statement died")
    );
}

/// A TCP proxy in front of the real database that the test can cut (connections closed, new
/// ones refused), stall (connections stay open, nothing gets through) and restore.
struct Proxy {
    port: u16,
    target: SocketAddr,
    stalled: watch::Sender<bool>,
    tasks: Arc<Mutex<ProxyTasks>>,
}

#[derive(Default)]
struct ProxyTasks {
    accept: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = Proxy {
            port,
            target,
            stalled: watch::channel(false).0,
            tasks: Arc::default(),
        };
        proxy.accept(listener);
        proxy
    }

    fn accept(&self, listener: TcpListener) {
        let (tasks, target, stalled) = (
            Arc::clone(&self.tasks),
            self.target,
            self.stalled.subscribe(),
        );
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let conn = tokio::spawn(forward(client, target, stalled.clone()));
                if let Ok(mut t) = tasks.lock() {
                    t.connections.retain(|c| !c.is_finished());
                    t.connections.push(conn);
                }
            }
        });
        self.tasks.lock().expect("proxy state").accept = Some(accept);
    }

    /// Aborts the tasks (closing their sockets) and waits until they are gone.
    async fn close(&self, listener_too: bool) {
        let tasks = {
            let mut t = self.tasks.lock().expect("proxy state");
            let accept = if listener_too { t.accept.take() } else { None };
            accept
                .into_iter()
                .chain(std::mem::take(&mut t.connections))
                .collect::<Vec<_>>()
        };
        for task in tasks {
            task.abort();
            let _ = tokio::time::timeout(BOUND, task).await;
        }
    }

    /// Refuses new connections and closes every connection it carries.
    async fn cut(&self) {
        self.close(true).await;
    }

    /// Keeps every connection open, and accepts new ones, but forwards nothing more.
    fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Forwards again, on the same port; connections that were stalled are closed.
    async fn restore(&self) {
        self.close(false).await;
        self.stalled.send_replace(false);
        let listening = self.tasks.lock().expect("proxy state").accept.is_some();
        if !listening {
            let listener = TcpListener::bind(("127.0.0.1", self.port))
                .await
                .expect("rebind the proxy's port");
            self.accept(listener);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(mut t) = self.tasks.lock() {
            t.accept
                .iter()
                .chain(&t.connections)
                .for_each(JoinHandle::abort);
            t.connections.clear();
        }
    }
}

/// Copies both ways until either side closes or the proxy stalls; stalled, it holds both
/// sockets open without reading them until the task is aborted.
async fn forward(mut client: TcpStream, target: SocketAddr, mut stalled: watch::Receiver<bool>) {
    let server = if *stalled.borrow() {
        None
    } else {
        let Ok(mut server) = TcpStream::connect(target).await else {
            return;
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
            _ = async { stalled.wait_for(|s| *s).await.map(|_| ()) } => {}
        }
        Some(server)
    };
    let _held = (client, server);
    std::future::pending::<()>().await;
}

/// PostgreSQL: the network between server and database is cut (a proxy in between closes
/// every connection and refuses new ones). Data routes answer 503 with `Retry-After` within
/// the acquire timeout, never 500, never a hang; `/health` stays 200 and `/ready` is 503. When
/// the network is back, everything works with no restart, and no 503'd write happened. Then
/// the same with the network stalled instead (a black hole: connections open, no answers).
///
/// SQLite (no network to cut): the pool is exhausted by a write waiting for another
/// connection's lock; meanwhile requests needing a connection are 503 promptly, and once the
/// lock is released before the busy timeout, the waiting write succeeds and all recovers.
#[tokio::test]
async fn database_out_of_reach_while_serving_gives_503_then_recovers() {
    if postgres_admin_url().is_none() {
        let app = spawn_app_with(&[
            ("DATABASE_MAX_CONNECTIONS", "1"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
        ])
        .await;
        let user = app.user("sqlite_pool").await;
        let token = Some(user.token.as_str());
        let (_conn, lock) = hold_lock(&app).await;
        let write = spawn_call(
            &app,
            Method::POST,
            "/posts/",
            token,
            Some(new_post("waited")),
        );
        wait_until_pool_exhausted(&app).await;
        let r = call(
            &app.client,
            &app.address,
            Method::GET,
            "/posts/",
            token,
            None,
        )
        .await;
        assert_unavailable(&r, "GET /posts/ with the pool exhausted");
        let health = call(
            &app.client,
            &app.address,
            Method::GET,
            "/health",
            None,
            None,
        )
        .await;
        assert_eq!(health.status, 200);
        lock.commit().await.expect("release");
        let r = join(write, LOCK_WAIT + PROMPT).await;
        assert_eq!(r.status, 201, "the write that waited: {r:?}");
        assert_recovers(&app.client, &app.address, &user, "recovered").await;
        return;
    }

    let app = spawn_app_with(&[]).await;
    let user = app.user("proxied").await;
    let post = app.post(&user, "before the cut", true).await;
    let id = post["id"].as_i64().expect("id");
    let mut url = url::Url::parse(&app.database_url).expect("URL");
    let host = url.host_str().expect("host").to_owned();
    let target = tokio::net::lookup_host((host.as_str(), url.port().unwrap_or(5432)))
        .await
        .expect("resolve the database host")
        .next()
        .expect("an address");
    let proxy = Proxy::start(target).await;
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy.port)).expect("port");
    let server = serve(
        url.as_str(),
        &[
            ("DATABASE_MAX_CONNECTIONS", "3"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
            ("DATABASE_STATEMENT_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let (client, base, token) = (
        &app.client,
        server.address.as_str(),
        Some(user.token.as_str()),
    );
    let r = call(client, base, Method::GET, "/posts/", token, None).await;
    assert_eq!(r.status, 200, "through the proxy: {r:?}");

    proxy.cut().await;
    let posts_id = format!("/posts/{id}");
    let cut_write = new_post("written while cut");
    // At once, each on its own clock: more requests than the pool has connections.
    let cases = [
        (Method::GET, "/posts/", token, None),
        (Method::GET, &posts_id, token, None),
        (Method::GET, "/users/me", token, None),
        (Method::POST, "/posts/", token, Some(&cut_write)),
        (Method::GET, "/posts/latest", token, None),
        (Method::GET, "/ready", None, None),
    ];
    let tasks: Vec<_> = cases
        .iter()
        .map(|(method, path, token, body)| {
            spawn_call_to(client, base, method.clone(), path, *token, body.cloned())
        })
        .collect();
    for ((method, path, ..), task) in cases.iter().zip(tasks) {
        let r = join(task, BOUND).await;
        assert_unavailable(&r, &format!("{method} {path} with the network cut"));
    }
    // And once more, now that the pool knows.
    let r = call(client, base, Method::GET, "/posts/", token, None).await;
    assert_unavailable(&r, "GET /posts/ again with the network cut");
    let r = call(client, base, Method::GET, "/health", None, None).await;
    assert_eq!(r.status, 200, "/health with the network cut: {r:?}");
    let r = call(client, base, Method::GET, "/posts/", Some("garbage"), None).await;
    assert_eq!(r.status, 401, "a bad token needs no database: {r:?}");

    proxy.restore().await;
    assert_recovers(client, base, &user, "after the network came back").await;

    // A black hole: connections stay open but nothing comes back. Requests get 503 once their
    // statement has gone unanswered for DATABASE_STATEMENT_TIMEOUT_SECS (or, waiting for a
    // connection, after the acquire timeout), and the connections that went silent are closed.
    proxy.stall();
    let stalled = Instant::now();
    let tasks: Vec<_> = [
        (Method::GET, "/posts/", token),
        (Method::GET, "/ready", None),
    ]
    .into_iter()
    .chain(std::iter::repeat_n((Method::GET, "/users/me", token), 3))
    .map(|(method, path, token)| spawn_call_to(client, base, method, path, token, None))
    .collect();
    for task in tasks {
        let r = join(task, BOUND).await;
        assert_503(&r, "with the network stalled");
    }
    assert!(
        stalled.elapsed() <= STATEMENT_TIMEOUT + PROMPT,
        "503s took {:?}",
        stalled.elapsed()
    );
    let r = call(client, base, Method::GET, "/health", None, None).await;
    assert_eq!(r.status, 200, "/health with the network stalled: {r:?}");
    proxy.restore().await;
    assert_recovers(client, base, &user, "after the stall").await;
    let r = call(client, base, Method::GET, &posts_id, token, None).await;
    assert_eq!(r.status, 200, "{r:?}");
    let titles: Vec<String> = rows(&app.db).await.into_iter().map(|(t, _)| t).collect();
    assert!(titles.contains(&"after the network came back".to_owned()));
    assert!(titles.contains(&"after the stall".to_owned()));
    assert!(!titles.contains(&"written while cut".to_owned()));
}

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
    let app = spawn_app_with(&[
        ("DATABASE_MAX_CONNECTIONS", "1"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
    ])
    .await;
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
    const MAX: usize = 2;
    let app = spawn_app_with(&[
        ("DATABASE_MAX_CONNECTIONS", "2"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
    ])
    .await;
    let user = app.user("hangup").await;
    // Raw sockets: an HTTP client neither sends half a body nor walks away from a request on
    // purpose, and hanging up is the point here.
    let addr = app.address.trim_start_matches("http://").to_owned();
    let request = |title: &str| {
        let body = new_post(title).to_string();
        let head = format!(
            "POST /posts/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            user.token,
            body.len()
        );
        (head, body)
    };
    let connect = || async {
        tokio::time::timeout(BOUND, TcpStream::connect(&addr))
            .await
            .expect("connect in time")
            .expect("connect")
    };

    // Half a body, then gone; and headers only, then gone.
    for i in 0..2 * MAX {
        let (head, body) = request(&format!("partial {i}"));
        let mut s = connect().await;
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
    for i in 0..2 * MAX {
        let (head, body) = request(&format!("abandoned {i}"));
        let mut s = connect().await;
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

    // The pool's every connection, held at once: each request waits for the lock while
    // holding one, for longer than the acquire timeout. A leaked connection would leave one
    // of them without a connection: 503.
    let (_conn, lock) = hold_lock(&app).await;
    let held = Instant::now();
    let token = Some(user.token.as_str());
    let concurrent: Vec<_> = (0..MAX)
        .map(|i| {
            spawn_call(
                &app,
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

    let rows = rows(&app.db).await;
    for (title, content) in &rows {
        assert!(
            !title.starts_with("partial"),
            "an abandoned body was written"
        );
        assert_eq!(content, &content_of(title), "a torn row: {title}");
    }
    for i in 0..MAX {
        let title = format!("capacity {i}");
        assert_eq!(rows.iter().filter(|(t, _)| *t == title).count(), 1);
    }
    for i in 0..2 * MAX {
        let title = format!("abandoned {i}");
        assert!(rows.iter().filter(|(t, _)| *t == title).count() <= 1);
    }
}
