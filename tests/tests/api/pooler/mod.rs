//! The server behind a connection pooler (PgBouncer in transaction mode, a hosted database's
//! pooled address). PostgreSQL only: what the server sends is read off the wire by a proxy
//! ([`wire::Wire`]) that can also drop or refuse the `options` startup parameter, as PgBouncer
//! does. A pooler in transaction mode itself is PgBouncer's to play: `.ci/pgbouncer.sh` runs
//! this whole suite, newman and schemathesis through one.

mod wire;

use std::net::SocketAddr;

use reqwest::Client;
use serde_json::{Value, json};
use tests::{TestApp, spawn_app, test_settings};

use wire::{Options, Sent, Wire};

/// The `BEGIN` of every statement's own transaction, with the lock wait (5 s).
const BEGIN: &str = "BEGIN; SET LOCAL lock_timeout = '5000ms'";

/// `DATABASE_PREPARED_STATEMENTS=false`, or `prepared_statements=false` in the URL: no
/// statement is named, each is parsed and run inside a transaction of its own that sets the
/// lock wait, and no session setting is sent at connect. `true` (the control, so that a proxy
/// that read nothing cannot pass): named statements, the lock wait sent at connect, no
/// `BEGIN`.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn without_prepared_statements_each_statement_is_unnamed_in_a_transaction_of_its_own() {
    let off: &[(&str, &str)] = &[("DATABASE_PREPARED_STATEMENTS", "false")];
    for (how, query, vars) in [
        ("the variable", "", off),
        ("the URL", "&prepared_statements=false", &[]),
    ] {
        let app = spawn_app().await;
        let wire = Wire::start(target(&app), Options::Pass).await;
        let sent = exercise(&app, &wire, query, vars).await;
        assert_unprepared(&sent, how);
    }
    let app = spawn_app().await;
    let wire = Wire::start(target(&app), Options::Pass).await;
    let sent = exercise(&app, &wire, "", &[("DATABASE_PREPARED_STATEMENTS", "true")]).await;
    assert_prepared(&sent);
}

/// With the setting left unset, start-up finds a pooler that drops the `options` startup
/// parameter (so `lock_timeout` never arrives) or refuses it, and sends every statement
/// unnamed in a transaction of its own; straight to PostgreSQL, it prepares them. Told to
/// prepare them, it refuses to start behind a pooler that refuses `options`, with one line
/// saying what to set.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_pooler_that_drops_or_refuses_the_startup_options_is_detected() {
    for options in [Options::Drop, Options::Refuse] {
        let app = spawn_app().await;
        let wire = Wire::start(target(&app), options).await;
        let sent = exercise(&app, &wire, "", &[]).await;
        assert_unprepared(&after_start_up(&sent), &format!("{options:?}"));
    }
    let app = spawn_app().await;
    let wire = Wire::start(target(&app), Options::Pass).await;
    assert_prepared(&exercise(&app, &wire, "", &[]).await);

    let wire = Wire::start(target(&app), Options::Refuse).await;
    let settings = test_settings(
        &wired_url(&app, &wire, ""),
        &[
            ("DATABASE_PREPARED_STATEMENTS", "true"),
            ("AUTO_MIGRATE", "false"),
        ],
    );
    let Err(e) = api::Application::build(settings).await else {
        panic!("started behind a pooler that refuses the lock wait");
    };
    let e = e.to_string();
    assert!(
        e.contains("refused a startup parameter")
            && e.contains("DATABASE_PREPARED_STATEMENTS=false"),
        "{e}"
    );
}

/// Where the test's PostgreSQL server listens.
fn target(app: &TestApp) -> SocketAddr {
    let url = url::Url::parse(&app.database_url).expect("URL");
    let host = url.host_str().expect("host");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    SocketAddr::new(
        host.parse().expect("an IP address"),
        url.port().unwrap_or(5432),
    )
}

/// The app's database URL, through `wire`, without TLS (so the proxy can read it), with
/// `query` added to its parameters.
fn wired_url(app: &TestApp, wire: &Wire, query: &str) -> String {
    let mut url = url::Url::parse(&app.database_url).expect("URL");
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(wire.port)).expect("port");
    url.set_query(Some(&format!("sslmode=disable{query}")));
    url.to_string()
}

