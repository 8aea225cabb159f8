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

/// The setting left unset (an empty value counts as unset), whatever
/// `TEST_DATABASE_PREPARED_STATEMENTS` says.
const UNSET: &[(&str, &str)] = &[("DATABASE_PREPARED_STATEMENTS", "")];

/// The lock wait (5 s), as each statement without prepared statements starts.
const LOCK_WAIT: &str = "SET LOCAL lock_timeout = '5000ms'; ";
/// The `BEGIN` of a statement's own transaction, when it cannot be sent with its values in.
const BEGIN: &str = "BEGIN; SET LOCAL lock_timeout = '5000ms'";

/// `DATABASE_PREPARED_STATEMENTS=false`, or `prepared_statements=false` in the URL: every
/// statement of every route family goes as one simple query, its values written in, after the
/// lock wait's `SET LOCAL`; none is prepared, and no session setting is sent at connect.
/// `true` (the control, so that a proxy that read nothing cannot pass): named statements, the
/// lock wait sent at connect, no simple query but pings.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn without_prepared_statements_each_statement_is_one_simple_query_with_the_lock_wait() {
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
        let sent = exercise(&app, &wire, "", UNSET).await;
        assert_unprepared(&after_start_up(&sent), &format!("{options:?}"));
    }
    let app = spawn_app().await;
    let wire = Wire::start(target(&app), Options::Pass).await;
    assert_prepared(&exercise(&app, &wire, "", UNSET).await);

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

/// Every statement a simple query that starts with the lock wait, except those naming a
/// column that holds a secret: those are parsed unnamed inside a transaction begun with
/// [`BEGIN`], their values sent as parameters, so that no password hash or token hash is ever
/// written into a query's text (PostgreSQL logs the text of a failed one). No session setting
/// at connect.
fn assert_unprepared(sent: &[(usize, Sent)], how: &str) {
    let inlined = sent
        .iter()
        .filter(|(_, s)| matches!(s, Sent::Query(q) if q.starts_with(LOCK_WAIT)))
        .count();
    assert!(inlined >= 8, "{how}: {inlined} statements seen: {sent:?}");
    let mut with_secrets = 0;
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
                let secret = ["\"password\"", "\"refresh_token_hash\"", "\"token_hash\""];
                assert!(
                    secret.iter().any(|column| sql.contains(column)),
                    "{how}: not sent with its values in: {sql}"
                );
                with_secrets += 1;
            }
            Sent::Query(q) => assert!(
                !q.contains("$2b$"),
                "{how}: a bcrypt hash written into a query: {q}"
            ),
            _ => {}
        }
    }
    // Registration's INSERT and login's session at least.
    assert!(
        with_secrets >= 2,
        "{how}: {with_secrets} statements with secrets"
    );
}

/// Text that could end a literal, open a comment or look like a parameter, in a title, a
/// content and a search, without prepared statements: stored and found exactly as sent.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn without_prepared_statements_hostile_text_is_stored_and_found_as_sent() {
    let app = tests::spawn_app_with(&[("DATABASE_PREPARED_STATEMENTS", "false")]).await;
    let user = app.user("hostile").await;
    for (i, text) in [
        "it's",
        "'); DROP TABLE posts; --",
        "back\\slash\\' $1 $2 E'x' U&'y' $$z$$",
        "/* open comment",
        "-- line comment\nsecond line",
        "tab\there, é, 日本, 😀",
        "%_ like [glob]* ? ~ regex.*",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"title": format!("{i} {text}"), "content": text});
        let created = app.create_post(&user, &body).await;
        assert_eq!(created.status().as_u16(), 201, "{text}");
        let post: Value = created.json().await.expect("JSON");
        assert_eq!(post["title"], format!("{i} {text}"));
        assert_eq!(post["content"], *text);
        let search: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        let found = app
            .get(
                &format!("/posts/?search={search}&limit=100"),
                Some(&user.token),
            )
            .await;
        assert_eq!(found.status().as_u16(), 200, "{text}");
        let found: Value = found.json().await.expect("JSON");
        let titles: Vec<&Value> = found
            .as_array()
            .expect("a list")
            .iter()
            .map(|p| &p["Post"]["title"])
            .collect();
        assert!(
            titles.contains(&&json!(format!("{i} {text}"))),
            "{text}: {titles:?}"
        );
    }
    let count = app.get("/posts/?limit=100", Some(&user.token)).await;
    let all: Value = count.json().await.expect("JSON");
    assert_eq!(all.as_array().map(Vec::len), Some(7), "the table is whole");
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

/// What cannot be sent with its values written in (a float, a dollar-quoted string) runs
/// unnamed inside a transaction of its own, begun with the lock wait; one that fails there is
/// rolled back at once, and the connection serves the next statement.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn statements_that_cannot_be_inlined_run_unnamed_in_a_transaction_of_their_own() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

    let app = spawn_app().await;
    let wire = Wire::start(target(&app), Options::Pass).await;
    let mut settings = test_settings(&wired_url(&app, &wire, ""), &[]).database;
    settings.prepared_statements = service::db::PreparedStatements::Off;
    settings.max_connections = 1;
    let db = service::db::connect(&settings, 1)
        .await
        .expect("connect")
        .remove(0);
    let stmt = |sql: &str, values: Vec<Value>| {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    };
    let sum = db
        .query_one_raw(stmt(
            "SELECT $1 + 1.0::float8 AS x",
            vec![Value::Double(Some(1.5))],
        ))
        .await
        .expect("a float")
        .expect("a row");
    assert_eq!(sum.try_get::<f64>("", "x").expect("x"), 2.5);
    let quoted = db
        .query_one_raw(stmt(
            "SELECT $$a'b$$ || $1 AS s",
            vec![Value::String(Some("c".into()))],
        ))
        .await
        .expect("a dollar-quoted string")
        .expect("a row");
    assert_eq!(quoted.try_get::<String>("", "s").expect("s"), "a'bc");
    let failed = db
        .query_one_raw(stmt(
            "SELECT 1 / ($1 - 2.0::float8)::int AS x",
            vec![Value::Double(Some(2.0))],
        ))
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let after = db
        .query_one_raw(stmt("SELECT $1 AS n", vec![Value::Int(Some(7))]))
        .await
        .expect("the connection serves on")
        .expect("a row");
    assert_eq!(after.try_get::<i32>("", "n").expect("n"), 7);
    db.close().await;

    let sent = wire.sent();
    let parsed: Vec<&str> = sent
        .iter()
        .filter_map(|(_, s)| match s {
            Sent::Parse { name, sql } => {
                assert_eq!(name, "", "a named statement: {sql}");
                Some(sql.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(parsed.len(), 3, "{sent:?}");
    let queries: Vec<&str> = sent
        .iter()
        .filter_map(|(_, s)| match s {
            Sent::Query(q) => Some(q.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        queries,
        [
            BEGIN,
            "COMMIT",
            BEGIN,
            "COMMIT",
            BEGIN,
            "ROLLBACK",
            "SET LOCAL lock_timeout = '5000ms'; SELECT CAST(7 AS int4) AS n",
        ],
        "{sent:?}"
    );
}
