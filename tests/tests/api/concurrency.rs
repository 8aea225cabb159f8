//! Concurrent requests: the database decides, and every answer is one the contract lists.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{PASSWORD, json_of, spawn_app};
use tokio::task::JoinSet;

const N: usize = 50;

/// Waits for every racing request: exactly one 201, every other one 409.
async fn assert_one_created_rest_conflict(set: JoinSet<Result<StatusCode, reqwest::Error>>) {
    let statuses: Vec<StatusCode> = set
        .join_all()
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let count = |wanted| statuses.iter().filter(|s| **s == wanted).count();
    assert_eq!(
        (count(StatusCode::CREATED), count(StatusCode::CONFLICT)),
        (1, N - 1),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn fifty_identical_votes_at_once_count_once() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let id = app.post(&ann, "popular", true).await["id"]
        .as_i64()
        .unwrap();
    let mut set = JoinSet::new();
    for _ in 0..N {
        let req = app
            .request(Method::POST, "/vote/", Some(&bob.token))
            .json(&json!({"post_id": id, "dir": 1}));
        set.spawn(async move { req.send().await.map(|r| r.status()) });
    }
    assert_one_created_rest_conflict(set).await;
    let post = json_of(app.get_post(&ann, id).await).await;
    assert_eq!(post["votes"], 1);
}

#[tokio::test]
async fn fifty_registrations_of_one_email_at_once_create_one_user() {
    let app = spawn_app().await;
    let mut set = JoinSet::new();
    for n in 0..N {
        // Different spellings of the same address race too.
        let email = if n % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        let req = app
            .request(Method::POST, "/users/", None)
            .json(&json!({"email": email, "password": PASSWORD}));
        set.spawn(async move { req.send().await.map(|r| r.status()) });
    }
    assert_one_created_rest_conflict(set).await;
    assert_eq!(
        app.login("race@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn concurrent_writes_to_one_post_get_only_contract_answers() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = app.post(&ann, "contested", true).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/posts/{id}");
    let mut set = JoinSet::new();
    for n in 0..30 {
        let req = match n % 3 {
            0 => app
                .request(Method::PUT, &path, Some(&ann.token))
                .json(&json!({"title": format!("put {n}"), "content": "c"})),
            1 => app
                .request(Method::PATCH, &path, Some(&ann.token))
                .json(&json!({"published": n % 2 == 0})),
            _ => app.request(Method::DELETE, &path, Some(&ann.token)),
        };
        let method = ["PUT", "PATCH", "DELETE"][n % 3];
        set.spawn(async move { (method, req.send().await.map(|r| r.status())) });
    }
    let mut deletes = 0;
    for (method, status) in set.join_all().await {
        let status = status.unwrap();
        match (method, status.as_u16()) {
            ("PUT" | "PATCH", 200 | 404) => {}
            ("DELETE", 204) => deletes += 1,
            ("DELETE", 404) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(deletes, 1, "exactly one DELETE removes the post");
    let res = app.get(&path, Some(&ann.token)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
