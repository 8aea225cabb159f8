//! `PUT`, `PATCH` and `DELETE /posts/{id}`: what each changes, and that only the owner may.

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tests::{assert_422, assert_422_at, assert_detail, json_of, keys_in_order, spawn_app};

use super::{FORBIDDEN, POST_KEYS, id_of, ids, list, not_found};

#[tokio::test]
async fn put_replaces_the_whole_post_and_omitted_published_becomes_true() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let post = app.post(&ann, "draft", false).await;
    let id = id_of(&post);

    let res = app
        .replace_post(
            &ann,
            id,
            &json!({"title": "new title", "content": "new content", "id": 99, "owner_id": 99}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.text().await.unwrap();
    assert_eq!(keys_in_order(&raw), POST_KEYS, "{raw}");
    let put: Value = serde_json::from_str(&raw).unwrap();
    let mut want = post.clone();
    want["title"] = json!("new title");
    want["content"] = json!("new content");
    want["published"] = json!(true);
    assert_eq!(put, want, "id, owner and created_at are kept");

    let res = app
        .replace_post(
            &ann,
            id,
            &json!({"title": "again", "content": "c", "published": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["published"], false);

    let got = json_of(app.get_post(&ann, id).await).await;
    assert_eq!(
        (
            &got["Post"]["title"],
            &got["Post"]["content"],
            &got["Post"]["published"]
        ),
        (&json!("again"), &json!("c"), &json!(false))
    );

    let res = app
        .replace_post(&ann, id, &json!({"title": "only title"}))
        .await;
    assert_422(res, json!(["body", "content"]), "missing").await;
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let post = app.post(&ann, "original", true).await;
    let id = id_of(&post);
    let mut want = post.clone();
    let steps = [
        ("empty object", json!({}), json!({})),
        (
            "title only",
            json!({"title": "renamed"}),
            json!({"title": "renamed"}),
        ),
        (
            "published only",
            json!({"published": false}),
            json!({"published": false}),
        ),
        (
            "content only",
            json!({"content": "new body"}),
            json!({"content": "new body"}),
        ),
        (
            "all three",
            json!({"title": "t3", "content": "c3", "published": true}),
            json!({"title": "t3", "content": "c3", "published": true}),
        ),
        (
            "unknown fields only",
            json!({"id": 5, "owner_id": 5, "votes": 3}),
            json!({}),
        ),
    ];
    for (case, body, changes) in steps {
        let res = app.patch_post(&ann, id, &body).await;
        assert_eq!(res.status(), StatusCode::OK, "{case}");
        let raw = res.text().await.unwrap();
        assert_eq!(keys_in_order(&raw), POST_KEYS, "{case}: {raw}");
        for (k, v) in changes.as_object().unwrap() {
            want[k] = v.clone();
        }
        let got: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(got, want, "{case}");
        let read = json_of(app.get_post(&ann, id).await).await;
        assert_eq!(read["Post"], want, "{case}: stored");
    }
    let bad = [
        ("blank title", json!({"title": "  "}), "title"),
        ("long title", json!({"title": "t".repeat(301)}), "title"),
        ("empty content", json!({"content": ""}), "content"),
        (
            "long content",
            json!({"content": "c".repeat(20_001)}),
            "content",
        ),
        (
            "string published",
            json!({"published": "false"}),
            "published",
        ),
    ];
    for (case, body, field) in bad {
        let res = app.patch_post(&ann, id, &body).await;
        assert_422_at(res, json!(["body", field]), case).await;
    }
    let read = json_of(app.get_post(&ann, id).await).await;
    assert_eq!(read["Post"], want, "rejected patches changed nothing");
}

#[tokio::test]
async fn changing_someone_elses_post_is_403_and_their_draft_404() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let public = app.post(&ann, "ann's", true).await;
    let draft = app.post(&ann, "ann's draft", false).await;
    let (public_id, draft_id) = (id_of(&public), id_of(&draft));
    let body = json!({"title": "hijacked", "content": "x"});
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let res = app
            .send_json(
                method.clone(),
                &format!("/posts/{public_id}"),
                Some(&bob.token),
                &body,
            )
            .await;
        assert_detail(res, 403, FORBIDDEN).await;
        let res = app
            .send_json(
                method.clone(),
                &format!("/posts/{draft_id}"),
                Some(&bob.token),
                &body,
            )
            .await;
        assert_detail(res, 404, &not_found(draft_id)).await;
        for (id, label) in [("999", "missing"), ("2147483648", "past i32")] {
            let res = app
                .send_json(
                    method.clone(),
                    &format!("/posts/{id}"),
                    Some(&bob.token),
                    &body,
                )
                .await;
            assert_eq!(res.status(), 404, "{method} {label}");
            assert_eq!(
                json_of(res).await,
                json!({"detail": not_found(id)}),
                "{method} {label}"
            );
        }
    }
    let got = json_of(app.get_post(&ann, public_id).await).await;
    assert_eq!(got["Post"], public, "untouched");
    let got = json_of(app.get_post(&ann, draft_id).await).await;
    assert_eq!(got["Post"], draft, "untouched");
}

#[tokio::test]
async fn delete_returns_204_with_an_empty_body_and_the_post_is_gone() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let keep = id_of(&app.post(&ann, "keep", true).await);
    let gone = id_of(&app.post(&ann, "gone", false).await);
    let res = app.delete_post(&ann, gone).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.text().await.unwrap(), "");
    assert_detail(app.get_post(&ann, gone).await, 404, &not_found(gone)).await;
    let res = app.delete_post(&ann, gone).await;
    assert_detail(res, 404, &not_found(gone)).await;
    let res = app.patch_post(&ann, gone, &json!({})).await;
    assert_detail(res, 404, &not_found(gone)).await;
    assert_eq!(ids(&list(&app, &ann, &[]).await), [keep]);
}

#[tokio::test]
async fn deleting_a_post_deletes_its_votes() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let gone = id_of(&app.post(&ann, "gone", true).await);
    let kept = id_of(&app.post(&ann, "kept", true).await);
    for (voter, post) in [(&ann, gone), (&bob, gone), (&bob, kept)] {
        assert_eq!(app.vote(voter, post, 1).await.status(), StatusCode::CREATED);
    }
    let res = app.delete_post(&ann, gone).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let backend = app.backend();
    let count = |post: i64| {
        let sql = format!("SELECT COUNT(*) AS n FROM votes WHERE post_id = {post}");
        let db = &app.db;
        async move {
            db.query_one_raw(Statement::from_string(backend, sql))
                .await
                .expect("count votes")
                .expect("a row")
                .try_get::<i64>("", "n")
                .expect("n")
        }
    };
    assert_eq!(count(gone).await, 0, "the deleted post's votes are gone");
    assert_eq!(count(kept).await, 1, "other votes stay");
    assert_eq!(json_of(app.get_post(&bob, kept).await).await["votes"], 1);
    assert_detail(app.vote(&bob, gone, 0).await, 404, &not_found(gone)).await;
}
