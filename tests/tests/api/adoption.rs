//! A database built by the course's own Alembic migrations, and used by the course's server,
//! is adopted: the migrator records our migrations as applied without touching the data and
//! adds only the indexes; the old users log in with their old passwords, their posts and votes
//! are all there, and tokens from the course's server keep working.
//!
//! The fixture (`tests/fixtures/course_alembic.sql`) is PostgreSQL: the course ran on nothing
//! else, and adoption is PostgreSQL-only. Without `TEST_DATABASE_URL` those tests are ignored;
//! the last test runs on both databases.

use api::Application;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use migration::Command;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tests::{
    SECRET, TestApp, TestUser, assert_detail, json_of, now, serve, spawn_app_on, spawn_app_with,
    test_settings, token_with,
};

const FIXTURE: &str = include_str!("../../fixtures/course_alembic.sql");

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

const OUR_MIGRATIONS: [&str; 5] = [
    "m20261125_000001_create_users",
    "m20261125_000002_create_posts",
    "m20261125_000003_create_votes",
    "m20261126_000004_posts_title_trigram",
    "m20261126_000005_posts_title_folded_trigram",
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
const ALL_INDEXES: [&str; 4] = [
    "ix_posts_owner_id",
    "ix_posts_title_folded_trgm",
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
/// names and every row.
async fn course_snapshot(db: &DatabaseConnection) -> Vec<String> {
    let mut all = strings(db, "SELECT version_num::text AS v FROM alembic_version").await;
    for sql in [
        "SELECT id || ' ' || email || ' ' || password || ' ' || created_at::text || ' ' \
         || coalesce(phone_number, 'NULL') AS v FROM users ORDER BY id",
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

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_course_database_is_adopted_with_its_users_posts_and_votes_all_there() {
    let app = spawn_app_on(&[], FIXTURE).await;

    // Every old user logs in with the old password; the course stored emails as typed, and
    // they match in any case.
    for (id, email, password) in COURSE_USERS {
        login_as(&app, *id, email, password).await;
        let res = app.login(email, "not the password").await;
        assert_detail(res, 403, "Invalid Credentials").await;
    }
    let alice = login_as(&app, 2, "alice.smith@example.com", "alice-in-2021").await;
    let bob = login_as(&app, 3, "BOB@example.com", "b0b's password").await;
    let me = json_of(app.me(&alice).await).await;
    assert_eq!(
        me,
        json!({"id": 2, "email": "Alice.Smith@Example.com",
               "created_at": "2021-08-30T09:20:03.100001+00:00"})
    );

    // Posts and their vote counts; drafts only for their owners.
    assert_eq!(listed(&app, &bob).await, [(4, 1), (2, 0), (1, 3)]);
    assert_eq!(listed(&app, &alice).await, [(4, 1), (3, 1), (2, 0), (1, 3)]);
    let post = json_of(app.get_post(&bob, 1).await).await;
    assert_eq!(post["votes"], 3);
    assert_eq!(post["Post"]["title"], "first post");
    assert_eq!(post["Post"]["content"], "some interesting stuff");
    assert_eq!(post["Post"]["published"], true);
    // API.md: always with microseconds, even when they are zero.
    assert_eq!(
        post["Post"]["created_at"],
        "2021-08-30T09:30:00.000000+00:00"
    );
    assert_eq!(post["Post"]["owner"]["email"], "sanjeev@gmail.com");
    let draft = json_of(app.get_post(&alice, 3).await).await;
    assert_eq!(
        (&draft["Post"]["title"], &draft["votes"]),
        (&json!("alice's draft"), &json!(1))
    );
    let res = app.get_post(&bob, 3).await;
    assert_detail(res, 404, "post with id: 3 was not found").await;

    // Our migrations are recorded, the missing indexes were added, the rest is untouched.
    assert_all_applied(&app.db).await;
    assert_eq!(our_indexes(&app.db).await, ALL_INDEXES);
    let expected_snapshot = {
        let pristine = spawn_app_on(&[("AUTO_MIGRATE", "false")], FIXTURE).await;
        course_snapshot(&pristine.db).await
    };
    assert_eq!(course_snapshot(&app.db).await, expected_snapshot);
    assert_eq!(
        [
            count(&app.db, "users").await,
            count(&app.db, "posts").await,
            count(&app.db, "votes").await
        ],
        [4, 5, 5]
    );
    assert!(expected_snapshot.contains(&"c47ecbf163d4".to_owned()));
    assert!(expected_snapshot.iter().any(|r| r.ends_with("+1 555 0100")));
    assert!(expected_snapshot.contains(&"post_users_fk".to_owned()));
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn registering_posting_and_voting_work_on_an_adopted_database() {
    let app = spawn_app_on(&[], FIXTURE).await;
    let alice = login_as(&app, 2, "Alice.Smith@Example.com", "alice-in-2021").await;

    // The users table has the course's extra phone_number column: inserts leave it NULL, and
    // ids continue after the course's.
    let dave = app.user("dave").await;
    assert_eq!(dave.id, 6, "the course's sequence goes on");
    let phone = strings(
        &app.db,
        "SELECT coalesce(phone_number, 'NULL') AS v FROM users WHERE id = 6",
    )
    .await;
    assert_eq!(phone, ["NULL"]);
    for taken in ["ALICE.SMITH@example.com", "sanjeev@gmail.com"] {
        let res = app.register(taken, "a new password").await;
        assert_detail(res, 409, "email already registered").await;
    }

    let post = app.post(&dave, "dave was here", true).await;
    assert_eq!(post["id"], 7);
    assert_eq!(post["owner"]["id"], 6);

    // Votes, through the course's constraints (votes_pkey, votes_post_id_fkey, ...).
    assert_eq!(app.vote(&dave, 1, 1).await.status(), StatusCode::CREATED);
    let res = app.vote(&dave, 1, 1).await;
    assert_detail(res, 409, "user 6 has already voted on post 1").await;
    let res = app.vote(&dave, 999, 1).await;
    assert_detail(res, 404, "post with id: 999 was not found").await;
    let res = app.vote(&dave, 3, 1).await;
    assert_detail(res, 404, "post with id: 3 was not found").await;
    let res = app.vote(&dave, 2, 0).await;
    assert_detail(res, 404, "vote does not exist").await;
    assert_eq!(app.vote(&alice, 7, 1).await.status(), StatusCode::CREATED);
    let got = json_of(app.get_post(&dave, 1).await).await;
    assert_eq!(got["votes"], 4);
    let got = json_of(app.get_post(&alice, 7).await).await;
    assert_eq!(got["votes"], 1);

    // Deleting a course post takes its votes along (the course's ON DELETE CASCADE).
    let res = app.delete_post(&alice, 4).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        strings(
            &app.db,
            "SELECT count(*)::text AS v FROM votes WHERE post_id = 4"
        )
        .await,
        ["0"]
    );
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_second_start_on_an_adopted_database_changes_nothing() {
    let app = spawn_app_on(&[], FIXTURE).await;
    let recorded = recorded_migrations(&app.db).await;
    assert_eq!(recorded.len(), OUR_MIGRATIONS.len());
    let snapshot = course_snapshot(&app.db).await;
    let indexes = our_indexes(&app.db).await;

    // Another server on the same database, as after a restart (or a second replica).
    let second = serve(&app.database_url, &[]).await;
    let res = app
        .client
        .post(format!("{}/login", second.address))
        .form(&[
            ("username", "bob@example.com"),
            ("password", "b0b's password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the second server serves");
    second.stop().await;
    migration::run(&app.db, Command::Up(None)).await.unwrap();

    assert_eq!(recorded_migrations(&app.db).await, recorded);
    assert_eq!(course_snapshot(&app.db).await, snapshot);
    assert_eq!(our_indexes(&app.db).await, indexes);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn tokens_from_the_courses_server_work_with_its_secret_key() {
    let app = spawn_app_on(COURSE_ENV, FIXTURE).await;
    let res = app.get("/users/me", Some(COURSE_TOKEN)).await;
    assert_eq!(res.status(), StatusCode::OK, "python-jose's token");
    assert_eq!(json_of(res).await["email"], "Alice.Smith@Example.com");
    let res = app.get("/posts/", Some(COURSE_TOKEN)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // One signed now, as create_access_token does: {"user_id": id, "exp": now + 30 min}.
    let key = COURSE_ENV[0].1;
    let fresh = token_with(
        &json!({"user_id": 1, "exp": now() + 30 * 60}),
        Algorithm::HS256,
        key,
    );
    let me = json_of(app.get("/users/me", Some(&fresh)).await).await;
    assert_eq!(me["email"], "sanjeev@gmail.com");

    // And the other way round: the course's server, reading {"user_id"} with the same key,
    // accepts ours, so both can serve one database while clients move over.
    let ours = login_as(&app, 3, "bob@example.com", "b0b's password").await;
    let claims = jsonwebtoken::decode::<Value>(
        &ours.token,
        &DecodingKey::from_secret(key.as_bytes()),
        &Validation::new(Algorithm::HS256),
    )
    .expect("our token verifies with the course's key")
    .claims;
    assert_eq!(claims["user_id"], 3);

    // A token signed with another key still is not.
    let forged = token_with(
        &json!({"user_id": 1, "exp": now() + 60}),
        Algorithm::HS256,
        SECRET,
    );
    let res = app.get("/users/me", Some(&forged)).await;
    assert_detail(res, 401, "Could not validate credentials").await;
}

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
        ["post_users_fk", "votes_post_id_fkey", "votes_user_id_fkey"]
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
            "ix_posts_owner_id",
            "ix_posts_title_folded_trgm",
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
