//! The course's database at other revisions, or with data our schema refuses: what is
//! missing is added, what cannot be is named, and nothing is half done.

use api::Application;
use migration::Command;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use tests::{assert_detail, spawn_app_on, spawn_app_with, test_settings};

use super::{
    ALL_INDEXES, DOWNGRADE_BEFORE_OWNERS, DOWNGRADE_BEFORE_VOTES, FIXTURE, assert_all_applied,
    listed, login_as, our_indexes, strings,
};

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_course_database_from_before_its_votes_revision_gets_our_votes_migration() {
    let setup = format!("{FIXTURE}\n{DOWNGRADE_BEFORE_VOTES}");
    let app = spawn_app_on(&[], &setup).await;
    assert_all_applied(&app.db).await;
    assert_eq!(our_indexes(&app.db).await, ALL_INDEXES);
    let fks = strings(
        &app.db,
        "SELECT conname::text AS v FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
    )
    .await;
    assert_eq!(
        fks,
        [
            "account_states_user_id_fkey",
            "account_tokens_user_id_fkey",
            "idempotency_keys_user_id_fkey",
            "post_users_fk",
            "retired_refresh_tokens_session_id_fkey",
            "sessions_user_id_fkey",
            "votes_post_id_fkey",
            "votes_user_id_fkey"
        ]
    );
    assert_eq!(
        strings(
            &app.db,
            "SELECT version_num::text AS v FROM alembic_version"
        )
        .await,
        ["036d0a4565b7"]
    );

    let bob = login_as(&app, 3, "bob@example.com", "b0b's password").await;
    assert_eq!(listed(&app, &bob).await, [(4, 0), (2, 0), (1, 0)]);
    assert_eq!(app.vote(&bob, 1, 1).await.status(), StatusCode::CREATED);
    let res = app.vote(&bob, 1, 1).await;
    assert_detail(res, 409, "user 3 has already voted on post 1").await;
    assert_eq!(listed(&app, &bob).await, [(4, 0), (2, 0), (1, 1)]);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn emails_differing_only_in_case_leave_out_the_email_index_until_resolved() {
    // The course compared emails as typed, so both of these could register.
    let setup = format!(
        "{FIXTURE}\nINSERT INTO users (email, password) \
         SELECT 'alice.smith@example.com', password FROM users WHERE id = 3;"
    );
    let app = spawn_app_on(&[], &setup).await;
    let status = migration::status(&app.db).await.unwrap();
    assert!(status.iter().all(|(_, applied)| *applied), "{status:?}");
    assert_eq!(
        our_indexes(&app.db).await,
        [
            "ix_idempotency_keys_expires_at",
            "ix_login_failures_window_start",
            "ix_posts_owner_id",
            "ix_posts_title_folded_trgm",
            "ix_retired_refresh_tokens_session_id",
            "ix_sessions_user_id",
            "ix_votes_post_id"
        ],
        "the start goes on without the unique index on lower(email)"
    );
    login_as(&app, 1, "sanjeev@gmail.com", "password123").await;

    // Once an administrator resolves the duplicate, the next start creates the index.
    app.db
        .execute_unprepared("DELETE FROM users WHERE email = 'alice.smith@example.com'")
        .await
        .unwrap();
    migration::run(&app.db, Command::Up(None)).await.unwrap();
    assert_eq!(our_indexes(&app.db).await, ALL_INDEXES);
    let res = app
        .register("ALICE.smith@example.com", "a new password")
        .await;
    assert_detail(res, 409, "email already registered").await;
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn an_incomplete_course_schema_stops_the_start_naming_what_is_missing() {
    let setup = format!("{FIXTURE}\n{DOWNGRADE_BEFORE_OWNERS}");
    let app = spawn_app_on(&[("AUTO_MIGRATE", "false")], &setup).await;
    let before = strings(
        &app.db,
        "SELECT table_name::text AS v FROM information_schema.tables \
         WHERE table_schema = 'public' ORDER BY 1",
    )
    .await;
    assert_eq!(before, ["alembic_version", "posts", "users"]);

    let settings = test_settings(&app.database_url, &[]);
    let Err(error) = Application::build(settings).await else {
        panic!("the server must not start on a schema it cannot use");
    };
    let message = error.to_string();
    for part in [
        "revision 8c82b1632f52",
        "posts has no column published",
        "posts has no column created_at",
        "posts has no column owner_id",
        "alembic upgrade head",
        "nothing was changed",
    ] {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }
    let err = migration::run(&app.db, Command::Up(None))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("posts has no column owner_id"),
        "{err}"
    );

    // Nothing half-done: no bookkeeping table, no index, the same tables.
    let after = strings(
        &app.db,
        "SELECT table_name::text AS v FROM information_schema.tables \
         WHERE table_schema = 'public' ORDER BY 1",
    )
    .await;
    assert_eq!(after, before);
    assert!(our_indexes(&app.db).await.is_empty());
}

/// On both databases: an `alembic_version` table without the course's tables (Alembic set up,
/// no revision run) stops nothing; our migrations build the whole schema beside it.
#[tokio::test]
async fn an_alembic_version_table_alone_leaves_a_full_migration_to_run() {
    let setup = "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, \
                 CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))";
    let app = spawn_app_on(&[], setup).await;
    assert_all_applied(&app.db).await;
    app.db
        .execute_unprepared("SELECT count(*) FROM alembic_version")
        .await
        .expect("alembic_version is left alone");
    let ann = app.user("ann").await;
    let post = app.post(&ann, "hello", true).await;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(app.vote(&ann, id, 1).await.status(), StatusCode::CREATED);
    // And a plain start without it, for comparison, ends the same.
    let plain = spawn_app_with(&[]).await;
    assert_all_applied(&plain.db).await;
}
