//! Sessions (issue: sessions you can end): refresh tokens, rotation and reuse detection,
//! logout, the sessions list, password change and account deletion, each proved through HTTP
//! on whichever database the suite runs against.

mod account;
mod logout;
mod refresh;

use reqwest::{Method, Response};
use serde_json::{Value, json};
use tests::{SECRET, TestApp, TestUser, now, token_with};

/// The contract's refusal of a refresh token.
async fn assert_invalid_grant(res: Response, what: &str) {
    assert_eq!(res.status(), 400, "{what}");
    assert_eq!(
        res.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..]),
        "{what}"
    );
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["detail"], "invalid_grant", "{what}: {body}");
    assert_eq!(body["error"], "invalid_grant", "{what}: {body}");
    assert!(body["error_description"].is_string(), "{what}: {body}");
}

/// A token minted the course's way for `user`: only `user_id` and `exp` (an hour, the
/// server's lifetime), so its issue time is taken to be now.
fn course_token(user: &TestUser) -> String {
    token_with(
        &json!({"user_id": user.id, "exp": now() + 3600}),
        jsonwebtoken::Algorithm::HS256,
        SECRET,
    )
}

/// `GET /users/me`'s status with `token`.
async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/users/me", Some(token)).await.status().as_u16()
}

/// An authenticated request with no body.
async fn send(app: &TestApp, method: Method, path: &str, token: &str) -> Response {
    app.request(method, path, Some(token))
        .send()
        .await
        .expect("request")
}
