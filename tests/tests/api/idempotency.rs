//! `Idempotency-Key` on `POST /posts/` and `POST /vote/`: a retry gets the first answer again
//! and changes nothing; the same key with another request is 422; a key still running is 409.

use reqwest::{Response, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tests::{TestApp, TestUser, assert_detail, json_of, spawn_app};

async fn post_with_key(app: &TestApp, user: &TestUser, key: &str, body: &Value) -> Response {
    app.client
        .post(app.url("/posts/"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn vote_with_key(app: &TestApp, user: &TestUser, key: &str, post: i64, dir: i64) -> Response {
    app.client
        .post(app.url("/vote/"))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", key)
        .json(&json!({"post_id": post, "dir": dir}))
        .send()
        .await
        .unwrap()
}

fn replayed(res: &Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

async fn post_count(app: &TestApp, user: &TestUser) -> usize {
    let list = json_of(app.list_posts(user, &[("limit", "100")]).await).await;
    list.as_array().unwrap().len()
}

#[tokio::test]
async fn a_retried_post_is_created_once_and_answered_the_same() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json!({"title": "once", "content": "only once"});
    let first = post_with_key(&app, &ann, "retry-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first));
    let first = first.text().await.unwrap();
    // The same request again, with the key quoted as the draft writes it.
    let again = post_with_key(&app, &ann, "\"retry-1\"", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(replayed(&again));
    assert_eq!(
        again.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        again.text().await.unwrap(),
        first,
        "the same body, byte for byte"
    );
    assert_eq!(post_count(&app, &ann).await, 1);

    // Another request under the same key is refused, and creates nothing.
    let other = json!({"title": "twice", "content": "another"});
    let res = post_with_key(&app, &ann, "retry-1", &other).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(res).await;
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["header", "Idempotency-Key"])
    );
    assert_eq!(post_count(&app, &ann).await, 1);

    // Keys are the user's own: Bob's "retry-1" is another key.
    let bob = app.user("bob").await;
    let res = post_with_key(
        &app,
        &bob,
        "retry-1",
        &json!({"title": "bob's", "content": "x"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!replayed(&res));
    // Without a key, nothing changes: two requests, two posts.
    app.post(&ann, "no key", true).await;
    app.post(&ann, "no key", true).await;
    assert_eq!(post_count(&app, &ann).await, 4, "ann sees bob's post too");
}

#[tokio::test]
async fn a_retried_vote_is_cast_once_and_a_refusal_is_replayed_too() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let post = app.post(&ann, "vote on me", true).await["id"]
        .as_i64()
        .unwrap();
    for n in 0..2 {
        let res = vote_with_key(&app, &ann, "vote-1", post, 1).await;
        assert_eq!(res.status(), StatusCode::CREATED, "attempt {n}");
        assert_eq!(replayed(&res), n == 1);
        assert_eq!(json_of(res).await["message"], "successfully added vote");
    }
    let votes = json_of(app.get_post(&ann, post).await).await["votes"].clone();
    assert_eq!(votes, 1);
    // Without the key, the second vote is the usual 409.
    assert_eq!(app.vote(&ann, post, 1).await.status(), StatusCode::CONFLICT);
    // A 4xx is the request's answer, and is replayed as well.
    for n in 0..2 {
        let res = vote_with_key(&app, &ann, "vote-missing", 999_999, 1).await;
        assert_eq!(replayed(&res), n == 1);
        assert_detail(res, 404, "post with id: 999999 was not found").await;
    }
}

#[tokio::test]
async fn a_key_still_running_is_409_until_its_lease_ends() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json!({"title": "slow", "content": "still running"});
    // The first request reserved the key and has not answered yet (or died).
    let reserve = |created: &str| {
        format!(
            "INSERT INTO idempotency_keys (user_id, idempotency_key, fingerprint, created_at, expires_at) \
             VALUES ({}, 'busy', 'x', '{created}', '2999-01-01 00:00:00+00:00')",
            ann.id
        )
    };
    let now = chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
        .to_string();
    app.db.execute_unprepared(&reserve(&now)).await.unwrap();
    let res = post_with_key(&app, &ann, "busy", &body).await;
    assert_detail(
        res,
        409,
        "a request with this Idempotency-Key is still in progress",
    )
    .await;
    assert_eq!(post_count(&app, &ann).await, 0);
    // A reservation older than its lease belongs to a request that died: it is taken over.
    app.db
        .execute_unprepared("DELETE FROM idempotency_keys")
        .await
        .unwrap();
    app.db
        .execute_unprepared(&reserve("2001-01-01 00:00:00+00:00"))
        .await
        .unwrap();
    let res = post_with_key(&app, &ann, "busy", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!replayed(&res));
    assert_eq!(post_count(&app, &ann).await, 1);
}

#[tokio::test]
async fn an_expired_key_runs_the_request_again() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json!({"title": "daily", "content": "again tomorrow"});
    assert_eq!(post_with_key(&app, &ann, "day", &body).await.status(), 201);
    app.db
        .execute_unprepared("UPDATE idempotency_keys SET expires_at = '2001-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    let res = post_with_key(&app, &ann, "day", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!replayed(&res));
    assert_eq!(post_count(&app, &ann).await, 2);
}

#[tokio::test]
async fn a_key_is_kept_for_its_configured_lifetime() {
    use tests::sea_orm::EntityTrait;
    for (setting, hours) in [(None, 24), (Some("1"), 1), (Some("720"), 720)] {
        let vars: Vec<(&str, &str)> = setting
            .map(|h| ("IDEMPOTENCY_KEY_TTL_HOURS", h))
            .into_iter()
            .collect();
        let app = tests::spawn_app_with(&vars).await;
        let ann = app.user("ann").await;
        let body = json!({"title": "kept", "content": "for a while"});
        assert_eq!(post_with_key(&app, &ann, "kept", &body).await.status(), 201);
        let rows = entity::idempotency_key::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{setting:?}");
        let kept = rows[0].expires_at - rows[0].created_at;
        assert_eq!(kept, chrono::TimeDelta::hours(hours), "{setting:?}");
    }
}

#[tokio::test]
async fn racing_repeats_of_one_key_create_one_post() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json!({"title": "race", "content": "one of them"});
    let (a, b) = tokio::join!(
        post_with_key(&app, &ann, "race", &body),
        post_with_key(&app, &ann, "race", &body)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [201, 201] || statuses == [201, 409],
        "one runs; the other waits its turn or is replayed: {statuses:?}"
    );
    assert_eq!(post_count(&app, &ann).await, 1);
}

#[tokio::test]
async fn unusable_keys_are_422_at_the_header() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json!({"title": "t", "content": "c"});
    for key in ["", "\"\"", "two words", &"k".repeat(256)] {
        let res = post_with_key(&app, &ann, key, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key:?}");
        let body = json_of(res).await;
        assert_eq!(
            body["detail"][0]["loc"],
            json!(["header", "Idempotency-Key"]),
            "{key:?}"
        );
    }
    assert_eq!(post_count(&app, &ann).await, 0);
    // The key is looked at after the token: no token is still 401.
    let res = app
        .client
        .post(app.url("/posts/"))
        .header("Idempotency-Key", "")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
