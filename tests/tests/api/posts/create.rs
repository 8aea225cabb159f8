//! `POST /posts/`: the answer's shape and order, defaults, fields the client may not set,
//! and the limits on title and content.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{assert_422, assert_422_at, json_of, keys_in_order, spawn_app};

use super::{POST_KEYS, assert_utc_micros, id_of, list};

#[tokio::test]
async fn create_post_returns_201_with_the_post_in_contract_order() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let res = app
        .create_post(
            &ann,
            &json!({"title": "Hello", "content": "First post", "published": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let raw = res.text().await.unwrap();
    assert_eq!(keys_in_order(&raw), POST_KEYS, "{raw}");
    let post: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(post["title"], "Hello");
    assert_eq!(post["content"], "First post");
    assert_eq!(post["published"], false);
    assert!(id_of(&post) >= 1);
    assert_eq!(post["owner_id"], ann.id);
    assert_utc_micros(&post["created_at"]);
    let created = chrono::DateTime::parse_from_rfc3339(post["created_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let age = chrono::Utc::now() - created;
    assert!(
        age.num_seconds().abs() < 120,
        "created_at is now-ish: {created}"
    );
    let me = json_of(app.me(&ann).await).await;
    assert_eq!(post["owner"], me, "owner is the caller as a User");
    assert_utc_micros(&post["owner"]["created_at"]);
}

#[tokio::test]
async fn create_post_defaults_published_to_true() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let res = app
        .create_post(&ann, &json!({"title": "t", "content": "c"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(json_of(res).await["published"], true);
}

#[tokio::test]
async fn create_post_ignores_id_owner_created_at_and_votes_from_the_body() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let res = app
        .create_post(
            &ann,
            &json!({
                "title": "mine", "content": "c", "published": true,
                "id": 4242, "owner_id": bob.id, "created_at": "2000-01-01T00:00:00+00:00",
                "votes": 7, "owner": {"id": bob.id, "email": bob.email},
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let post = json_of(res).await;
    assert_ne!(post["id"], 4242);
    assert_eq!(post["owner_id"], ann.id);
    assert_eq!(post["owner"]["id"], ann.id);
    assert_eq!(post["owner"]["email"], ann.email.as_str());
    assert!(!post["created_at"].as_str().unwrap().starts_with("2000"));
    let res = app.get_post(&ann, id_of(&post)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let got = json_of(res).await;
    assert_eq!(got["votes"], 0);
    assert_eq!(got["Post"], post);
    assert_eq!(app.get_post(&ann, 4242).await.status(), 404);
}

#[tokio::test]
async fn create_post_enforces_title_and_content_limits() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    // Limits count characters, not bytes: "é" is two bytes.
    let ok = [
        ("title of 300 ascii", "t".repeat(300), "c".to_owned()),
        (
            "title of 300 two-byte characters",
            "é".repeat(300),
            "c".to_owned(),
        ),
        ("title of 1 character", "t".to_owned(), "c".to_owned()),
        ("content of 20000", "t".to_owned(), "c".repeat(20_000)),
        ("title padded by spaces", "  t  ".to_owned(), "c".to_owned()),
    ];
    for (case, title, content) in ok {
        let res = app
            .create_post(&ann, &json!({"title": title, "content": content}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{case}");
        let post = json_of(res).await;
        assert_eq!(post["title"], title.as_str(), "{case}: stored as sent");
        assert_eq!(post["content"], content.as_str(), "{case}: stored as sent");
    }
    let bad = [
        (
            "title of 301",
            json!({"title": "t".repeat(301), "content": "c"}),
            "title",
            Some("string_too_long"),
        ),
        (
            "title of 301 two-byte",
            json!({"title": "é".repeat(301), "content": "c"}),
            "title",
            Some("string_too_long"),
        ),
        (
            "empty title",
            json!({"title": "", "content": "c"}),
            "title",
            Some("string_too_short"),
        ),
        (
            "blank title",
            json!({"title": "   ", "content": "c"}),
            "title",
            None,
        ),
        (
            "tabs and newlines title",
            json!({"title": "\t\n ", "content": "c"}),
            "title",
            None,
        ),
        (
            "missing title",
            json!({"content": "c"}),
            "title",
            Some("missing"),
        ),
        (
            "numeric title",
            json!({"title": 5, "content": "c"}),
            "title",
            Some("string_type"),
        ),
        (
            "content of 20001",
            json!({"title": "t", "content": "c".repeat(20_001)}),
            "content",
            Some("string_too_long"),
        ),
        (
            "empty content",
            json!({"title": "t", "content": ""}),
            "content",
            Some("string_too_short"),
        ),
        (
            "missing content",
            json!({"title": "t"}),
            "content",
            Some("missing"),
        ),
        (
            "string published",
            json!({"title": "t", "content": "c", "published": "yes"}),
            "published",
            Some("bool_type"),
        ),
    ];
    for (case, body, field, kind) in bad {
        let res = app.create_post(&ann, &body).await;
        match kind {
            Some(kind) => {
                assert_422(res, json!(["body", field]), kind).await;
            }
            None => assert_422_at(res, json!(["body", field]), case).await,
        }
    }
    assert!(
        list(&app, &ann, &[("limit", "100")]).await.len() == 5,
        "only the valid posts were created"
    );
}
