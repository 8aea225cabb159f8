//! The real server in the test's own process: [`spawn_app`] and its variants start it on a
//! free port with a database of its own, and hand back a [`TestApp`] to talk to it.

use std::collections::HashMap;

use actix_web::dev::ServerHandle;
use api::{Application, Settings};
use reqwest::Client;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::database::TestDatabase;

/// The signing key of every test server (long enough for HS512).
pub const SECRET: &str = "test-secret-key-that-is-long-enough-for-hs512-0123456789";
/// The password of every user [`TestApp::user`] registers.
pub const PASSWORD: &str = "correct horse battery";

/// The configuration of a test server: fast bcrypt, one worker, short timeouts, mail (when no
/// `SMTP_URL` is given) into a temporary directory; `extra` overrides or adds variables.
///
/// With `TEST_DATABASE_POOLER_URL` set (a pooler such as PgBouncer in front of the server of
/// `TEST_DATABASE_URL`, e.g. `postgres://postgres@127.0.0.1:6432`), the server reaches its
/// PostgreSQL database through the pooler, and migrates it directly
/// (`DATABASE_MIGRATION_URL`), unless `extra` names a `DATABASE_URL` of its own;
/// `TEST_DATABASE_PREPARED_STATEMENTS`, when set, becomes its `DATABASE_PREPARED_STATEMENTS`.
pub fn test_settings(database_url: &str, extra: &[(&str, &str)]) -> Settings {
    let pooled = pooled_url(database_url);
    let prepared = env_var("TEST_DATABASE_PREPARED_STATEMENTS");
    let mut vars: HashMap<&str, &str> = [
        ("DATABASE_URL", database_url),
        ("PORT", "0"),
        ("SECRET_KEY", SECRET),
        ("BCRYPT_COST", "4"),
        ("WORKERS", "1"),
        ("DATABASE_MAX_CONNECTIONS", "5"),
        ("DATABASE_CONNECT_TIMEOUT_SECS", "5"),
        ("SHUTDOWN_TIMEOUT_SECS", "1"),
    ]
    .into_iter()
    .collect();
    let own_url = extra.iter().any(|(k, _)| *k == "DATABASE_URL");
    if let Some(pooled) = pooled.as_deref()
        && !own_url
    {
        vars.insert("DATABASE_URL", pooled);
        vars.insert("DATABASE_MIGRATION_URL", database_url);
    }
    if let Some(prepared) = prepared.as_deref() {
        vars.insert("DATABASE_PREPARED_STATEMENTS", prepared);
    }
    // Mail of a server with no `SMTP_URL` goes to files: never into the crate's directory.
    let outbox = std::env::temp_dir().join("posts-api-test-outbox");
    let outbox = outbox.to_string_lossy();
    vars.insert("MAIL_OUTBOX_DIR", &outbox);
    vars.extend(extra.iter().copied());
    Settings::from_vars(|k| vars.get(k).map(|v| (*v).to_owned())).expect("test settings are valid")
}

/// `database_url` (a database on the PostgreSQL server of `TEST_DATABASE_URL`) as reached
/// through `TEST_DATABASE_POOLER_URL`, when that is set. A URL to anywhere else (a test's own
/// proxy) is left alone.
fn pooled_url(database_url: &str) -> Option<String> {
    let pooler = env_var("TEST_DATABASE_POOLER_URL")?;
    let admin = url::Url::parse(&env_var("TEST_DATABASE_URL")?).ok()?;
    let direct = url::Url::parse(database_url).ok()?;
    let server = |u: &url::Url| (u.host_str().map(str::to_owned), u.port_or_known_default());
    if !direct.scheme().starts_with("postgres") || server(&direct) != server(&admin) {
        return None;
    }
    let mut url = url::Url::parse(&pooler).expect("TEST_DATABASE_POOLER_URL is a URL");
    url.set_path(direct.path());
    Some(url.to_string())
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A server running in this process; stopped on drop.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    handle: ServerHandle,
}

impl Server {
    /// Stops the server and waits until it has.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Sends the stop command at once; the future only waits for it to finish.
        drop(self.handle.stop(false));
    }
}

/// Starts a server on `database_url` configured by [`test_settings`]; panics if it does not
/// start.
pub async fn serve(database_url: &str, extra: &[(&str, &str)]) -> Server {
    let app = Application::build(test_settings(database_url, extra))
        .await
        .expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Server { address, handle }
}

/// A running server, a client for it, and a way to arrange its database. Its endpoint
/// helpers are in `endpoints.rs`.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// Follows no redirect: tests see the server's own answers.
    pub client: Client,
    /// The same database the server uses, for arranging state directly.
    pub db: DatabaseConnection,
    /// The URL the server was given, for opening more connections.
    pub database_url: String,
    // Declared before the database: the server stops before its database is dropped.
    _server: Server,
    _database: TestDatabase,
}

/// A registered user with a token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub email: String,
    pub token: String,
}

/// Starts the server with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server with extra configuration variables on top of the test defaults.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_on(extra, "").await
}

/// Starts the server like [`spawn_app_with`], on a fresh database into which `setup_sql` (any
/// number of statements; none if empty) was loaded before the server saw it: a database that
/// another tool built and filled, such as the course's. With `AUTO_MIGRATE=false` in `extra`,
/// the test migrates it itself.
pub async fn spawn_app_on(extra: &[(&str, &str)], setup_sql: &str) -> TestApp {
    let database = TestDatabase::create("posts_test").await;
    let database_url = database.url().to_owned();
    if !setup_sql.is_empty() {
        let setup = Database::connect(&database_url)
            .await
            .expect("connect to arrange the database");
        setup
            .execute_unprepared(setup_sql)
            .await
            .expect("arrange the database");
        setup.close().await.ok();
    }
    let server = serve(&database_url, extra).await;
    let db = Database::connect(&database_url)
        .await
        .expect("test connects");
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestApp {
        address: server.address.clone(),
        client,
        db,
        database_url,
        _server: server,
        _database: database,
    }
}

impl TestApp {
    /// The backend the suite runs against.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}
