//! The 422 body for every way input can be wrong, and the body size limit (413). This module
//! holds the JSON routes every case is tried on, and ways to send them anything.

mod body;
mod credentials;
mod fields;
mod size;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp, json_of_422};

/// One JSON route and the token it needs.
struct Route {
    path: &'static str,
    token: Option<String>,
}

/// `POST /users/`, `POST /posts/` and `POST /vote/`, with a signed-in user for the last two.
async fn json_routes(app: &TestApp) -> [Route; 3] {
    let user = app.user("caller").await;
    [
        Route {
            path: "/users/",
            token: None,
        },
        Route {
            path: "/posts/",
            token: Some(user.token.clone()),
        },
        Route {
            path: "/vote/",
            token: Some(user.token),
        },
    ]
}

/// POSTs raw bytes to `route` with this `Content-Type` (none if `None`).
async fn post_raw(
    app: &TestApp,
    route: &Route,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut req = app
        .request(Method::POST, route.path, route.token.as_deref())
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.expect("request")
}

/// POSTs a JSON text (not necessarily valid) as `application/json`.
async fn post_text(app: &TestApp, route: &Route, body: &str) -> Response {
    post_raw(app, route, Some("application/json"), body.to_owned()).await
}

/// A valid body for `route`: the cases below each spoil one field of it.
fn valid_body(route: &Route) -> Value {
    match route.path {
        "/users/" => json!({"email": "valid@example.com", "password": PASSWORD}),
        "/posts/" => json!({"title": "t", "content": "c", "published": true}),
        _ => json!({"post_id": 1, "dir": 1}),
    }
}

/// POSTs [`valid_body`] with `field` set to `value`.
async fn post_with(app: &TestApp, route: &Route, field: &str, value: Value) -> Response {
    let mut body = valid_body(route);
    body[field] = value;
    app.post_json(route.path, route.token.as_deref(), &body)
        .await
}

/// Asserts a 422 whose entries all sit under `"body"`.
async fn assert_422_under_body(res: Response, case: &str) -> Value {
    let body = json_of_422(res, case).await;
    for e in body["detail"].as_array().into_iter().flatten() {
        assert_eq!(e["loc"][0], "body", "{case}: {e}");
    }
    body
}

/// Asserts the server is still up and serving.
async fn assert_still_answers(app: &TestApp, after: &str) {
    let res = app.get("/health", None).await;
    assert_eq!(res.status(), StatusCode::OK, "server answers after {after}");
}
