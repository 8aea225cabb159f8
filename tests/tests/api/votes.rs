//! Votes: adding and removing, conflicts, visibility, validation, counts, and concurrency.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{
    TestApp, TestUser, assert_401, assert_422, assert_422_at, assert_detail, json_of, spawn_app,
};

fn id_of(post: &Value) -> i64 {
    post["id"].as_i64().expect("post id")
}

fn not_found(id: impl std::fmt::Display) -> String {
    format!("post with id: {id} was not found")
}

/// The vote count of post `id` as `user` sees it, from the post and from the list.
async fn votes_on(app: &TestApp, user: &TestUser, id: i64) -> i64 {
    let res = app.get_post(user, id).await;
    assert_eq!(res.status(), StatusCode::OK, "GET /posts/{id}");
    let one = json_of(res).await["votes"].as_i64().expect("votes");
    let res = app.list_posts(user, &[("limit", "100")]).await;
    let listed = json_of(res)
        .await
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["Post"]["id"] == id)
        .map(|i| i["votes"].as_i64().expect("votes"));
    assert_eq!(listed, Some(one), "the list agrees with the post");
    one
}

async fn assert_message(res: reqwest::Response, message: &str) {
    let status = res.status();
    let body = json_of(res).await;
    assert_eq!(
        (status, body),
        (StatusCode::CREATED, json!({"message": message})),
        "{message}"
    );
}

#[tokio::test]
async fn voting_adds_conflicts_removes_and_then_the_vote_does_not_exist() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let id = id_of(&app.post(&ann, "vote on me", true).await);

    assert_message(app.vote(&bob, id, 1).await, "successfully added vote").await;
    assert_eq!(votes_on(&app, &ann, id).await, 1);
    let conflict = format!("user {} has already voted on post {id}", bob.id);
    assert_detail(app.vote(&bob, id, 1).await, 409, &conflict).await;
    assert_eq!(votes_on(&app, &ann, id).await, 1);

    assert_message(app.vote(&bob, id, 0).await, "successfully deleted vote").await;
    assert_eq!(votes_on(&app, &ann, id).await, 0);
    assert_detail(app.vote(&bob, id, 0).await, 404, "vote does not exist").await;

    assert_message(app.vote(&bob, id, 1).await, "successfully added vote").await;
    assert_eq!(
        votes_on(&app, &bob, id).await,
        1,
        "a removed vote can be cast again"
    );
}

#[tokio::test]
async fn votes_are_counted_per_user_and_per_post() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let cat = app.user("cat").await;
    let first = id_of(&app.post(&ann, "first", true).await);
    let second = id_of(&app.post(&ann, "second", true).await);
    for voter in [&ann, &bob, &cat] {
        assert_message(app.vote(voter, first, 1).await, "successfully added vote").await;
    }
    assert_message(app.vote(&bob, second, 1).await, "successfully added vote").await;
    assert_eq!(
        votes_on(&app, &cat, first).await,
        3,
        "the owner may vote too"
    );
    assert_eq!(votes_on(&app, &cat, second).await, 1);
    let conflict = format!("user {} has already voted on post {second}", bob.id);
    assert_detail(app.vote(&bob, second, 1).await, 409, &conflict).await;
    assert_detail(app.vote(&cat, second, 0).await, 404, "vote does not exist").await;
    assert_message(app.vote(&ann, first, 0).await, "successfully deleted vote").await;
    assert_eq!(votes_on(&app, &bob, first).await, 2, "only ann's vote went");
    assert_eq!(votes_on(&app, &bob, second).await, 1);
}

#[tokio::test]
async fn voting_on_a_missing_post_is_404_before_anything_else() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = id_of(&app.post(&ann, "exists", true).await);
    assert_message(app.vote(&ann, id, 1).await, "successfully added vote").await;
    for missing in [999, 0, -1, i64::from(i32::MAX) + 1, i64::MAX, i64::MIN] {
        for dir in [1, 0] {
            assert_detail(app.vote(&ann, missing, dir).await, 404, &not_found(missing)).await;
        }
    }
    let res = app.delete_post(&ann, id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // ann's vote went with the post: the missing post is reported, not the vote.
    for dir in [1, 0] {
        assert_detail(app.vote(&ann, id, dir).await, 404, &not_found(id)).await;
    }
}

