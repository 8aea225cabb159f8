//! Root, health, readiness, routing (404, 405, both slash spellings) and CORS.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::sea_orm::{ConnectionTrait, DbBackend};
use tests::{PASSWORD, assert_detail, json_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn root_says_hello_world() {
    let app = spawn_app().await;
    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(json_of(res).await, json!({"message": "Hello World"}));
}

#[tokio::test]
async fn health_and_ready_answer_ok_without_a_token() {
    let app = spawn_app().await;
    for path in ["/health", "/ready", "/health/", "/ready/"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(json_of(res).await, json!({"status": "ok"}), "{path}");
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = spawn_app().await;
    for path in ["/nope", "/posts/1/extra", "/users/1/2", "/votes/"] {
        let res = app.get(path, None).await;
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_detail(res, 404, "Not Found").await;
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405_with_allow() {
    let app = spawn_app().await;
    let cases = [
        (Method::DELETE, "/posts/", "GET, POST"),
        (Method::PUT, "/posts", "GET, POST"),
        (Method::POST, "/posts/1", "GET, PUT, DELETE, PATCH"),
        (Method::GET, "/login", "POST"),
        (Method::GET, "/vote/", "POST"),
        (Method::DELETE, "/", "GET"),
        (Method::POST, "/health", "GET"),
        (Method::PUT, "/users/me", "GET, DELETE, PATCH"),
        (Method::GET, "/password-recovery", "POST"),
        // A concrete path, not a user's `{id}`.
        (Method::GET, "/users/verify", "POST"),
        (Method::GET, "/users/verify/resend/", "POST"),
        // A concrete path is not an `{id}` (OpenAPI matches it first): not a 422 for "latest".
        (Method::PUT, "/posts/latest", "GET"),
        (Method::PATCH, "/posts/latest/", "GET"),
        (Method::DELETE, "/posts/latest", "GET"),
        (Method::POST, "/posts/latest", "GET"),
    ];
    for (method, path, allow) in cases {
        let res = app
            .request(method.clone(), path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some(allow.to_owned()),
            "{method} {path}"
        );
        assert_detail(res, 405, "Method Not Allowed").await;
    }
}

#[tokio::test]
async fn both_slash_spellings_answer_the_same() {
    let app = spawn_app().await;
    let user = app.user("slash").await;
    let post = app.post(&user, "slashes", true).await;
    let id = post["id"].as_i64().unwrap();
    for (a, b) in [
        ("/posts/".to_owned(), "/posts".to_owned()),
        (format!("/posts/{id}"), format!("/posts/{id}/")),
        ("/users/me".to_owned(), "/users/me/".to_owned()),
        ("/posts/latest".to_owned(), "/posts/latest/".to_owned()),
    ] {
        let ra = app.get(&a, Some(&user.token)).await;
        let rb = app.get(&b, Some(&user.token)).await;
        assert_eq!(ra.status(), StatusCode::OK, "{a}");
        assert_eq!(rb.status(), StatusCode::OK, "{b}");
        assert_eq!(json_of(ra).await, json_of(rb).await, "{a} vs {b}");
    }
    let res = app
        .client
        .post(app.url("/login/"))
        .form(&[("username", user.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.vote(&user, id, 1).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .request(Method::POST, "/vote", Some(&user.token))
        .json(&json!({"post_id": id, "dir": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn cors_allows_any_origin_by_default_and_answers_preflight() {
    let app = spawn_app().await;
    let res = app
        .request(Method::OPTIONS, "/posts/", None)
        .header("Origin", "https://client.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(
        res.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let res = app
        .request(Method::GET, "/", None)
        .header("Origin", "https://client.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn cors_lets_scripts_send_the_conditional_headers_and_read_the_new_ones() {
    let app = spawn_app().await;
    let sent = "authorization, if-match, if-none-match, prefer, idempotency-key";
    let res = app
        .request(Method::OPTIONS, "/posts/1", None)
        .header("Origin", "https://client.example")
        .header("Access-Control-Request-Method", "PATCH")
        .header("Access-Control-Request-Headers", sent)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in sent.split(", ") {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
    let ann = app.user("ann").await;
    let res = app
        .request(Method::GET, "/posts/", Some(&ann.token))
        .header("Origin", "https://client.example")
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["etag", "link", "x-total-count", "retry-after"] {
        assert!(exposed.contains(header), "{header} not in {exposed}");
    }
}

#[tokio::test]
async fn cors_origins_limit_who_is_allowed() {
    let app = spawn_app_with(&[("CORS_ORIGINS", "https://good.example")]).await;
    let res = app
        .request(Method::GET, "/", None)
        .header("Origin", "https://good.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://good.example"
    );
    let res = app
        .request(Method::GET, "/", None)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// `/ready` follows whether the database can be written. On SQLite: the file deleted under the
/// running server (its connections would go on writing to a file no one will read). On
/// PostgreSQL: the database made read-only (`default_transaction_read_only`, as on a standby),
/// its connections reopened.
#[tokio::test]
async fn ready_is_503_once_the_database_cannot_be_written() {
    let app = spawn_app().await;
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
    match app.backend() {
        DbBackend::Sqlite => {
            let path = app
                .database_url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            std::fs::remove_file(&path).unwrap();
        }
        _ => {
            for sql in [
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            ] {
                app.db.execute_unprepared(sql).await.unwrap();
            }
        }
    }
    // The first answers after the connections were cut may be 503 for that alone: what
    // counts is that it stays 503, with the contract's body, while the process is fine.
    for _ in 0..3 {
        let res = app.get("/ready", None).await;
        assert_eq!(res.headers()["retry-after"], "1");
        assert_detail(res, 503, "database unavailable").await;
    }
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}
