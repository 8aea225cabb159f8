//! Logout: one session, every session, one session by id, and the list; course-style tokens
//! revoked by time.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tests::{PASSWORD, Pair, assert_detail, json_of, keys_in_order, spawn_app};

use super::{assert_invalid_grant, course_token, me_status, send};

#[tokio::test]
async fn logout_ends_the_callers_session_and_no_other() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let phone = app.session(&ann).await;
    let laptop = app.session(&ann).await;
    let res = send(&app, Method::POST, "/logout", &phone.access).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Within one request: the very next one is refused.
    assert_eq!(me_status(&app, &phone.access).await, 401);
    assert_invalid_grant(app.refresh(&phone.refresh).await, "logged out").await;
    let res = send(&app, Method::POST, "/logout", &phone.access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "twice");
    assert_eq!(me_status(&app, &laptop.access).await, 200);
    Pair::of(app.refresh(&laptop.refresh).await).await;
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_and_course_style_token() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let phone = app.session(&ann).await;
    let course = course_token(&ann);
    assert_eq!(me_status(&app, &course).await, 200);
    for (method, path) in [
        (Method::POST, "/logout/all"),
        (Method::DELETE, "/users/me/sessions"),
    ] {
        let fresh = app.session(&ann).await;
        let res = send(&app, method, path, &fresh.access).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{path}");
        for token in [&fresh.access, &phone.access, &ann.token, &course] {
            assert_eq!(me_status(&app, token).await, 401, "{path}");
        }
        assert_invalid_grant(app.refresh(&fresh.refresh).await, path).await;
    }
    // A new login works, and nobody else was touched.
    let again = app.session(&ann).await;
    assert_eq!(me_status(&app, &again.access).await, 200);
    assert_eq!(me_status(&app, &bob.token).await, 200);
    assert_eq!(me_status(&app, &course_token(&bob)).await, 200);
}

#[tokio::test]
async fn logout_with_a_course_style_token_refuses_those_tokens_only() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let course = course_token(&ann);
    let res = send(&app, Method::POST, "/logout", &course).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app, &course).await, 401);
    assert_eq!(me_status(&app, &ann.token).await, 200, "a session's token");
}

#[tokio::test]
async fn the_sessions_list_shows_each_login_and_never_a_token() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let login = |agent: &'static str| {
        let req = app
            .client
            .post(app.url("/login"))
            .header("user-agent", agent)
            .form(&[("username", ann.email.as_str()), ("password", PASSWORD)]);
        async move { Pair::of(req.send().await.unwrap()).await }
    };
    let phone = login("Phone/1.0").await;
    let laptop = login("Laptop/2.0").await;
    let res = app.get("/users/me/sessions", Some(&laptop.access)).await;
    assert_eq!(
        res.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let raw = res.text().await.unwrap();
    let list: Value = serde_json::from_str(&raw).unwrap();
    let sessions = list.as_array().unwrap();
    assert_eq!(
        sessions.len(),
        3,
        "app.user's login, the phone, the laptop: {list}"
    );
    for token in [
        &phone.refresh,
        &laptop.refresh,
        &phone.access,
        &laptop.access,
    ] {
        assert!(!raw.contains(token.as_str()));
    }
    assert_eq!(
        keys_in_order(&raw)[..6],
        [
            "id",
            "user_agent",
            "created_at",
            "last_used_at",
            "expires_at",
            "current"
        ]
    );
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Laptop/2.0");
    let phone_session = sessions
        .iter()
        .find(|s| s["user_agent"] == "Phone/1.0")
        .unwrap();
    let phone_id = phone_session["id"].as_i64().unwrap();

    // Bob cannot end Ann's session; Ann can.
    let path = format!("/users/me/sessions/{phone_id}");
    let res = send(&app, Method::DELETE, &path, &bob.token).await;
    assert_detail(
        res,
        404,
        &format!("session with id: {phone_id} was not found"),
    )
    .await;
    assert_eq!(me_status(&app, &phone.access).await, 200);
    let res = send(&app, Method::DELETE, &path, &laptop.access).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app, &phone.access).await, 401);
    assert_invalid_grant(app.refresh(&phone.refresh).await, "ended by id").await;
    let res = send(&app, Method::DELETE, &path, &laptop.access).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "twice");
    let list = json_of(app.get("/users/me/sessions", Some(&laptop.access)).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Ids as every other path id: 422 for what is not one, 404 beyond 32 bits.
    let res = send(&app, Method::DELETE, "/users/me/sessions/0", &laptop.access).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send(
        &app,
        Method::DELETE,
        "/users/me/sessions/9999999999",
        &laptop.access,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
