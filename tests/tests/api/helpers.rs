//! `spawn_app()`: the real server on a random port, with a database of its own.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::dev::ServerHandle;
use api::{Application, Settings};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-key-that-is-long-enough-for-hs512-0123456789";
pub const PASSWORD: &str = "correct horse battery";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A running server and a way to arrange its database.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    /// The same database the server uses, for arranging state directly.
    pub db: DatabaseConnection,
    /// The URL the server was given, for opening more connections.
    pub database_url: String,
    handle: ServerHandle,
    database: TestDatabase,
}

enum TestDatabase {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
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
    let unique = format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let (database_url, database) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("posts_test_{unique}");
            let admin = Database::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
            admin
                .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&name);
            (url.to_string(), TestDatabase::Postgres { admin_url, name })
        }
        _ => {
            let path = std::env::temp_dir().join(format!("posts_test_{unique}.db"));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                TestDatabase::Sqlite(path),
            )
        }
    };
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
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url.as_str()),
        ("PORT", "0"),
        ("SECRET_KEY", SECRET),
        ("BCRYPT_COST", "4"),
        ("WORKERS", "1"),
        ("DATABASE_MAX_CONNECTIONS", "5"),
        ("DATABASE_CONNECT_TIMEOUT_SECS", "5"),
        ("SHUTDOWN_TIMEOUT_SECS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let settings = Settings::from_vars(|k| vars.get(k).cloned()).expect("test settings are valid");
    let app = Application::build(settings).await.expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let db = Database::connect(&database_url)
        .await
        .expect("test connects");
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestApp {
        address,
        client,
        db,
        database_url,
        handle,
        database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the future only waits for it to finish.
        drop(self.handle.stop(false));
        match &self.database {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, db_name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a runtime of our own on a thread.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async move {
                        let admin = Database::connect(&admin_url).await?;
                        admin
                            .execute_unprepared(&format!(
                                r#"DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)"#
                            ))
                            .await?;
                        admin.close().await
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("warning: could not drop test database {name}");
                }
            }
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token)
            .send()
            .await
            .expect("request")
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/users/",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/login"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("request")
    }

    /// Registers `name@example.com` and logs in.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let res = self.register(&email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        let id = json_of(res).await["id"].as_i64().expect("user id");
        let res = self.login(&email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        let token = json_of(res).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        TestUser { id, email, token }
    }

    /// Creates a post and returns its JSON.
    pub async fn post(&self, user: &TestUser, title: &str, published: bool) -> Value {
        let res = self
            .post_json(
                "/posts/",
                Some(&user.token),
                &json!({"title": title, "content": format!("content of {title}"), "published": published}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "create post {title}");
        json_of(res).await
    }

    pub async fn vote(&self, user: &TestUser, post_id: i64, dir: i64) -> Response {
        self.post_json(
            "/vote/",
            Some(&user.token),
            &json!({"post_id": post_id, "dir": dir}),
        )
        .await
    }
}

pub async fn json_of(res: Response) -> Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts status and `{"detail": detail}`.
pub async fn assert_detail(res: Response, status: u16, detail: &str) {
    let got = res.status().as_u16();
    let body = json_of(res).await;
    assert_eq!(
        (got, &body),
        (status, &json!({"detail": detail})),
        "expected {status} {detail}"
    );
}

/// Asserts a 422 whose entries include one at `loc` of type `kind`; returns the body.
pub async fn assert_422(res: Response, loc: Value, kind: &str) -> Value {
    let status = res.status().as_u16();
    let body = json_of(res).await;
    assert_eq!(status, 422, "body: {body}");
    let entries = body["detail"].as_array().expect("detail is a list");
    assert!(
        entries
            .iter()
            .any(|e| e["loc"] == loc && e["type"] == kind && e["msg"].is_string()),
        "no {kind} at {loc} in {body}"
    );
    for e in entries {
        assert!(e.get("input").is_none(), "422 must not echo input: {body}");
    }
    body
}

/// A token signed by hand with `claims`.
pub fn token_with(claims: &Value, alg: Algorithm, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("sign")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
