//! The database out of reach while serving: the network to it cut, then stalled
//! (PostgreSQL), or the pool exhausted by a write that waits (SQLite).

use std::time::Instant;

use reqwest::{Client, Method};
use tests::{TestUser, postgres_admin_url, serve, spawn_app_with};

use super::proxy::Proxy;
use super::{
    BOUND, LOCK_WAIT, PROMPT, STATEMENT_TIMEOUT, assert_503, assert_recovers, assert_unavailable,
    call, hold_lock, join, new_post, rows, spawn_call, spawn_call_to, wait_until_pool_exhausted,
};

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
    if postgres_admin_url().is_some() {
        network_cut_then_stalled().await;
    } else {
        pool_exhausted_by_a_waiting_write().await;
    }
}

/// SQLite: a write waiting for another connection's lock holds the pool's one connection.
async fn pool_exhausted_by_a_waiting_write() {
    let app = spawn_app_with(&[
        ("DATABASE_MAX_CONNECTIONS", "1"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
    ])
    .await;
    let user = app.user("sqlite_pool").await;
    let (client, base, token) = (&app.client, app.address.as_str(), Some(user.token.as_str()));
    let (_conn, lock) = hold_lock(&app).await;
    let write = spawn_call(
        &app,
        Method::POST,
        "/posts/",
        token,
        Some(new_post("waited")),
    );
    wait_until_pool_exhausted(&app).await;
    let r = call(client, base, Method::GET, "/posts/", token, None).await;
    assert_unavailable(&r, "GET /posts/ with the pool exhausted");
    let health = call(client, base, Method::GET, "/health", None, None).await;
    assert_eq!(health.status, 200);
    lock.commit().await.expect("release");
    let r = join(write, LOCK_WAIT + PROMPT).await;
    assert_eq!(r.status, 201, "the write that waited: {r:?}");
    assert_recovers(client, base, &user, "recovered").await;
}

/// PostgreSQL: a second server reaches the test's database through a [`Proxy`], which cuts
/// the network, restores it, stalls it, and restores it again.
async fn network_cut_then_stalled() {
    let app = spawn_app_with(&[]).await;
    let user = app.user("proxied").await;
    let post = app.post(&user, "before the cut", true).await;
    let posts_id = format!("/posts/{}", post["id"].as_i64().expect("id"));
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
    let (client, base) = (&app.client, server.address.as_str());
    let r = call(
        client,
        base,
        Method::GET,
        "/posts/",
        Some(&user.token),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "through the proxy: {r:?}");

    network_cut(&proxy, client, base, &user, &posts_id).await;
    network_stalled(&proxy, client, base, &user).await;
    let r = call(
        client,
        base,
        Method::GET,
        &posts_id,
        Some(&user.token),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let titles: Vec<String> = rows(&app.db).await.into_iter().map(|(t, _)| t).collect();
    assert!(titles.contains(&"after the network came back".to_owned()));
    assert!(titles.contains(&"after the stall".to_owned()));
    assert!(!titles.contains(&"written while cut".to_owned()));
}

/// Every kind of request at once, more than the pool has connections, while the network is
/// cut; then once more, now that the pool knows; then the network comes back.
async fn network_cut(proxy: &Proxy, client: &Client, base: &str, user: &TestUser, posts_id: &str) {
    let token = Some(user.token.as_str());
    proxy.cut().await;
    let cut_write = new_post("written while cut");
    // At once, each on its own clock.
    let cases = [
        (Method::GET, "/posts/", token, None),
        (Method::GET, posts_id, token, None),
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
    let r = call(client, base, Method::GET, "/posts/", token, None).await;
    assert_unavailable(&r, "GET /posts/ again with the network cut");
    let r = call(client, base, Method::GET, "/health", None, None).await;
    assert_eq!(r.status, 200, "/health with the network cut: {r:?}");
    let r = call(client, base, Method::GET, "/posts/", Some("garbage"), None).await;
    assert_eq!(r.status, 401, "a bad token needs no database: {r:?}");

    proxy.restore().await;
    assert_recovers(client, base, user, "after the network came back").await;
}

/// A black hole: connections stay open but nothing comes back. Requests get 503 once their
/// statement has gone unanswered for `DATABASE_STATEMENT_TIMEOUT_SECS` (or, waiting for a
/// connection, after the acquire timeout), and the connections that went silent are closed.
async fn network_stalled(proxy: &Proxy, client: &Client, base: &str, user: &TestUser) {
    let token = Some(user.token.as_str());
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
    assert_recovers(client, base, user, "after the stall").await;
}