/// Starts a second server on the app's (migrated) database through `wire`, with `vars`, and
/// has it answer what every route family needs: register, log in, create, list, read and
/// vote. Returns what went over the wire.
async fn exercise(
    app: &TestApp,
    wire: &Wire,
    query: &str,
    vars: &[(&str, &str)],
) -> Vec<(usize, Sent)> {
    let mut all = vec![("AUTO_MIGRATE", "false")];
    all.extend_from_slice(vars);
    let server = tests::serve(&wired_url(app, wire, query), &all).await;
    let base = server.address.clone();
    let client = Client::new();
    let status = |r: &reqwest::Response| r.status().as_u16();
    let user = json!({"email": "wire@example.com", "password": tests::PASSWORD});
    let r = client
        .post(format!("{base}/users/"))
        .json(&user)
        .send()
        .await
        .expect("register");
    assert_eq!(status(&r), 201);
    let form = [
        ("username", "wire@example.com"),
        ("password", tests::PASSWORD),
    ];
    let r = client
        .post(format!("{base}/login"))
        .form(&form)
        .send()
        .await
        .expect("login");
    assert_eq!(status(&r), 200);
    let token = r.json::<Value>().await.expect("JSON")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let post = json!({"title": "on the wire", "content": "read by the proxy"});
    let r = client
        .post(format!("{base}/posts/"))
        .bearer_auth(&token)
        .json(&post)
        .send()
        .await
        .expect("create");
    assert_eq!(status(&r), 201);
    let id = r.json::<Value>().await.expect("JSON")["id"].clone();
    for path in [
        "/posts/".to_owned(),
        format!("/posts/{id}"),
        "/ready".to_owned(),
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await;
        assert_eq!(r.map(|r| r.status().as_u16()).ok(), Some(200), "{path}");
    }
    let vote = json!({"post_id": id, "dir": 1});
    let r = client
        .post(format!("{base}/vote/"))
        .bearer_auth(&token)
        .json(&vote)
        .send()
        .await
        .expect("vote");
    assert_eq!(status(&r), 201);
    server.stop().await;
    wire.sent()
}

/// What the pool's own connections sent, without the connections start-up opened to look for
/// a pooler: those that asked for `pg_backend_pid()`, or sent nothing after their startup
/// message (refused).
fn after_start_up(sent: &[(usize, Sent)]) -> Vec<(usize, Sent)> {
    let probing: Vec<usize> = sent
        .iter()
        .filter(|(conn, s)| match s {
            Sent::Query(q) => q.contains("pg_backend_pid"),
            Sent::Startup(_) => sent.iter().filter(|(c, _)| c == conn).count() == 1,
            _ => false,
        })
        .map(|(conn, _)| *conn)
        .collect();
    sent.iter()
        .filter(|(conn, _)| !probing.contains(conn))
        .cloned()
        .collect()
}

/// No statement named, each parsed inside its own transaction begun with [`BEGIN`], no
/// session setting at connect.
fn assert_unprepared(sent: &[(usize, Sent)], how: &str) {
    let parses = sent
        .iter()
        .filter(|(_, s)| matches!(s, Sent::Parse { .. }))
        .count();
    assert!(parses >= 8, "{how}: {parses} statements seen: {sent:?}");
    for (i, (conn, s)) in sent.iter().enumerate() {
        match s {
            Sent::Startup(params) => assert!(
                params
                    .iter()
                    .all(|(k, _)| k != "options" && k != "extra_float_digits"),
                "{how}: a session setting sent at connect: {params:?}"
            ),
            Sent::Parse { name, sql } => {
                assert_eq!(name, "", "{how}: a named statement: {sql}");
                let last_query = sent[..i].iter().rev().find_map(|(c, s)| match s {
                    Sent::Query(q) if c == conn => Some(q.as_str()),
                    _ => None,
                });
                assert_eq!(
                    last_query,
                    Some(BEGIN),
                    "{how}: {sql} outside its transaction"
                );
            }
            _ => {}
        }
    }
}

/// Named statements, the lock wait sent at connect, no transaction per statement.
fn assert_prepared(sent: &[(usize, Sent)]) {
    let names: Vec<&str> = sent
        .iter()
        .filter_map(|(_, s)| match s {
            Sent::Parse { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert!(names.len() >= 8, "{sent:?}");
    assert!(names.iter().all(|n| n.starts_with("sqlx_s_")), "{names:?}");
    assert!(
        !sent
            .iter()
            .any(|(_, s)| *s == Sent::Query(BEGIN.to_owned()))
    );
    assert!(sent.iter().any(|(_, s)| matches!(s, Sent::Startup(p)
        if p.iter().any(|(k, v)| k == "options" && v.contains("lock_timeout=5000ms")))));
}
