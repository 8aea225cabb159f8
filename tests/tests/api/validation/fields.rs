//! Each field: missing, of the wrong JSON type, out of range, holding NUL or only white space;
//! and every problem reported at once, path and body together.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{
    PASSWORD, assert_422, assert_only_missing, has_entry, json_of, json_of_422, spawn_app,
};

use super::{Route, assert_still_answers, json_routes, post_with};

#[tokio::test]
async fn each_missing_field_gets_its_own_entry() {
    let app = spawn_app().await;
    let [users, posts, vote] = json_routes(&app).await;
    let cases: [(&Route, Value, &[&str]); 7] = [
        (&users, json!({}), &["email", "password"]),
        (&users, json!({"email": "a@example.com"}), &["password"]),
        (
            &users,
            json!({"password": PASSWORD, "other": 1}),
            &["email"],
        ),
        (&posts, json!({"published": true}), &["title", "content"]),
        (&posts, json!({"title": "only a title"}), &["content"]),
        (&vote, json!({}), &["post_id", "dir"]),
        (&vote, json!({"dir": 1}), &["post_id"]),
    ];
    for (route, body, missing) in cases {
        let case = format!("{} {body}", route.path);
        let res = app
            .post_json(route.path, route.token.as_deref(), &body)
            .await;
        let body = json_of_422(res, &case).await;
        assert_only_missing(&body, missing, &case);
    }
}

#[tokio::test]
async fn wrong_json_types_are_422_with_pydantic_type_names() {
    let app = spawn_app().await;
    let [users, posts, vote] = json_routes(&app).await;
    let cases: [(&Route, &str, Value, &str); 20] = [
        (&users, "email", json!(null), "string_type"),
        (&users, "email", json!(1), "string_type"),
        (&users, "email", json!(["types@example.com"]), "string_type"),
        (&users, "password", json!(null), "string_type"),
        (&users, "password", json!(12_345_678), "string_type"),
        (&users, "password", json!({"p": PASSWORD}), "string_type"),
        (&posts, "title", json!(null), "string_type"),
        (&posts, "title", json!(1), "string_type"),
        (&posts, "title", json!(true), "string_type"),
        (&posts, "content", json!(5), "string_type"),
        (&posts, "content", json!(null), "string_type"),
        (&posts, "published", json!("yes"), "bool_type"),
        (&posts, "published", json!("true"), "bool_type"),
        (&posts, "published", json!(1), "bool_type"),
        (&posts, "published", json!(null), "bool_type"),
        (&vote, "post_id", json!("1"), "int_type"),
        (&vote, "post_id", json!(null), "int_type"),
        (&vote, "post_id", json!([1]), "int_type"),
        (&vote, "dir", json!("1"), "int_type"),
        (&vote, "dir", json!(true), "int_type"),
    ];
    for (route, field, wrong, kind) in cases {
        let case = format!("{} with {field}: {wrong}", route.path);
        let res = post_with(&app, route, field, wrong).await;
        let body = json_of_422(res, &case).await;
        assert!(
            has_entry(&body, &json!(["body", field]), Some(kind)),
            "{case}: no {kind} at {field} in {body}"
        );
        assert_eq!(
            body["detail"].as_array().map(Vec::len),
            Some(1),
            "{case}: only the wrong field is reported: {body}"
        );
    }
    // Every wrong field is reported, not just the first.
    let res = app
        .post_json(
            "/posts/",
            posts.token.as_deref(),
            &json!({"title": 1, "content": false, "published": "no"}),
        )
        .await;
    let body = json_of_422(res, "three wrong fields").await;
    for (field, kind) in [
        ("title", "string_type"),
        ("content", "string_type"),
        ("published", "bool_type"),
    ] {
        assert!(
            has_entry(&body, &json!(["body", field]), Some(kind)),
            "{field}: {body}"
        );
    }
}

