//! The schema: migrations up, down and up again, concurrent migrators, and entities that
//! agree with what the migrations built, on whichever database the suite runs against.

use chrono::Utc;
use entity::{post, user, vote};
use migration::Command;
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DbBackend, EntityTrait,
    Statement,
};
use tests::{TestApp, json_of, spawn_app, spawn_app_with};

fn tables_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name IN ('users', 'posts', 'votes')"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'posts', 'votes')"
        }
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

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let app = spawn_app().await;
    assert_eq!(tables(&app.db).await, ["posts", "users", "votes"]);
    let status = migration::status(&app.db).await.unwrap();
    assert_eq!(status.len(), 5);
    assert!(status.iter().all(|(_, applied)| *applied));

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
    assert_eq!(tables(&app.db).await, ["posts", "users", "votes"]);
    migration::run(&app.db, Command::Refresh).await.unwrap();
    migration::run(&app.db, Command::Fresh).await.unwrap();
    assert_eq!(tables(&app.db).await, ["posts", "users", "votes"]);

    // The server works on the rebuilt schema.
    let user = app.user("after").await;
    app.post(&user, "still works", true).await;
}

#[tokio::test]
async fn two_migrators_at_once_both_succeed_on_a_fresh_database() {
    let app = spawn_app_with(&[("AUTO_MIGRATE", "false")]).await;
    assert!(tables(&app.db).await.is_empty());
    let a = Database::connect(&app.database_url).await.unwrap();
    let b = Database::connect(&app.database_url).await.unwrap();
    let (ra, rb) = tokio::join!(
        migration::run(&a, Command::Up(None)),
        migration::run(&b, Command::Up(None))
    );
    if app.backend() == DbBackend::Postgres {
        // The advisory lock makes the second wait, then find nothing pending.
        ra.unwrap();
        rb.unwrap();
    } else {
        // SQLite has no advisory lock: one of two racing migrators may lose, but the schema
        // must end up complete and a rerun must be clean.
        assert!(ra.is_ok() || rb.is_ok());
        migration::run(&a, Command::Up(None)).await.unwrap();
    }
    assert_eq!(tables(&app.db).await, ["posts", "users", "votes"]);
    let status = migration::status(&app.db).await.unwrap();
    assert!(status.iter().all(|(_, applied)| *applied));
}

#[tokio::test]
async fn rows_written_with_sql_defaults_read_back_through_the_entities() {
    let app = spawn_app().await;
    // As the course's clients do: insert straight into the tables, relying on defaults.
    for sql in [
        "INSERT INTO users (email, password) VALUES ('raw@example.com', 'x')",
        "INSERT INTO posts (title, content, owner_id) VALUES ('raw title', 'raw content', 1)",
        "INSERT INTO votes (user_id, post_id) VALUES (1, 1)",
    ] {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    let users = user::Entity::find().all(&app.db).await.unwrap();
    let posts = post::Entity::find().all(&app.db).await.unwrap();
    let votes = vote::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(posts.len(), 1);
    assert_eq!(votes.len(), 1);
    assert!(posts[0].published, "published defaults to true");
    let age = Utc::now().signed_duration_since(posts[0].created_at);
    assert!(
        age.num_seconds().abs() < 120,
        "created_at defaults to now: {age}"
    );
    let age = Utc::now().signed_duration_since(users[0].created_at);
    assert!(
        age.num_seconds().abs() < 120,
        "created_at defaults to now: {age}"
    );
}

#[tokio::test]
async fn entities_write_rows_that_the_api_reads() {
    let app = spawn_app().await;
    let now = Utc::now().fixed_offset();
    let owner = user::ActiveModel {
        email: Set("entity@example.com".into()),
        password: Set("not a hash".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let post = post::ActiveModel {
        title: Set("from the entity".into()),
        content: Set("body".into()),
        published: Set(true),
        created_at: Set(now),
        owner_id: Set(owner.id),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    vote::ActiveModel {
        user_id: Set(owner.id),
        post_id: Set(post.id),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let reader = app.user("reader").await;
    let res = app.get_post(&reader, post.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json_of(res).await;
    assert_eq!(body["Post"]["title"], "from the entity");
    assert_eq!(body["Post"]["owner"]["email"], "entity@example.com");
    assert_eq!(body["votes"], 1);
}

#[tokio::test]
async fn deleting_a_user_cascades_to_posts_and_votes() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let post = app.post(&ann, "doomed", true).await;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(app.vote(&bob, id, 1).await.status(), StatusCode::CREATED);
    app.db
        .execute_unprepared(&format!("DELETE FROM users WHERE id = {}", ann.id))
        .await
        .unwrap();
    assert!(post::Entity::find().all(&app.db).await.unwrap().is_empty());
    assert!(vote::Entity::find().all(&app.db).await.unwrap().is_empty());
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

#[tokio::test]
async fn the_schema_has_the_courses_names_types_and_indexes() {
    let app = spawn_app().await;
    let mut expected = vec![
        "ix_posts_owner_id",
        "ix_users_email_lower",
        "ix_votes_post_id",
    ];
    if app.backend() == DbBackend::Postgres {
        // pg_trgm ships with PostgreSQL's contrib package, present wherever this suite runs.
        expected.insert(1, "ix_posts_title_folded_trgm");
    }
    assert_eq!(indexes(&app).await, expected);
    if app.backend() != DbBackend::Postgres {
        // SQLite has no information_schema; the tests above cover names and defaults there.
        return;
    }
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') AS d \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name IN ('users', 'posts', 'votes') ORDER BY table_name, ordinal_position",
        ))
        .await
        .unwrap();
    let columns: Vec<String> = rows
        .iter()
        .map(|r| {
            let get = |c: &str| r.try_get::<String>("", c).unwrap();
            let default = get("d");
            let default = if default.starts_with("nextval") {
                "serial".to_owned()
            } else {
                default
            };
            format!(
                "{}.{} {} {} {}",
                get("table_name"),
                get("column_name"),
                get("data_type"),
                get("is_nullable"),
                default
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            "posts.id integer NO serial",
            "posts.title character varying NO ",
            "posts.content character varying NO ",
            "posts.published boolean NO true",
            "posts.created_at timestamp with time zone NO CURRENT_TIMESTAMP",
            "posts.owner_id integer NO ",
            "users.id integer NO serial",
            "users.email character varying NO ",
            "users.password character varying NO ",
            "users.created_at timestamp with time zone NO CURRENT_TIMESTAMP",
            "votes.user_id integer NO ",
            "votes.post_id integer NO ",
        ]
    );
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT conname, confdeltype::text AS del FROM pg_constraint \
             WHERE contype = 'f' ORDER BY conname",
        ))
        .await
        .unwrap();
    let fks: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.try_get::<String>("", "conname").unwrap(),
                r.try_get::<String>("", "del").unwrap()
            )
        })
        .collect();
    // 'c' = ON DELETE CASCADE.
    assert_eq!(
        fks,
        [
            "post_users_fk c",
            "votes_post_id_fkey c",
            "votes_user_id_fkey c"
        ]
    );
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
