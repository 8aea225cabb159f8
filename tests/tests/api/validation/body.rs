//! The body as a whole: malformed JSON, JSON that is not an object, another content type, no
//! body, deep nesting, duplicate keys, a byte-order mark.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{PASSWORD, assert_422, has_entry, json_of_422, spawn_app};

use super::{assert_422_under_body, assert_still_answers, json_routes, post_raw, post_text};

#[tokio::test]
async fn malformed_json_is_422_json_invalid_under_body() {
    let app = spawn_app().await;
    let cases: [(&str, &[u8]); 8] = [
        ("an unclosed object", b"{"),
        ("a trailing comma", br#"{"email": "a@example.com",}"#),
        ("single quotes", b"{'title': 'x'}"),
        ("a missing comma", br#"{"title": "x" "content": "y"}"#),
        ("a bare word", b"nul"),
        ("an unclosed string", br#"{"title": "x"#),
        ("trailing garbage", br#"{"post_id": 1, "dir": 1} x"#),
        ("invalid UTF-8", b"{\"title\": \"\xff\xfe\"}"),
    ];
    for route in json_routes(&app).await {
        for (case, body) in cases {
            let case = format!("{}: {case}", route.path);
            let res = post_raw(&app, &route, Some("application/json"), body.to_vec()).await;
            let body = assert_422_under_body(res, &case).await;
            assert!(
                body["detail"]
                    .as_array()
                    .is_some_and(|d| d.iter().all(|e| e["type"] == "json_invalid")),
                "{case}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_json_value_that_is_not_an_object_is_422_at_body() {
    let app = spawn_app().await;
    let cases = [
        ("an empty array", "[]"),
        (
            "an array holding the object",
            r#"[{"title": "a", "content": "b"}]"#,
        ),
        ("a string", r#""text""#),
        ("a number", "3"),
        ("a boolean", "true"),
        ("null", "null"),
    ];
    for route in json_routes(&app).await {
        for (case, body) in cases {
            let case = format!("{}: {case}", route.path);
            let res = post_text(&app, &route, body).await;
            let body = json_of_422(res, &case).await;
            assert!(has_entry(&body, &json!(["body"]), None), "{case}: {body}");
        }
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_422_never_400_or_415() {
    let app = spawn_app().await;
    let routes = json_routes(&app).await;
    let bodies = [
        json!({"email": "typed@example.com", "password": PASSWORD}).to_string(),
        json!({"title": "t", "content": "c"}).to_string(),
        json!({"post_id": 1, "dir": 1}).to_string(),
    ];
    let types = [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=xyz",
        "application/octet-stream",
    ];
    for (route, body) in routes.iter().zip(&bodies) {
        for ct in types {
            let case = format!("{} as {ct}", route.path);
            let res = post_raw(&app, route, Some(ct), body.clone()).await;
            assert_422_under_body(res, &case).await;
        }
    }
    // The same bodies as JSON (a charset parameter is fine) do get through.
    let res = post_raw(
        &app,
        &routes[0],
        Some("application/json; charset=utf-8"),
        bodies[0].clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "users as JSON");
    let res = post_raw(
        &app,
        &routes[1],
        Some("Application/JSON"),
        bodies[1].clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "posts as JSON");
}

#[tokio::test]
async fn an_empty_body_is_422_missing_at_body() {
    let app = spawn_app().await;
    for route in json_routes(&app).await {
        for ct in [Some("application/json"), None] {
            let res = post_raw(&app, &route, ct, Vec::new()).await;
            let body = assert_422(res, json!(["body"]), "missing").await;
            assert_eq!(
                body["detail"].as_array().map(Vec::len),
                Some(1),
                "{} with {ct:?}: {body}",
                route.path
            );
        }
    }
}

#[tokio::test]
async fn deeply_nested_json_is_422_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    let depth = 10_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let in_a_field = format!(
        r#"{{"title": "t", "content": "c", "published": {}}}"#,
        "[".repeat(depth) + &"]".repeat(depth)
    );
    for route in json_routes(&app).await {
        for (case, body) in [
            ("arrays", &arrays),
            ("objects", &objects),
            ("inside a field", &in_a_field),
        ] {
            let case = format!("{}: {case}", route.path);
            let res = post_text(&app, &route, body).await;
            assert_422_under_body(res, &case).await;
        }
    }
    assert_still_answers(&app, "deep nesting").await;
    let res = app.register("after.nesting@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn duplicate_keys_are_never_a_server_error() {
    let app = spawn_app().await;
    let [users, posts, vote] = json_routes(&app).await;
    let cases = [
        (
            &users,
            r#"{"email": "dup1@example.com", "email": "dup2@example.com", "password": "correct horse battery"}"#,
        ),
        (
            &posts,
            r#"{"title": "first", "title": "second", "content": "c"}"#,
        ),
        (&posts, r#"{"title": 1, "title": "second", "content": "c"}"#),
        (&vote, r#"{"post_id": 1, "post_id": 2, "dir": 1, "dir": 0}"#),
    ];
    for (route, body) in cases {
        let res = post_text(&app, route, body).await;
        let status = res.status();
        let text = res.text().await.expect("body");
        assert!(
            [201, 404, 422].contains(&status.as_u16()),
            "{} {body}: {status} {text}",
            route.path
        );
        assert!(
            serde_json::from_str::<Value>(&text).is_ok(),
            "JSON answer: {text}"
        );
    }
    assert_still_answers(&app, "duplicate keys").await;
}

#[tokio::test]
async fn a_json_body_with_a_byte_order_mark_is_read() {
    let app = spawn_app().await;
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(
        json!({"email": "bom@example.com", "password": PASSWORD})
            .to_string()
            .as_bytes(),
    );
    let res = app
        .client
        .post(app.url("/users/"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}
