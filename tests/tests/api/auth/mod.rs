//! Login (OAuth2 password form), bearer tokens and their failures, and `GET /users/{id}`.
//! This module holds what the test modules share: taking JWTs apart and putting them together,
//! and the contract's 401.

mod bearer;
mod login;
mod lookup;
mod refusals;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tests::{TestApp, json_of};

/// The protected routes the bearer checks are exercised on.
const PROTECTED: [&str; 2] = ["/posts/", "/users/me"];

/// base64url without padding, as JWTs use it.
fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64url_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text}"))
}

/// The header and payload of a JWT, as JSON.
fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    let decode =
        |p: &str| -> Value { serde_json::from_slice(&b64url_decode(p)).expect("JWT part is JSON") };
    (decode(parts[0]), decode(parts[1]))
}

/// A JWT with `header` and `claims` and no signature at all.
fn unsigned_token(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A GET on `path` with this exact `Authorization` header value.
async fn get_with_authorization(app: &TestApp, path: &str, authorization: &str) -> Response {
    app.request(Method::GET, path, None)
        .header("Authorization", authorization)
        .send()
        .await
        .expect("request")
}

/// Asserts a 401 with `{"detail": detail}` and `WWW-Authenticate: Bearer`.
async fn assert_401(res: Response, detail: &str, case: &str) {
    let status = res.status();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    let body = json_of(res).await;
    assert_eq!(
        (status, challenge.as_deref(), &body),
        (
            StatusCode::UNAUTHORIZED,
            Some("Bearer"),
            &json!({"detail": detail})
        ),
        "{case}"
    );
}

/// The fields of a login form, in order.
type Form<'a> = Vec<(&'a str, &'a str)>;

/// The access token of a 200 login answer.
async fn token_of(res: Response) -> String {
    assert_eq!(res.status(), StatusCode::OK, "login");
    json_of(res).await["access_token"]
        .as_str()
        .expect("access_token is a string")
        .to_owned()
}
