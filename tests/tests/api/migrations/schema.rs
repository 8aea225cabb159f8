//! The schema the migrations build: the course's names, types, defaults, indexes and
//! cascades, and entities that agree with it both ways.

use chrono::Utc;
use entity::{post, user, vote};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, Statement,
};
use tests::{json_of, spawn_app};

use super::indexes;

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

#[tokio::test]
async fn the_schema_has_the_courses_names_types_and_indexes() {
    let app = spawn_app().await;
    let mut expected = vec![
        "ix_idempotency_keys_expires_at",
        "ix_login_failures_window_start",
        "ix_posts_owner_id",
        "ix_retired_refresh_tokens_session_id",
        "ix_sessions_user_id",
        "ix_users_email_lower",
        "ix_votes_post_id",
    ];
    if app.backend() == DbBackend::Postgres {
        // pg_trgm ships with PostgreSQL's contrib package, present wherever this suite runs.
        expected.insert(3, "ix_posts_title_folded_trgm");
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
            "account_states_user_id_fkey c",
            "account_tokens_user_id_fkey c",
            "idempotency_keys_user_id_fkey c",
            "post_users_fk c",
            "retired_refresh_tokens_session_id_fkey c",
            "sessions_user_id_fkey c",
            "votes_post_id_fkey c",
            "votes_user_id_fkey c"
        ]
    );
}
