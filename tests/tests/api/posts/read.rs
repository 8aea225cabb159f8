//! `GET /posts/{id}` and `GET /posts/latest`: the shape, drafts seen by their owner only,
//! unknown and malformed ids.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{assert_detail, json_of, keys_in_order, spawn_app};

use super::{assert_utc_micros, id_of, ids, list, not_found, post_with_votes_keys};

#[tokio::test]
async fn drafts_are_listed_and_readable_only_by_their_owner() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let public = id_of(&app.post(&ann, "public", true).await);
    let draft = id_of(&app.post(&ann, "draft", false).await);
    let bobs_draft = id_of(&app.post(&bob, "bob's draft", false).await);

    assert_eq!(ids(&list(&app, &ann, &[]).await), [draft, public]);
    assert_eq!(ids(&list(&app, &bob, &[]).await), [bobs_draft, public]);

    let res = app.get_post(&ann, draft).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["Post"]["published"], false);
    assert_detail(app.get_post(&bob, draft).await, 404, &not_found(draft)).await;
    assert_detail(
        app.get_post(&ann, bobs_draft).await,
        404,
        &not_found(bobs_draft),
    )
    .await;
    assert_eq!(app.get_post(&bob, public).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn get_post_returns_post_with_votes_in_contract_order() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let post = app.post(&ann, "read me", true).await;
    let res = app.get_post(&bob, id_of(&post)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.text().await.unwrap();
    assert_eq!(keys_in_order(&raw), post_with_votes_keys(), "{raw}");
    let got: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(got, json!({"Post": post, "votes": 0}));
    assert_utc_micros(&got["Post"]["created_at"]);
}

#[tokio::test]
async fn get_post_returns_404_for_ids_that_do_not_exist() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    app.post(&ann, "exists", true).await;
    for id in ["999", "2147483648", "9223372036854775807"] {
        let res = app.get_post(&ann, id).await;
        assert_detail(res, 404, &not_found(id)).await;
    }
}

#[tokio::test]
async fn post_ids_that_are_not_positive_64_bit_integers_are_422() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    app.post(&ann, "exists", true).await;
    let cases = [
        ("abc", "int_parsing"),
        ("1.5", "int_parsing"),
        // A whole number in another spelling: decimal digits only in a path.
        ("1.0", "int_parsing"),
        ("1e3", "int_parsing"),
        ("0", "greater_than"),
        ("-1", "greater_than"),
        ("99999999999999999999", "int_parsing_size"),
        ("9223372036854775808", "int_parsing_size"),
    ];
    let body = json!({"title": "t", "content": "c"});
    for (id, kind) in cases {
        let path = format!("/posts/{id}");
        for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
            let res = app
                .request(method.clone(), &path, Some(&ann.token))
                .json(&body)
                .send()
                .await
                .unwrap();
            let case = format!("{method} {path}");
            let status = res.status();
            let got = json_of(res).await;
            assert_eq!(status, 422, "{case}: {got}");
            let entry = &got["detail"][0];
            assert_eq!(entry["loc"], json!(["path", "id"]), "{case}: {got}");
            // pydantic names these int_parsing (size) or greater_than; either is fine as
            // long as it is a validation error at the path id.
            assert!(entry["type"].is_string(), "{case} ({kind}): {got}");
        }
    }
}

#[tokio::test]
async fn latest_returns_the_newest_visible_post() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    app.post(&ann, "old", true).await;
    let newer = app.post(&bob, "newer", true).await;
    app.post(&ann, "ann's draft", false).await;

    let res = app.latest_post(&bob).await;
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.text().await.unwrap();
    assert_eq!(keys_in_order(&raw), post_with_votes_keys(), "{raw}");
    let got: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        got,
        json!({"Post": newer, "votes": 0}),
        "ann's draft is not bob's"
    );

    let got = json_of(app.latest_post(&ann).await).await;
    assert_eq!(
        got["Post"]["title"], "ann's draft",
        "ann sees her own draft"
    );
}

#[tokio::test]
async fn latest_is_404_when_no_post_is_visible() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let res = app.latest_post(&ann).await;
    assert_detail(res, 404, "post with id: latest was not found").await;
    app.post(&bob, "bob's draft", false).await;
    let res = app.latest_post(&ann).await;
    assert_detail(res, 404, "post with id: latest was not found").await;
}
