//! A database built by the course's own Alembic migrations, and used by the course's server,
//! is adopted: the migrator records our migrations as applied without touching the data and
//! adds only the indexes; the old users log in with their old passwords, their posts and votes
//! are all there, and tokens from the course's server keep working.
//!
//! The fixture (`tests/fixtures/course_alembic.sql`) is PostgreSQL: the course ran on nothing
//! else, and adoption is PostgreSQL-only. Without `TEST_DATABASE_URL` those tests are ignored;
//! only `revisions::an_alembic_version_table_alone_leaves_a_full_migration_to_run` runs on
//! both databases. This module holds the fixture and what both test modules read it with.

mod course;
mod revisions;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tests::{TestApp, TestUser, json_of};

const FIXTURE: &str = include_str!("../../../fixtures/course_alembic.sql");

/// The course's `.env`: its key is the one FastAPI's documentation uses.
const COURSE_ENV: &[(&str, &str)] = &[
    (
        "SECRET_KEY",
        "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    ),
    ("ALGORITHM", "HS256"),
    ("ACCESS_TOKEN_EXPIRE_MINUTES", "30"),
];

/// Made once by the course's `app/oauth2.py` `create_access_token({"user_id": 2})` (python-jose
/// 3.3.0) with the key above and a lifetime long enough to outlast this test: exp 4003158836.
const COURSE_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
    eyJ1c2VyX2lkIjoyLCJleHAiOjQwMDMxNTg4MzZ9.XBkwOCOmKukJEPQ_CK3IruKoamK4RIBSgWNvTkJu-RI";

/// The fixture's users: (id, email as the course stored it, password).
const COURSE_USERS: &[(i64, &str, &str)] = &[
    (1, "sanjeev@gmail.com", "password123"),
    (2, "Alice.Smith@Example.com", "alice-in-2021"),
    (3, "bob@example.com", "b0b's password"),
    (5, "carol@example.com", "carol pass 42"),
];

const OUR_MIGRATIONS: [&str; 8] = [
    "m20261125_000001_create_users",
    "m20261125_000002_create_posts",
    "m20261125_000003_create_votes",
    "m20261126_000004_posts_title_trigram",
    "m20261126_000005_posts_title_folded_trigram",
    "m20261207_000006_sessions_and_accounts",
    "m20261207_000007_login_failures",
    "m20261207_000008_idempotency_keys",
];

/// What `alembic downgrade 036d0a4565b7` does to the fixture: back to before the votes table.
const DOWNGRADE_BEFORE_VOTES: &str = "DROP TABLE votes; \
    ALTER TABLE users DROP COLUMN phone_number; \
    UPDATE alembic_version SET version_num = '036d0a4565b7';";

/// What `alembic downgrade 8c82b1632f52` does: posts without owner, published, created_at.
const DOWNGRADE_BEFORE_OWNERS: &str = "DROP TABLE votes; \
    ALTER TABLE users DROP COLUMN phone_number; \
    ALTER TABLE posts DROP COLUMN created_at, DROP COLUMN published; \
    ALTER TABLE posts DROP CONSTRAINT post_users_fk; \
    ALTER TABLE posts DROP COLUMN owner_id; \
    UPDATE alembic_version SET version_num = '8c82b1632f52';";

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.try_get::<String>("", "v").unwrap())
        .collect()
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        DbBackend::Postgres,
        format!("SELECT count(*) AS n FROM {table}"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

/// Every index of ours, once the course's database is fully adopted and migrated.
const ALL_INDEXES: [&str; 8] = [
    "ix_idempotency_keys_expires_at",
    "ix_login_failures_window_start",
    "ix_posts_owner_id",
    "ix_posts_title_folded_trgm",
    "ix_retired_refresh_tokens_session_id",
    "ix_sessions_user_id",
    "ix_users_email_lower",
    "ix_votes_post_id",
];

/// Every migration of ours is recorded as applied.
async fn assert_all_applied(db: &DatabaseConnection) {
    let status = migration::status(db).await.unwrap();
    assert_eq!(
        status,
        OUR_MIGRATIONS.map(|m| (m.to_owned(), true)).to_vec()
    );
}

async fn our_indexes(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        "SELECT indexname::text AS v FROM pg_indexes \
         WHERE schemaname = 'public' AND indexname LIKE 'ix_%' ORDER BY 1",
    )
    .await
}

async fn recorded_migrations(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        "SELECT version || ' ' || applied_at AS v FROM seaql_migrations ORDER BY version",
    )
    .await
}

/// Everything adoption must leave alone: the course's bookkeeping, extra column, constraint
/// names and every row (each password hash as far as its `$2b$` prefix: a login may rehash it).
async fn course_snapshot(db: &DatabaseConnection) -> Vec<String> {
    let mut all = strings(db, "SELECT version_num::text AS v FROM alembic_version").await;
    for sql in [
        // The hash without its cost and salt-and-digest: a login rehashes a hash of another
        // cost than BCRYPT_COST (so the course's `$2b$12$` hashes turn into the configured cost
        // as their users log in); the password still being the same is what logging in again
        // proves.
        "SELECT id || ' ' || email || ' ' || substr(password, 1, 4) || ' ' || created_at::text \
         || ' ' || coalesce(phone_number, 'NULL') AS v FROM users ORDER BY id",
        "SELECT id || ' ' || title || ' ' || content || ' ' || published || ' ' \
         || created_at::text || ' ' || owner_id AS v FROM posts ORDER BY id",
        "SELECT user_id || ' ' || post_id AS v FROM votes ORDER BY 1",
        "SELECT conname::text AS v FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         WHERE t.relname IN ('users', 'posts', 'votes') ORDER BY 1",
    ] {
        all.extend(strings(db, sql).await);
    }
    all
}

async fn login_as(app: &TestApp, id: i64, email: &str, password: &str) -> TestUser {
    let res = app.login(email, password).await;
    assert_eq!(res.status(), StatusCode::OK, "{email} logs in");
    let body = json_of(res).await;
    assert_eq!(body["token_type"], "bearer");
    TestUser {
        id,
        email: email.to_owned(),
        token: body["access_token"].as_str().expect("a token").to_owned(),
    }
}

/// (post id, votes) of each post `user` sees in the list, newest first.
async fn listed(app: &TestApp, user: &TestUser) -> Vec<(i64, i64)> {
    let res = app.list_posts(user, &[("limit", "100")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            (
                p["Post"]["id"].as_i64().unwrap(),
                p["votes"].as_i64().unwrap(),
            )
        })
        .collect()
}
