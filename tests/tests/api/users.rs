//! `/users/`: registration, `/users/me`, `/users/{id}`.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use tests::{PASSWORD, assert_401, assert_detail, json_of, keys_in_order, spawn_app};

/// A User's keys, in the contract's order.
const USER_KEYS: [&str; 3] = ["id", "email", "created_at"];

#[tokio::test]
async fn register_returns_201_with_the_user_in_order_and_no_password() {
    let app = spawn_app().await;
    let res = app.register("  New.User@Example.COM ", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let text = res.text().await.unwrap();
    assert_eq!(keys_in_order(&text), USER_KEYS, "{text}");
    assert!(
        !text.contains("password") && !text.contains(PASSWORD),
        "{text}"
    );
    let user: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(user["email"], "new.user@example.com");
    assert_eq!(user.as_object().unwrap().len(), 3);
    let created = user["created_at"].as_str().unwrap();
    assert!(created.ends_with("+00:00"), "{created}");
    let fraction = created.split('.').nth(1).unwrap();
    assert_eq!(fraction.len(), "123456+00:00".len(), "{created}");
}

#[tokio::test]
async fn passwords_are_stored_only_as_bcrypt_hashes() {
    let app = spawn_app().await;
    let user = app.user("hashed").await;
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            format!("SELECT password FROM users WHERE id = {}", user.id),
        ))
        .await
        .unwrap()
        .unwrap();
    let hash: String = row.try_get("", "password").unwrap();
    // Tests run at cost 4; the default is 12.
    assert!(hash.starts_with("$2b$04$"), "{hash}");
    assert_eq!(hash.len(), 60);
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn registering_an_email_twice_in_any_case_is_409() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("twice@example.com", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    for again in [
        "twice@example.com",
        "TWICE@Example.com",
        " twice@example.com ",
    ] {
        let res = app.register(again, PASSWORD).await;
        assert_detail(res, 409, "email already registered").await;
    }
}

#[tokio::test]
async fn users_me_returns_the_caller() {
    let app = spawn_app().await;
    let user = app.user("me").await;
    let res = app.me(&user).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A conditional GET: kept by the client, revalidated with its ETag (issue 16).
    assert_eq!(res.headers()["cache-control"], "private, no-cache");
    let me = json_of(res).await;
    assert_eq!(me["id"], json!(user.id));
    assert_eq!(me["email"], json!(user.email));
}

#[tokio::test]
async fn any_user_can_look_up_another_by_id() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let res = app.get_user(&ann, bob.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert_eq!(keys_in_order(&text), USER_KEYS, "{text}");
    let found: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(found["email"], json!(bob.email));
}

#[tokio::test]
async fn users_by_id_need_a_token_and_an_existing_id() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let res = app.get(&format!("/users/{}", ann.id), None).await;
    assert_401(res, "Not authenticated", "GET /users/{id} without a token").await;
    for id in ["999", "2147483648", "9223372036854775807"] {
        let res = app.get_user(&ann, id).await;
        assert_detail(res, 404, &format!("user with id: {id} was not found")).await;
    }
}