#[tokio::test]
async fn voting_on_someone_elses_draft_is_404_and_on_your_own_works() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let draft = id_of(&app.post(&ann, "ann's draft", false).await);
    for dir in [1, 0] {
        assert_detail(app.vote(&bob, draft, dir).await, 404, &not_found(draft)).await;
    }
    assert_message(app.vote(&ann, draft, 1).await, "successfully added vote").await;
    assert_eq!(votes_on(&app, &ann, draft).await, 1);

    // Once published it can be voted on; once a draft again, bob's vote cannot be touched.
    let res = app
        .patch_post(&ann, draft, &json!({"published": true}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_message(app.vote(&bob, draft, 1).await, "successfully added vote").await;
    let res = app
        .patch_post(&ann, draft, &json!({"published": false}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for dir in [1, 0] {
        assert_detail(app.vote(&bob, draft, dir).await, 404, &not_found(draft)).await;
    }
    assert_eq!(votes_on(&app, &ann, draft).await, 2);
}

#[tokio::test]
async fn vote_body_is_validated_before_the_post_is_looked_up() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = id_of(&app.post(&ann, "exists", true).await);
    let cases = [
        ("dir 2", json!({"post_id": id, "dir": 2}), "dir", None),
        ("dir -1", json!({"post_id": id, "dir": -1}), "dir", None),
        (
            "dir as a string",
            json!({"post_id": id, "dir": "1"}),
            "dir",
            Some("int_type"),
        ),
        (
            "dir as a bool",
            json!({"post_id": id, "dir": true}),
            "dir",
            Some("int_type"),
        ),
        (
            "dir as a float",
            json!({"post_id": id, "dir": 1.5}),
            "dir",
            None,
        ),
        (
            "dir null",
            json!({"post_id": id, "dir": null}),
            "dir",
            Some("int_type"),
        ),
        (
            "dir missing",
            json!({"post_id": id}),
            "dir",
            Some("missing"),
        ),
        (
            "post_id missing",
            json!({"dir": 1}),
            "post_id",
            Some("missing"),
        ),
        (
            "post_id as a string",
            json!({"post_id": id.to_string(), "dir": 1}),
            "post_id",
            Some("int_type"),
        ),
        (
            "post_id as a float",
            json!({"post_id": 1.5, "dir": 1}),
            "post_id",
            None,
        ),
        (
            "dir 2 on a missing post",
            json!({"post_id": 999, "dir": 2}),
            "dir",
            None,
        ),
    ];
    for (case, body, field, kind) in cases {
        let res = app.post_json("/vote/", Some(&ann.token), &body).await;
        let loc = json!(["body", field]);
        match kind {
            Some(kind) => {
                assert_422(res, loc, kind).await;
            }
            None => assert_422_at(res, loc, case).await,
        }
    }
    let res = app
        .request(Method::POST, "/vote/", Some(&ann.token))
        .header("Content-Type", "application/json")
        .body(r#"{"post_id": 99999999999999999999, "dir": 1}"#)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let got = json_of(res).await;
    assert_eq!(status, 422, "post_id past 64 bits: {got}");
    assert_eq!(got["detail"][0]["loc"], json!(["body", "post_id"]), "{got}");

    let res = app.post_json("/vote/", Some(&ann.token), &json!({})).await;
    let body = assert_422(res, json!(["body", "post_id"]), "missing").await;
    assert!(
        body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["loc"] == json!(["body", "dir"]) && e["type"] == "missing"),
        "one entry per problem: {body}"
    );
    assert_eq!(
        votes_on(&app, &ann, id).await,
        0,
        "no invalid request voted"
    );
}

#[tokio::test]
async fn voting_without_a_token_is_401_before_validation() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = id_of(&app.post(&ann, "exists", true).await);
    for body in [
        json!({"post_id": id, "dir": 1}),
        json!({"dir": 7}),
        json!([]),
    ] {
        let res = app.post_json("/vote/", None, &body).await;
        assert_401(res, "Not authenticated", &body.to_string()).await;
    }
    assert_eq!(votes_on(&app, &ann, id).await, 0);
}

/// Sends `n` identical votes at once; returns the statuses.
async fn vote_concurrently(
    app: &TestApp,
    user: &TestUser,
    post: i64,
    dir: i64,
    n: usize,
) -> Vec<u16> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let request = app
                .request(Method::POST, "/vote/", Some(&user.token))
                .json(&json!({"post_id": post, "dir": dir}));
            tokio::spawn(async move {
                let res = request.send().await.expect("request");
                let status = res.status().as_u16();
                let body = json_of(res).await;
                (status, body)
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        let (status, body) = handle.await.expect("task");
        assert!(
            matches!(status, 201 | 404 | 409),
            "only 201/404/409 under concurrency, got {status} {body}"
        );
        statuses.push(status);
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_votes_count_once() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let id = id_of(&app.post(&ann, "popular", true).await);

    let statuses = vote_concurrently(&app, &bob, id, 1, 20).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let conflicts = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
    assert_eq!(votes_on(&app, &ann, id).await, 1);

    let statuses = vote_concurrently(&app, &bob, id, 0, 20).await;
    let deleted = statuses.iter().filter(|s| **s == 201).count();
    let missing = statuses.iter().filter(|s| **s == 404).count();
    assert_eq!((deleted, missing), (1, 19), "{statuses:?}");
    assert_eq!(votes_on(&app, &ann, id).await, 0);
}
