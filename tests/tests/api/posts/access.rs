//! Every posts route needs a bearer token, and the checks run in the order 401, 422, 404,
//! 403.

use reqwest::Method;
use serde_json::json;
use tests::{assert_401, assert_422_at, assert_detail, json_of, spawn_app};

use super::{FORBIDDEN, id_of, not_found};

#[tokio::test]
async fn checks_run_in_order_401_422_404_403() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let anns = id_of(&app.post(&ann, "ann's", true).await);
    let valid = json!({"title": "t", "content": "c"});
    let invalid = json!({"title": "", "content": 5});

    for method in [Method::PUT, Method::PATCH] {
        // 401 beats everything, even a missing body on a bad id.
        for path in ["/posts/1", "/posts/abc", "/posts/999"] {
            let res = app
                .request(method.clone(), path, None)
                .send()
                .await
                .unwrap();
            assert_401(res, "Not authenticated", &format!("{method} {path}")).await;
        }
        let res = app
            .send_json(method.clone(), &format!("/posts/{anns}"), None, &valid)
            .await;
        assert_detail(res, 401, "Not authenticated").await;

        // 422 beats 404 and 403.
        let res = app
            .send_json(method.clone(), "/posts/999", Some(&bob.token), &invalid)
            .await;
        assert_422_at(res, json!(["body", "content"]), "bad body, missing post").await;
        let res = app
            .send_json(
                method.clone(),
                &format!("/posts/{anns}"),
                Some(&bob.token),
                &invalid,
            )
            .await;
        assert_422_at(res, json!(["body", "content"]), "bad body, other's post").await;
        let res = app
            .request(method.clone(), "/posts/999", Some(&bob.token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{method}: no body on a missing post");
        let res = app
            .send_json(method.clone(), "/posts/abc", Some(&bob.token), &valid)
            .await;
        assert_422_at(res, json!(["path", "id"]), "bad id, valid body").await;

        // 404 beats 403; 403 last.
        let res = app
            .send_json(method.clone(), "/posts/999", Some(&bob.token), &valid)
            .await;
        assert_detail(res, 404, &not_found(999)).await;
        let res = app
            .send_json(
                method.clone(),
                &format!("/posts/{anns}"),
                Some(&bob.token),
                &valid,
            )
            .await;
        assert_detail(res, 403, FORBIDDEN).await;
    }

    let res = app
        .request(Method::DELETE, "/posts/abc", None)
        .send()
        .await
        .unwrap();
    assert_detail(res, 401, "Not authenticated").await;
    let res = app.delete_post(&bob, "abc").await;
    assert_422_at(res, json!(["path", "id"]), "DELETE bad id").await;
    let res = app.delete_post(&bob, 999).await;
    assert_detail(res, 404, &not_found(999)).await;

    let res = app
        .request(Method::GET, "/posts/", None)
        .query(&[("limit", "-1")])
        .send()
        .await
        .unwrap();
    assert_detail(res, 401, "Not authenticated").await;
}

#[tokio::test]
async fn every_posts_route_needs_a_bearer_token() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = id_of(&app.post(&ann, "exists", true).await);
    let post_path = format!("/posts/{id}");
    let routes = [
        (Method::GET, "/posts/"),
        (Method::GET, "/posts"),
        (Method::GET, "/posts/latest"),
        (Method::POST, "/posts/"),
        (Method::GET, post_path.as_str()),
        (Method::PUT, post_path.as_str()),
        (Method::PATCH, post_path.as_str()),
        (Method::DELETE, post_path.as_str()),
        (Method::POST, "/vote/"),
    ];
    let body = json!({"title": "t", "content": "c", "post_id": id, "dir": 1});
    for (method, path) in routes {
        let case = format!("{method} {path}");
        let res = app
            .request(method.clone(), path, None)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_401(res, "Not authenticated", &case).await;

        let res = app
            .request(method.clone(), path, None)
            .header("Authorization", format!("Basic {}", ann.token))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_401(res, "Not authenticated", &format!("{case} basic")).await;

        let res = app
            .request(method.clone(), path, Some("not.a.jwt"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_401(
            res,
            "Could not validate credentials",
            &format!("{case} bad token"),
        )
        .await;
    }
    let got = json_of(app.get_post(&ann, id).await).await;
    assert_eq!(
        (&got["Post"]["title"], &got["votes"]),
        (&json!("exists"), &json!(0))
    );
}
