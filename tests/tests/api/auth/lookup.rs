//! `GET /users/{id}`: a signed-in user looks up another; unknown and malformed ids.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{assert_422, assert_detail, has_entry, json_of, json_of_422, keys_in_order, spawn_app};

use super::{assert_401, get_with_authorization};

#[tokio::test]
async fn get_user_requires_a_token() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let res = app.get(&format!("/users/{}", user.id), None).await;
    assert_401(res, "Not authenticated", "no token").await;
    let res = app.get("/users/abc", None).await;
    assert_401(res, "Not authenticated", "no token and a bad id").await;
    let res = get_with_authorization(&app, &format!("/users/{}", user.id), "Bearer nope").await;
    assert_401(res, "Could not validate credentials", "bad token").await;
}

#[tokio::test]
async fn get_user_returns_id_email_created_at_in_order_and_no_password() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    // Any signed-in user may look up another.
    let res = app.get_user(&bob, ann.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("body");
    assert_eq!(
        keys_in_order(&text),
        ["id", "email", "created_at"],
        "exactly these fields, in this order: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        (&body["id"], &body["email"]),
        (&json!(ann.id), &json!(ann.email))
    );
    let created_at = body["created_at"].as_str().expect("created_at is a string");
    assert!(
        created_at.ends_with("+00:00")
            && created_at.len() == "2026-11-24T22:58:22.589889+00:00".len(),
        "RFC 3339 with microseconds and +00:00: {created_at}"
    );
    assert!(!text.to_lowercase().contains("password"), "{text}");
    assert!(!text.contains("$2b$"), "{text}");
    // The same user as /users/me says.
    let me = json_of(app.me(&ann).await).await;
    assert_eq!(me, body);
}

#[tokio::test]
async fn get_user_of_an_unknown_id_is_404() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for id in [user.id + 1, 999_999, i64::from(i32::MAX) + 1, i64::MAX] {
        let res = app.get_user(&user, id).await;
        assert_detail(res, 404, &format!("user with id: {id} was not found")).await;
    }
}

#[tokio::test]
async fn get_user_with_a_non_integer_id_is_422_at_path_id() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let cases = [
        ("letters", "abc"),
        ("a float", "1.5"),
        ("an exponent", "1e3"),
        ("a word", "one"),
    ];
    for (case, id) in cases {
        let res = app.get_user(&user, id).await;
        let body = json_of_422(res, case).await;
        assert!(
            has_entry(&body, &json!(["path", "id"]), None),
            "{case}: {body}"
        );
    }
    let res = app.get_user(&user, "abc").await;
    assert_422(res, json!(["path", "id"]), "int_parsing").await;
}
