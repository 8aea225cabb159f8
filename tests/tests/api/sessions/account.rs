//! The caller's account: a password change ends every session and old token, and deletion
//! takes everything of the user and never lets an old token act as anyone.

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::json;
use tests::{PASSWORD, Pair, assert_detail, json_of, spawn_app, spawn_app_with};

use super::{assert_invalid_grant, course_token, me_status};

const NEW_PASSWORD: &str = "a brand new password";

#[tokio::test]
async fn a_password_change_ends_every_session_and_answers_a_fresh_pair() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let other = app.session(&ann).await;
    let here = app.session(&ann).await;
    let course = course_token(&ann);
    let change = |token: &str, current: &str| {
        let body = json!({"current_password": current, "new_password": NEW_PASSWORD});
        let req = app.request(Method::PUT, "/users/me/password", Some(token));
        let req = req.json(&body);
        async move { req.send().await.unwrap() }
    };
    assert_detail(
        change(&here.access, "wrong password").await,
        403,
        "Invalid Credentials",
    )
    .await;
    assert_eq!(me_status(&app, &here.access).await, 200, "nothing changed");

    let res = change(&here.access, PASSWORD).await;
    assert_eq!(
        res.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let fresh = Pair::of(res).await;
    for token in [&here.access, &other.access, &ann.token, &course] {
        assert_eq!(me_status(&app, token).await, 401);
    }
    for refresh in [&here.refresh, &other.refresh] {
        assert_invalid_grant(app.refresh(refresh).await, "before the change").await;
    }
    assert_eq!(me_status(&app, &fresh.access).await, 200);
    Pair::of(app.refresh(&fresh.refresh).await).await;
    let res = app.login(&ann.email, PASSWORD).await;
    assert_detail(res, 403, "Invalid Credentials").await;
    assert_eq!(app.login(&ann.email, NEW_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_password_change_validates_as_registration_and_checks_auth_first() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let body = json!({"current_password": PASSWORD, "new_password": "short"});
    let res = app
        .send_json(Method::PUT, "/users/me/password", None, &body)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send_json(Method::PUT, "/users/me/password", Some(&ann.token), &body)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let over = json!({"current_password": PASSWORD, "new_password": "x".repeat(73)});
    let res = app
        .send_json(Method::PUT, "/users/me/password", Some(&ann.token), &over)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(me_status(&app, &ann.token).await, 200, "nothing changed");
}

#[tokio::test]
async fn wrong_current_passwords_count_toward_the_login_throttle() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "2")]).await;
    let ann = app.user("ann").await;
    let body = json!({"current_password": "wrong password", "new_password": NEW_PASSWORD});
    for _ in 0..2 {
        let res = app
            .send_json(Method::PUT, "/users/me/password", Some(&ann.token), &body)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res = app
        .send_json(Method::PUT, "/users/me/password", Some(&ann.token), &body)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let res = app.login(&ann.email, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "login shares the count"
    );
}

#[tokio::test]
async fn deleting_the_account_takes_its_posts_votes_and_sessions() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let anns = app.post(&ann, "ann's", true).await;
    let bobs = app.post(&bob, "bob's", true).await;
    let (anns, bobs) = (anns["id"].as_i64().unwrap(), bobs["id"].as_i64().unwrap());
    assert_eq!(app.vote(&ann, bobs, 1).await.status(), 201);
    assert_eq!(app.vote(&bob, anns, 1).await.status(), 201);

    let delete = |password: &str| {
        let body = json!({"password": password});
        let req = app.request(Method::DELETE, "/users/me", Some(&ann.token));
        let req = req.json(&body);
        async move { req.send().await.unwrap() }
    };
    assert_detail(delete("wrong password").await, 403, "Invalid Credentials").await;
    assert_eq!(me_status(&app, &ann.token).await, 200, "nothing deleted");
    let res = delete(PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.text().await.unwrap(), "");

    assert_eq!(me_status(&app, &ann.token).await, 401);
    assert_eq!(app.get_post(&bob, anns).await.status(), 404);
    let post = json_of(app.get_post(&bob, bobs).await).await;
    assert_eq!(post["votes"], 0, "ann's vote went with her");
    assert_eq!(app.get_user(&bob, ann.id).await.status(), 404);
    for table in ["sessions", "votes", "account_states"] {
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.backend(),
                format!("SELECT user_id FROM {table} WHERE user_id = {}", ann.id),
            ))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{table}");
    }
    let res = app.login(&ann.email, PASSWORD).await;
    assert_detail(res, 403, "Invalid Credentials").await;
}

/// SQLite hands the largest rowid out again after a delete unless the table is
/// `AUTOINCREMENT`; a token of the deleted newest user must not become the next user's.
#[tokio::test]
async fn a_deleted_newest_users_tokens_never_act_as_the_next_user() {
    let app = spawn_app().await;
    let _ann = app.user("ann").await;
    let zed = app.user("zed").await;
    let pair = app.session(&zed).await;
    let course = course_token(&zed);
    let body = json!({"password": PASSWORD});
    let res = app
        .send_json(Method::DELETE, "/users/me", Some(&zed.token), &body)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let next = app.user("next").await;
    assert!(
        next.id > zed.id,
        "ids are never reused: {} after {}",
        next.id,
        zed.id
    );
    for token in [&zed.token, &pair.access, &course] {
        assert_eq!(me_status(&app, token).await, 401);
    }
    assert_invalid_grant(app.refresh(&pair.refresh).await, "a deleted user's").await;
    // Even zed's own email, registered again, is a new user with a new id.
    let again = app.user("zed").await;
    assert!(again.id > next.id);
    assert_eq!(me_status(&app, &course).await, 401);
}

#[tokio::test]
async fn deleting_needs_a_token_first_then_a_body() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let res = app
        .request(Method::DELETE, "/users/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .request(Method::DELETE, "/users/me", Some(&ann.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(me_status(&app, &ann.token).await, 200);
}
