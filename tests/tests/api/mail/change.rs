//! `PATCH /users/me`: a new email, confirmed by the current password.

use std::time::Duration;

use reqwest::StatusCode;
use tests::{PASSWORD, TestApp, assert_401, assert_422, assert_detail, json_of};

use super::{login_pair, mail_app, register};

/// Registers `email`, logs in, returns the access token.
async fn logged_in(app: &TestApp, email: &str) -> String {
    register(app, email).await;
    login_pair(app, email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_right_password_changes_the_email() {
    let (app, _sink) = mail_app(&[]).await;
    let token = logged_in(&app, "ann@example.com").await;
    let res = app
        .change_email(&token, " Ann.New@Example.com ", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let user = json_of(res).await;
    assert_eq!(user["email"], "ann.new@example.com");
    let me = json_of(app.get("/users/me", Some(&token)).await).await;
    assert_eq!(me, user, "the session lives on, with the new address");
    login_pair(&app, "ann.new@example.com", PASSWORD).await;
    let res = app.login("ann@example.com", PASSWORD).await;
    assert_detail(res, 403, "Invalid Credentials").await;
}

#[tokio::test]
async fn a_wrong_password_is_403_and_counts_as_a_failed_login() {
    let (app, _sink) = mail_app(&[("LOGIN_MAX_FAILURES", "2")]).await;
    let token = logged_in(&app, "ann@example.com").await;
    for _ in 0..2 {
        let res = app
            .change_email(&token, "ann.new@example.com", "wrong password")
            .await;
        assert_detail(res, 403, "Invalid Credentials").await;
    }
    // Throttled now, the right password included, and login too.
    let res = app
        .change_email(&token, "ann.new@example.com", PASSWORD)
        .await;
    assert!(res.headers().get("retry-after").is_some(), "Retry-After");
    assert_detail(res, 429, "too many login attempts").await;
    let res = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let me = json_of(app.get("/users/me", Some(&token)).await).await;
    assert_eq!(me["email"], "ann@example.com");
}

#[tokio::test]
async fn an_address_another_account_has_is_409_and_changes_nothing() {
    let (app, _sink) = mail_app(&[]).await;
    register(&app, "bob@example.com").await;
    let token = logged_in(&app, "ann@example.com").await;
    let res = app.change_email(&token, "BOB@example.com", PASSWORD).await;
    assert_detail(res, 409, "email already registered").await;
    let me = json_of(app.get("/users/me", Some(&token)).await).await;
    assert_eq!(me["email"], "ann@example.com");
}

#[tokio::test]
async fn the_change_needs_a_token_and_a_valid_body() {
    let (app, _sink) = mail_app(&[]).await;
    let token = logged_in(&app, "ann@example.com").await;
    let res = app
        .change_email("not a token", "ann.new@example.com", PASSWORD)
        .await;
    assert_401(res, "Could not validate credentials", "a bad token").await;
    let res = app.change_email(&token, "not an email", PASSWORD).await;
    assert_422(res, serde_json::json!(["body", "email"]), "value_error").await;
    let body = serde_json::json!({"email": "ann.new@example.com"});
    let res = app
        .send_json(reqwest::Method::PATCH, "/users/me", Some(&token), &body)
        .await;
    assert_422(
        res,
        serde_json::json!(["body", "current_password"]),
        "missing",
    )
    .await;
}

#[tokio::test]
async fn a_new_address_is_unverified_until_its_own_token_comes_back() {
    let (app, sink) = mail_app(&[("REQUIRE_EMAIL_VERIFICATION", "true")]).await;
    register(&app, "ann@example.com").await;
    let first = sink.next_for("ann@example.com").await.token();
    assert_eq!(
        app.verify_email(&first).await.status(),
        StatusCode::NO_CONTENT
    );
    let token = login_pair(&app, "ann@example.com", PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A reset token mailed to the old address goes with it.
    app.password_recovery("ann@example.com").await;
    let reset = sink.next_for("ann@example.com").await.token();

    let res = app
        .change_email(&token, "ann.new@example.com", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.login("ann.new@example.com", PASSWORD).await;
    assert_detail(res, 403, "email not verified").await;
    let res = app.reset_password(&reset, "a brand new password").await;
    assert_detail(res, 400, "invalid or expired token").await;
    sink.assert_none_for("ann@example.com", Duration::from_millis(200))
        .await;
    let mail = sink.next_for("ann.new@example.com").await;
    assert_eq!(mail.subject(), "Verify your email address");
    assert_eq!(
        app.verify_email(&mail.token()).await.status(),
        StatusCode::NO_CONTENT
    );
    login_pair(&app, "ann.new@example.com", PASSWORD).await;
}
