//! Step 3b: sessions are the database's, so ending one through a replica ends it on the other
//! at its next request.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tests::unique;

use super::PASSWORD;
use super::replicas::Replica;
use super::requests::register;

/// A token pair from `POST /login` with `form` through `base`.
async fn pair(http: &Client, base: &str, form: &[(&str, &str)]) -> (String, String) {
    let r = http
        .post(format!("{base}/login"))
        .form(form)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK, "token request at {base}");
    let body: Value = r.json().await.expect("JSON");
    let field = |k: &str| body[k].as_str().expect(k).to_owned();
    (field("access_token"), field("refresh_token"))
}

/// The status of a request through `base`, with `token`.
async fn status(http: &Client, method: Method, base: &str, path: &str, token: &str) -> u16 {
    http.request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn refresh_status(http: &Client, base: &str, refresh: &str) -> u16 {
    http.post(format!("{base}/login"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .expect("refresh")
        .status()
        .as_u16()
}

/// Step 3b: log in through A and refresh through B; reuse the retired token through A and the
/// session is over on B; log out through B and the token is refused by A at once; change the
/// password through A and B refuses every older token.
pub(super) async fn sessions_span_replicas(http: &Client, a: &Replica, b: &Replica) {
    let (a_base, b_base) = (a.base(), b.base());
    let email = format!("{}@example.com", unique("sessions"));
    register(http, &a_base, &email).await;
    let login = [("username", email.as_str()), ("password", PASSWORD)];

    let (_, first) = pair(http, &a_base, &login).await;
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first.as_str()),
    ];
    let (access, second) = pair(http, &b_base, &refresh).await;
    assert_eq!(
        status(http, Method::GET, &a_base, "/users/me", &access).await,
        200
    );
    assert_eq!(
        refresh_status(http, &a_base, &first).await,
        400,
        "reuse through A"
    );
    assert_eq!(
        status(http, Method::GET, &b_base, "/users/me", &access).await,
        401
    );
    assert_eq!(refresh_status(http, &b_base, &second).await, 400);

    let (access, _) = pair(http, &b_base, &login).await;
    let (other, _) = pair(http, &a_base, &login).await;
    assert_eq!(
        status(http, Method::POST, &b_base, "/logout", &access).await,
        204
    );
    assert_eq!(
        status(http, Method::GET, &a_base, "/users/me", &access).await,
        401
    );
    assert_eq!(
        status(http, Method::GET, &a_base, "/users/me", &other).await,
        200
    );

    let r = http
        .put(format!("{a_base}/users/me/password"))
        .bearer_auth(&other)
        .json(&json!({"current_password": PASSWORD, "new_password": "another-password-1"}))
        .send()
        .await
        .expect("password change");
    assert_eq!(r.status(), StatusCode::OK, "password change through A");
    assert_eq!(
        status(http, Method::GET, &b_base, "/users/me", &other).await,
        401
    );
    eprintln!(
        "step 3b: refresh, reuse, logout and a password change through one replica hold on the other"
    );
}

/// Step 3c: one login budget for both replicas. Failed logins through A and B in turn count
/// together: past `LOGIN_MAX_FAILURES` (10, the default) the next attempt is 429 through A, B
/// and nginx alike.
pub(super) async fn one_login_budget(http: &Client, a: &Replica, b: &Replica, nginx: &str) {
    let email = format!("{}@example.com", unique("budget"));
    register(http, &a.base(), &email).await;
    let attempt = |base: String| {
        let req = http
            .post(format!("{base}/login"))
            .form(&[("username", email.as_str()), ("password", "a wrong guess")]);
        async move { req.send().await.expect("login").status().as_u16() }
    };
    for n in 0..10 {
        let base = if n % 2 == 0 { a.base() } else { b.base() };
        assert_eq!(attempt(base).await, 403, "failure {n}");
    }
    for base in [a.base(), b.base(), nginx.to_owned()] {
        assert_eq!(
            attempt(base.clone()).await,
            429,
            "the 11th attempt through {base}"
        );
    }
    eprintln!(
        "step 3c: 10 failed logins through A and B in turn: the next is 429 through A, B and nginx"
    );
}
