//! One round trip per request: the routes whose work is one statement (reading a post, a
//! page of the list, creating, changing or deleting a post, voting) check the caller's session inside that
//! statement, so a request with a session's token sends the database one statement, counted
//! by `api_db_statements_total` on `/metrics`. Only an empty answer asks who the caller is,
//! which keeps a caller who may no longer act at 401, before 422, 404 and 403.

use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{SECRET, TestApp, TestUser, now, spawn_app, token_with};

use crate::operations::sample;

/// The statements the server has run so far.
async fn statements(app: &TestApp) -> f64 {
    let text = app.get("/metrics", None).await.text().await.unwrap();
    sample(&text, "api_db_statements_total", &[]).expect("api_db_statements_total")
}

/// The status of the request `send` makes, and how many statements it cost.
async fn counted<F: Future<Output = reqwest::Response>>(app: &TestApp, send: F) -> (u16, f64) {
    let before = statements(app).await;
    let status = send.await.status().as_u16();
    (status, statements(app).await - before)
}

#[tokio::test]
async fn a_session_token_request_whose_work_is_one_statement_sends_one() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let post = app.post(&bob, "Zulu time", true).await["id"]
        .as_i64()
        .unwrap();
    let one = (200, 1.0);
    assert_eq!(
        counted(&app, app.get_post(&ann, post)).await,
        one,
        "GET /posts/{{id}}"
    );
    let page = app.list_posts(&ann, &[("limit", "5")]);
    assert_eq!(counted(&app, page).await, one, "GET /posts/");
    let search = app.list_posts(&ann, &[("search", "zulu")]);
    assert_eq!(counted(&app, search).await, one, "GET /posts/?search=");
    let body = json!({"title": "t", "content": "c"});
    let create = app.create_post(&ann, &body);
    assert_eq!(counted(&app, create).await, (201, 1.0), "POST /posts/");
    let up = app.vote(&ann, post, 1);
    assert_eq!(counted(&app, up).await, (201, 1.0), "POST /vote/ up");
    let down = app.vote(&ann, post, 0);
    assert_eq!(counted(&app, down).await, (201, 1.0), "POST /vote/ down");
    let own = app.post(&ann, "ann's", true).await["id"].as_i64().unwrap();
    let body = json!({"title": "t2", "content": "c2"});
    let replace = app.replace_post(&ann, own, &body);
    assert_eq!(counted(&app, replace).await, one, "PUT /posts/{{id}}");
    let body = json!({"published": false});
    let patch = app.patch_post(&ann, own, &body);
    assert_eq!(counted(&app, patch).await, one, "PATCH /posts/{{id}}");
    let delete = app.delete_post(&ann, own);
    assert_eq!(
        counted(&app, delete).await,
        (204, 1.0),
        "DELETE /posts/{{id}}"
    );
}

/// What the one statement cannot tell apart costs a second: a post that is not there (is the
/// caller still a caller?), and a token minted the course's way, whose revocation time is
/// compared after its user is read.
#[tokio::test]
async fn a_miss_or_a_course_style_token_costs_a_second_statement() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let post = app.post(&ann, "mine", true).await["id"].as_i64().unwrap();
    assert_eq!(counted(&app, app.get_post(&ann, 9999)).await, (404, 2.0));
    assert_eq!(counted(&app, app.vote(&ann, 9999, 1)).await, (404, 2.0));
    let course = TestUser {
        token: token_with(
            &json!({"user_id": ann.id, "exp": now() + 600}),
            Algorithm::HS256,
            SECRET,
        ),
        ..ann.clone()
    };
    assert_eq!(counted(&app, app.get_post(&course, post)).await, (200, 2.0));
}

/// A session ended (logout) or a user deleted: every one of these routes is 401, also when
/// its path, body or `Idempotency-Key` would be refused (401 before 422), and for a post that
/// is not there (401 before 404).
#[tokio::test]
async fn an_ended_session_or_a_deleted_user_is_401_before_anything_else() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let cid = app.user("cid").await;
    let post = app.post(&ann, "ann's", true).await["id"].as_i64().unwrap();
    let res = app
        .request(Method::POST, "/logout", Some(&ann.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .request(Method::DELETE, "/users/me", Some(&cid.token))
        .json(&json!({"password": tests::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for gone in [&ann, &cid] {
        let token = Some(gone.token.as_str());
        let requests = [
            app.request(Method::GET, &format!("/posts/{post}"), token),
            app.request(Method::GET, "/posts/9999", token),
            app.request(Method::GET, "/posts/abc", token),
            app.request(Method::GET, "/posts/", token),
            app.request(Method::GET, "/posts/?limit=-1", token),
            app.request(Method::POST, "/posts/", token)
                .json(&json!({"title": "t", "content": "c"})),
            app.request(Method::POST, "/posts/", token)
                .json(&json!({"title": 1})),
            app.request(Method::POST, "/posts/", token)
                .header("idempotency-key", "")
                .json(&json!({"title": "t", "content": "c"})),
            app.request(Method::POST, "/vote/", token)
                .json(&json!({"post_id": post, "dir": 1})),
            app.request(Method::POST, "/vote/", token)
                .json(&json!({"post_id": 9999, "dir": 0})),
            app.request(Method::POST, "/vote/", token)
                .json(&json!({"post_id": post, "dir": 7})),
        ];
        for request in requests {
            let request = request.build().unwrap();
            let what = format!("{} {}", request.method(), request.url());
            let res = app.client.execute(request).await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{what} for {}",
                gone.email
            );
        }
    }
}
