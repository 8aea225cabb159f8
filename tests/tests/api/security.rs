//! Login throttling (429 with `Retry-After`) and the token rules beyond the basic ones.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, SECRET, assert_detail, now, spawn_app_with, token_with};

#[tokio::test]
async fn failed_logins_for_one_account_are_throttled_with_retry_after() {
    let app = spawn_app_with(&[
        ("LOGIN_MAX_FAILURES", "3"),
        ("LOGIN_FAILURE_WINDOW_SECS", "60"),
    ])
    .await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    for attempt in 1..=3 {
        let res = app.login(&ann.email, "wrong password").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "attempt {attempt}");
    }
    // Now even the right password waits, in any spelling of the email.
    for (email, password) in [
        (ann.email.as_str(), "wrong password"),
        (ann.email.as_str(), PASSWORD),
        ("ANN@example.com", PASSWORD),
    ] {
        let res = app.login(email, password).await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        assert_detail(res, 429, "too many login attempts").await;
    }
    // Another account, and every other route, are unaffected.
    assert_eq!(
        app.login(&bob.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/posts/", Some(&ann.token)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_logins_from_one_client_are_throttled_across_accounts() {
    let app = spawn_app_with(&[
        ("LOGIN_MAX_FAILURES", "100"),
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "4"),
    ])
    .await;
    let ann = app.user("ann").await;
    for n in 0..4 {
        let res = app.login(&format!("nobody{n}@example.com"), PASSWORD).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "attempt {n}");
    }
    assert_detail(
        app.login(&ann.email, PASSWORD).await,
        429,
        "too many login attempts",
    )
    .await;
}

#[tokio::test]
async fn a_successful_login_clears_the_accounts_failures() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let ann = app.user("ann").await;
    for round in 0..3 {
        for _ in 0..2 {
            let res = app.login(&ann.email, "wrong password").await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "round {round}");
        }
        assert_eq!(
            app.login(&ann.email, PASSWORD).await.status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn throttling_can_be_switched_off() {
    let app = spawn_app_with(&[
        ("LOGIN_MAX_FAILURES", "0"),
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "0"),
    ])
    .await;
    let ann = app.user("ann").await;
    for _ in 0..15 {
        let res = app.login(&ann.email, "wrong password").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.login(&ann.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_token_not_valid_before_a_future_time_is_refused() {
    let app = spawn_app_with(&[]).await;
    let ann = app.user("ann").await;
    let early = token_with(
        &json!({"user_id": ann.id, "exp": now() + 600, "nbf": now() + 300}),
        Algorithm::HS256,
        SECRET,
    );
    let res = app.get("/users/me", Some(&early)).await;
    assert_detail(res, 401, "Could not validate credentials").await;
    let ready = token_with(
        &json!({"user_id": ann.id, "exp": now() + 600, "nbf": now() - 5}),
        Algorithm::HS256,
        SECRET,
    );
    assert_eq!(
        app.get("/users/me", Some(&ready)).await.status(),
        StatusCode::OK
    );
}
