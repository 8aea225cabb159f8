//! Step 3d: one idempotency store for both replicas: a `POST /posts/` sent through A and
//! retried through B with the same `Idempotency-Key` gets A's answer, and makes one post.

use reqwest::{Client, StatusCode};
use serde_json::json;
use tests::unique;

use super::replicas::{Replica, column};

pub(super) async fn a_retry_through_the_other_replica_is_replayed(
    http: &Client,
    database_url: &str,
    a: &Replica,
    b: &Replica,
    token: &str,
) {
    let key = unique("retry");
    let title = unique("idempotent post");
    let send = |base: String| {
        http.post(format!("{base}/posts/"))
            .bearer_auth(token)
            .header("Idempotency-Key", key.as_str())
            .json(&json!({"title": title, "content": "sent twice, kept once"}))
            .send()
    };
    let first = send(a.base()).await.expect("through A");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.text().await.expect("body");
    let retry = send(b.base()).await.expect("through B");
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(
        retry
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..]),
        "B replays A's answer"
    );
    assert_eq!(retry.text().await.expect("body"), first);
    let stored = column(
        database_url,
        &format!("SELECT id::text FROM posts WHERE title = '{title}'"),
    )
    .await;
    assert_eq!(stored.len(), 1, "one post for two sends: {stored:?}");
    eprintln!(
        "step 3d: a POST through A retried through B with its Idempotency-Key: replayed, one post"
    );
}
