//! The server's database connections terminated under it (PostgreSQL), or another
//! connection writing beside it (SQLite).

use std::time::Instant;

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DbBackend, TransactionTrait};
use tests::{TestApp, TestUser, spawn_app_with};

use super::{
    BOUND, PROMPT, admin, assert_503, assert_recovers, assert_unavailable, call, db_name,
    hold_lock, join, rows, spawn_call, wait_for_lock_waiters,
};

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
    match app.backend() {
        DbBackend::Postgres => backends_terminated(&app, &user).await,
        _ => another_connection_writing(&app, &user).await,
    }
}

/// SQLite: readers go on while another connection holds a write transaction, and see its
/// rows once it commits.
async fn another_connection_writing(app: &TestApp, user: &TestUser) {
    let (client, base, token) = (&app.client, app.address.as_str(), Some(user.token.as_str()));
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
}

/// PostgreSQL: idle connections, then one running a statement, terminated.
async fn backends_terminated(app: &TestApp, user: &TestUser) {
    let (client, base, token) = (&app.client, app.address.as_str(), Some(user.token.as_str()));
    let name = db_name(app);
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
    assert_recovers(client, base, user, "after idle connections died").await;

    // 2. A statement running when its backend dies: it waits on a lock, then is terminated
    //    from the lock holder's own connection (which survives).
    let (_conn, lock) = hold_lock(app).await;
    let waiting = spawn_call(app, Method::GET, "/posts/", token, None);
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
    assert_recovers(client, base, user, "after a running statement died").await;
    assert!(
        rows(&app.db)
            .await
            .iter()
            .any(|(t, _)| t == "after a running statement died")
    );
}
