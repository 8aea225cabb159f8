//! A database of a test's own: a SQLite file in a scratch directory, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a database created through that admin URL
//! and dropped on drop.

use sea_orm::{ConnectionTrait, Database};

use crate::scratch::{TempDir, block_on, unique};

/// The admin URL of the PostgreSQL server the suite runs against (`TEST_DATABASE_URL`), or
/// `None` when it runs on SQLite.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh, empty database for one test, of the kind the suite runs against.
pub enum TestDatabase {
    /// `posts.db` in a scratch directory (removed with its `-wal` and `-shm` files).
    Sqlite {
        url: String,
        dir: TempDir,
    },
    Postgres(PgDatabase),
}

impl TestDatabase {
    /// Creates a database named after `prefix` (see [`unique`]).
    pub async fn create(prefix: &str) -> Self {
        match postgres_admin_url() {
            Some(admin_url) => TestDatabase::Postgres(PgDatabase::create(&admin_url, prefix).await),
            None => {
                let dir = TempDir::new(prefix);
                TestDatabase::Sqlite {
                    url: dir.sqlite_url(),
                    dir,
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } => url,
            TestDatabase::Postgres(pg) => &pg.url,
        }
    }
}

/// A fresh PostgreSQL database, created through an admin URL and dropped through it on drop.
pub struct PgDatabase {
    /// The URL of the new database: the admin URL with the database's name as its path.
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates a database named after `prefix` (see [`unique`]).
    pub async fn create(admin_url: &str, prefix: &str) -> Self {
        let name = unique(prefix);
        let admin = Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        PgDatabase {
            url: url.to_string(),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // FORCE: the server under test may still hold connections.
        let sql = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        if !admin_execute_detached(&self.admin_url, sql) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// Runs `sql` through `admin_url` on a runtime of its own, on a thread of its own, as `Drop`
/// needs: it may run inside a test's runtime, or while unwinding out of it. Whether it worked.
pub fn admin_execute_detached(admin_url: &str, sql: String) -> bool {
    let admin_url = admin_url.to_owned();
    let done = std::thread::spawn(move || {
        block_on(async {
            let admin = Database::connect(&admin_url).await?;
            admin.execute_unprepared(&sql).await?;
            admin.close().await
        })
    })
    .join();
    matches!(done, Ok(Ok(())))
}
