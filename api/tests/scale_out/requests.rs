//! HTTP: the client, and the requests the steps send to a replica or through nginx.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::PASSWORD;

pub(super) fn client() -> Client {
    builder().build().expect("HTTP client")
}

/// A client that opens a connection of its own for every request, as many independent users
/// do: no request waits on a connection that nginx is closing as it reloads.
pub(super) fn fresh_connections() -> Client {
    builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client")
}

fn builder() -> reqwest::ClientBuilder {
    Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
}

pub(super) async fn register(client: &Client, base: &str, email: &str) -> i64 {
    let r = client
        .post(format!("{base}/users/"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("register");
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "register {email} at {base}"
    );
    let body: Value = r.json().await.expect("JSON");
    body["id"].as_i64().expect("id")
}

pub(super) async fn login(client: &Client, base: &str, email: &str) -> String {
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK, "login {email} at {base}");
    let body: Value = r.json().await.expect("JSON");
    body["access_token"].as_str().expect("token").to_owned()
}

pub(super) fn post_body(title: &str) -> Value {
    json!({"title": title, "content": format!("{title}: content"), "published": true})
}

/// POST /posts/: the new post's id.
pub(super) async fn create_post(client: &Client, base: &str, token: &str, title: &str) -> i64 {
    let r = client
        .post(format!("{base}/posts/"))
        .bearer_auth(token)
        .json(&post_body(title))
        .send()
        .await
        .expect("create post");
    assert_eq!(r.status(), StatusCode::CREATED, "create post at {base}");
    let body: Value = r.json().await.expect("JSON");
    body["id"].as_i64().expect("id")
}

pub(super) async fn vote(
    client: &Client,
    base: &str,
    token: &str,
    post: i64,
    dir: u8,
) -> StatusCode {
    client
        .post(format!("{base}/vote/"))
        .bearer_auth(token)
        .json(&json!({"post_id": post, "dir": dir}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("vote at {base}: {e}"))
        .status()
}

pub(super) async fn votes_on(client: &Client, base: &str, token: &str, post: i64) -> i64 {
    let r = client
        .get(format!("{base}/posts/{post}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get post");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("JSON");
    body["votes"].as_i64().expect("votes")
}