#[tokio::test]
async fn out_of_range_values_are_422_at_their_field() {
    let app = spawn_app().await;
    let [_, posts, vote] = json_routes(&app).await;
    let cases: [(&Route, &str, Value); 9] = [
        (&posts, "title", json!("")),
        (&posts, "title", json!(" \t\n ")),
        (&posts, "title", json!("a".repeat(301))),
        (&posts, "content", json!("")),
        (&posts, "content", json!("c".repeat(20_001))),
        (&vote, "dir", json!(2)),
        (&vote, "dir", json!(-1)),
        (&vote, "post_id", json!(1.5)),
        (&vote, "post_id", json!(u64::MAX)),
    ];
    for (route, field, wrong) in cases {
        let shown: String = wrong.to_string().chars().take(40).collect();
        let case = format!("{} with {field}: {shown}", route.path);
        let res = post_with(&app, route, field, wrong).await;
        let body = json_of_422(res, &case).await;
        assert!(
            has_entry(&body, &json!(["body", field]), None),
            "{case}: nothing at {field} in {body}"
        );
    }
    // The limits themselves are fine, and counted in characters.
    let res = app
        .post_json(
            "/posts/",
            posts.token.as_deref(),
            &json!({"title": "é".repeat(300), "content": "ü".repeat(20_000)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "300 / 20,000 characters");
}

#[tokio::test]
async fn a_number_without_a_fractional_part_is_an_integer() {
    // JSON has one number type: JSON Schema (the document's `type: integer`) and pydantic take
    // `3.0` and `3e0` for 3. A fractional part, or a value past 64 bits, is still 422.
    let app = spawn_app().await;
    let user = app.user("numbers").await;
    let id = app.post(&user, "numbers", true).await["id"]
        .as_i64()
        .unwrap();
    let vote = |body: String| {
        app.request(Method::POST, "/vote/", Some(&user.token))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let res = vote(format!(r#"{{"post_id": {id}.0, "dir": 1.0}}"#))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(json_of(res).await["message"], "successfully added vote");
    let res = vote(format!(r#"{{"post_id": {id}e0, "dir": 0e3}}"#))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(json_of(res).await["message"], "successfully deleted vote");
    for (body, field, kind) in [
        (
            format!(r#"{{"post_id": {id}.5, "dir": 1}}"#),
            "post_id",
            "int_from_float",
        ),
        (
            format!(r#"{{"post_id": {id}, "dir": 0.5}}"#),
            "dir",
            "int_from_float",
        ),
        (
            r#"{"post_id": 1e19, "dir": 1}"#.to_owned(),
            "post_id",
            "int_parsing_size",
        ),
        (
            r#"{"post_id": -1e19, "dir": 1}"#.to_owned(),
            "post_id",
            "int_parsing_size",
        ),
    ] {
        let res = vote(body.clone()).await.unwrap();
        let body = json_of_422(res, &body).await;
        assert!(
            has_entry(&body, &json!(["body", field]), Some(kind)),
            "no {kind} at {field}: {body}"
        );
    }
}

#[tokio::test]
async fn whitespace_in_titles_is_unicode_white_space_as_the_document_lists_it() {
    // The document's title `pattern` names the White_Space characters one by one; the server
    // trims exactly those (`char::is_whitespace`).
    let app = spawn_app().await;
    let user = app.user("blank").await;
    for blank in [
        "\u{3000}",
        "\u{85}\u{a0}",
        "\u{2028}\t\u{202f}",
        "\u{1680}\u{200a}",
    ] {
        let res = app
            .post_json(
                "/posts/",
                Some(&user.token),
                &json!({"title": blank, "content": "c"}),
            )
            .await;
        assert_422(res, json!(["body", "title"]), "string_pattern_mismatch").await;
    }
    // Not White_Space: a zero-width space and a byte-order mark are characters like any other.
    for title in ["\u{200b}", "\u{feff}"] {
        let res = app
            .post_json(
                "/posts/",
                Some(&user.token),
                &json!({"title": title, "content": "c"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{title:?}");
    }
}

#[tokio::test]
async fn a_nul_character_in_any_string_is_422_never_500() {
    let app = spawn_app().await;
    let [users, posts, _] = json_routes(&app).await;
    let cases: [(&Route, &str, Value); 6] = [
        (&posts, "title", json!("a\u{0}b")),
        (&posts, "content", json!("c\u{0}")),
        (&users, "email", json!("nul\u{0}@example.com")),
        (&users, "email", json!("nul@example.com\u{0}")),
        (&users, "password", json!("pass\u{0}word-123")),
        (&users, "password", json!("\u{0}".repeat(10))),
    ];
    for (route, field, wrong) in cases {
        let case = format!("{} with {field}: {wrong}", route.path);
        let res = post_with(&app, route, field, wrong).await;
        let body = json_of_422(res, &case).await;
        assert!(
            has_entry(&body, &json!(["body", field]), None),
            "{case}: nothing at {field} in {body}"
        );
    }
    // The login form too.
    for (field, username, password) in [
        ("username", "nul\u{0}@example.com", PASSWORD),
        ("password", "nul@example.com", "pass\u{0}word-123"),
    ] {
        let res = app.login(username, password).await;
        let body = json_of_422(res, field).await;
        assert!(
            has_entry(&body, &json!(["body", field]), None),
            "login {field}: {body}"
        );
    }
    assert_still_answers(&app, "NUL characters").await;
}

#[tokio::test]
async fn a_bad_path_id_and_a_bad_body_are_reported_together() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for method in [reqwest::Method::PUT, reqwest::Method::PATCH] {
        let res = app
            .send_json(
                method.clone(),
                "/posts/abc",
                Some(&user.token),
                &json!({"title": ""}),
            )
            .await;
        let body = json_of_422(res, "bad id and body").await;
        assert!(
            has_entry(&body, &json!(["path", "id"]), Some("int_parsing")),
            "{method}: {body}"
        );
        assert!(
            has_entry(&body, &json!(["body", "title"]), Some("string_too_short")),
            "{method}: {body}"
        );
    }
}
