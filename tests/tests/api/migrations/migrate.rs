//! Migrating: up, down and up again, two migrators at once, a role that may not create the
//! trigram extension, and a database that does not exist.

use chrono::Utc;
use migration::Command;
use sea_orm::{ConnectionTrait, DbBackend};
use tests::{spawn_app, spawn_app_with};

use super::{ALL_TABLES, COURSE_TABLES, indexes, tables};

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let app = spawn_app().await;
    assert_eq!(tables(&app.db).await, ALL_TABLES);
    let status = migration::status(&app.db).await.unwrap();
    assert_eq!(status.len(), 8);
    assert!(status.iter().all(|(_, applied)| *applied));

    // The last three add the idempotency keys, the login counts, then the sessions and
    // account tables, beside the course's.
    migration::run(&app.db, Command::Down(3)).await.unwrap();
    assert_eq!(tables(&app.db).await, COURSE_TABLES);

    // The last two are the search index: the folded title's goes back to the title's, then
    // that goes too (on PostgreSQL; SQLite has neither), and the tables stay.
    let search_indexes = |names: Vec<String>| {
        names
            .into_iter()
            .filter(|n| n.starts_with("ix_posts_title"))
            .collect::<Vec<_>>()
    };
    let postgres = app.backend() == DbBackend::Postgres;
    for index in ["ix_posts_title_folded_trgm", "ix_posts_title_trgm"] {
        let expected = if postgres { vec![index] } else { vec![] };
        assert_eq!(search_indexes(indexes(&app).await), expected);
        migration::run(&app.db, Command::Down(1)).await.unwrap();
    }
    assert_eq!(tables(&app.db).await, ["posts", "users", "votes"]);
    assert!(search_indexes(indexes(&app).await).is_empty());
    migration::run(&app.db, Command::Down(1)).await.unwrap();
    assert_eq!(tables(&app.db).await, ["posts", "users"]);
    migration::run(&app.db, Command::Reset).await.unwrap();
    assert!(tables(&app.db).await.is_empty());
    let status = migration::status(&app.db).await.unwrap();
    assert!(status.iter().all(|(_, applied)| !*applied));

    migration::run(&app.db, Command::Up(None)).await.unwrap();
    assert_eq!(tables(&app.db).await, ALL_TABLES);
    migration::run(&app.db, Command::Refresh).await.unwrap();
    migration::run(&app.db, Command::Fresh).await.unwrap();
    assert_eq!(tables(&app.db).await, ALL_TABLES);

    // The server works on the rebuilt schema.
    let user = app.user("after").await;
    app.post(&user, "still works", true).await;
}

/// Two migrators on one fresh database at the same moment (two servers starting, or `api
/// migrate up` beside a starting server) both succeed: the second waits for the first's lock
/// (PostgreSQL's advisory lock, SQLite's write lock), then finds nothing pending. Each
/// migrates through a connection of its own, made as start-up makes it (on SQLite a busy
/// timeout the second one's wait fits in).
#[tokio::test]
async fn two_migrators_at_once_both_succeed_on_a_fresh_database() {
    let app = spawn_app_with(&[("AUTO_MIGRATE", "false")]).await;
    assert!(tables(&app.db).await.is_empty());
    let settings = tests::test_settings(&app.database_url, &[]).database;
    for round in 0..3 {
        let a = service::db::connect_for_migrations(&settings)
            .await
            .unwrap();
        let b = service::db::connect_for_migrations(&settings)
            .await
            .unwrap();
        let (ra, rb) = tokio::join!(
            migration::run(&a, Command::Up(None)),
            migration::run(&b, Command::Up(None))
        );
        ra.unwrap_or_else(|e| panic!("round {round}, first: {e}"));
        rb.unwrap_or_else(|e| panic!("round {round}, second: {e}"));
        assert_eq!(tables(&app.db).await, ALL_TABLES);
        let status = migration::status(&app.db).await.unwrap();
        assert!(status.iter().all(|(_, applied)| *applied));
        // Back to nothing for the next round, each of which races on a fresh schema.
        migration::run(&a, Command::Reset).await.unwrap();
        assert!(tables(&app.db).await.is_empty());
    }
}

/// Where `pg_trgm` may not be created (here: a role without CREATE on the database), the
/// trigram migrations log why and do nothing else: every migration is recorded, neither
/// search index is there, and search still answers (by scanning).
/// PostgreSQL only: SQLite has no such index at all.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn without_pg_trgm_the_search_index_is_skipped_and_search_still_works() {
    let app = spawn_app_with(&[("AUTO_MIGRATE", "false")]).await;
    let role = format!(
        "posts_limited_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    );
    // PostgreSQL 15 grants nothing on schema public to other roles: tables need this much.
    app.db
        .execute_unprepared(&format!(
            "CREATE ROLE {role} LOGIN; GRANT CREATE, USAGE ON SCHEMA public TO {role}"
        ))
        .await
        .unwrap();
    let mut url = url::Url::parse(&app.database_url).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(None).unwrap();
    let limited = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let migrated = migration::run(&limited, Command::Up(None)).await;
    limited.close().await.ok();

    let status = migration::status(&app.db).await;
    let names = indexes(&app).await;
    // The searches run as the server's own (admin) user, who may read the role's tables.
    let user = app.user("searcher").await;
    app.post(&user, "Trigram-less Search", true).await;
    let res = app.get("/posts/?search=LESS%20s", Some(&user.token)).await;
    let found = res.json::<serde_json::Value>().await.unwrap();

    app.db
        .execute_unprepared(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
    migrated.unwrap();
    assert!(status.unwrap().iter().all(|(_, applied)| *applied));
    assert!(
        !names.iter().any(|n| n.starts_with("ix_posts_title")),
        "{names:?}"
    );
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
}

/// A PostgreSQL database that does not exist is not waited for: start-up stops at once
/// (though `DATABASE_CONNECT_TIMEOUT_SECS` would allow a minute), naming it and how to create
/// it, whether it migrates first or not.
#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn start_up_on_a_database_that_does_not_exist_stops_at_once() {
    let admin = tests::postgres_admin_url().expect("TEST_DATABASE_URL");
    let name = tests::unique("posts_never_created");
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    for auto_migrate in ["true", "false"] {
        let settings = tests::test_settings(
            url.as_str(),
            &[
                ("DATABASE_CONNECT_TIMEOUT_SECS", "60"),
                ("AUTO_MIGRATE", auto_migrate),
            ],
        );
        // The URL start-up connects to first: the migrations' when it migrates (PostgreSQL
        // itself), else the server's own (through a pooler when the suite runs through one).
        let database = &settings.database;
        let first = match (auto_migrate, &database.migration_url) {
            ("true", Some(migrations)) => migrations,
            _ => &database.url,
        };
        let given = url::Url::parse(first).unwrap();
        let started = std::time::Instant::now();
        let Err(e) = api::Application::build(settings).await else {
            panic!("started on a database that does not exist");
        };
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let message = e.to_string();
        assert!(
            message.starts_with(&format!("database \"{name}\" does not exist"))
                && message.contains(&format!(
                    "createdb -h {} -p {} -U {} {name}",
                    given.host_str().unwrap(),
                    given.port().unwrap_or(5432),
                    given.username()
                ))
                && !message.contains('\n'),
            "AUTO_MIGRATE={auto_migrate}: {message}"
        );
    }
}
