//! The schema: migrations up, down and up again, concurrent migrators, and entities that
//! agree with what the migrations built, on whichever database the suite runs against.

mod migrate;
mod schema;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tests::TestApp;

/// The course's tables.
const COURSE_TABLES: [&str; 3] = ["posts", "users", "votes"];
/// Every table, sorted: the course's, and the sessions and account tables beside them.
const ALL_TABLES: [&str; 9] = [
    "account_states",
    "account_tokens",
    "idempotency_keys",
    "login_failures",
    "posts",
    "retired_refresh_tokens",
    "sessions",
    "users",
    "votes",
];

fn tables_sql(backend: DbBackend) -> String {
    let names = ALL_TABLES.map(|t| format!("'{t}'")).join(", ");
    match backend {
        DbBackend::Postgres => format!(
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name IN ({names})"
        ),
        _ => format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({names})"),
    }
}

async fn tables<C: ConnectionTrait>(db: &C) -> Vec<String> {
    let mut names: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            tables_sql(db.get_database_backend()),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    names.sort();
    names
}

/// Our indexes (named `ix_...`), sorted.
async fn indexes(app: &TestApp) -> Vec<String> {
    let index_sql = match app.backend() {
        DbBackend::Postgres => {
            "SELECT indexname AS name FROM pg_indexes \
             WHERE schemaname = 'public' AND indexname LIKE 'ix_%' ORDER BY indexname"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%' ORDER BY name"
        }
    };
    app.db
        .query_all_raw(Statement::from_string(app.backend(), index_sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("", "name").unwrap())
        .collect()
}
