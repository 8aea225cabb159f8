//! The 422 body for every way input can be wrong, and the body size limit (413).

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tests::{
    PASSWORD, TestApp, assert_422, assert_detail, assert_only_missing, has_entry, json_of,
    json_of_422, spawn_app,
};

/// One JSON route and the token it needs.
struct Route {
    path: &'static str,
    token: Option<String>,
}

/// `POST /users/`, `POST /posts/` and `POST /vote/`, with a signed-in user for the last two.
async fn json_routes(app: &TestApp) -> [Route; 3] {
    let user = app.user("caller").await;
    [
        Route {
            path: "/users/",
            token: None,
        },
        Route {
            path: "/posts/",
            token: Some(user.token.clone()),
        },
        Route {
            path: "/vote/",
            token: Some(user.token),
        },
    ]
}

/// POSTs raw bytes to `route` with this `Content-Type` (none if `None`).
async fn post_raw(
    app: &TestApp,
    route: &Route,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut req = app
        .request(Method::POST, route.path, route.token.as_deref())
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.expect("request")
}

/// POSTs a JSON text (not necessarily valid) as `application/json`.
async fn post_text(app: &TestApp, route: &Route, body: &str) -> Response {
    post_raw(app, route, Some("application/json"), body.to_owned()).await
}

/// A valid body for `route`: the cases below each spoil one field of it.
fn valid_body(route: &Route) -> Value {
    match route.path {
        "/users/" => json!({"email": "valid@example.com", "password": PASSWORD}),
        "/posts/" => json!({"title": "t", "content": "c", "published": true}),
        _ => json!({"post_id": 1, "dir": 1}),
    }
}

/// POSTs [`valid_body`] with `field` set to `value`.
async fn post_with(app: &TestApp, route: &Route, field: &str, value: Value) -> Response {
    let mut body = valid_body(route);
    body[field] = value;
    app.post_json(route.path, route.token.as_deref(), &body)
        .await
}

/// Asserts a 422 whose entries all sit under `"body"`.
async fn assert_422_under_body(res: Response, case: &str) -> Value {
    let body = json_of_422(res, case).await;
    for e in body["detail"].as_array().into_iter().flatten() {
        assert_eq!(e["loc"][0], "body", "{case}: {e}");
    }
    body
}

/// Asserts the server is still up and serving.
async fn assert_still_answers(app: &TestApp, after: &str) {
    let res = app.get("/health", None).await;
    assert_eq!(res.status(), StatusCode::OK, "server answers after {after}");
}

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
async fn an_invalid_email_is_422_at_body_email() {
    let app = spawn_app().await;
    let too_long = format!("{}@example.com", "a".repeat(250));
    let cases = [
        ("empty", ""),
        ("blank", "   "),
        ("no at sign", "plainaddress"),
        ("no domain", "ann@"),
        ("no local part", "@example.com"),
        ("two at signs", "ann@@example.com"),
        ("a space inside", "ann smith@example.com"),
        ("longer than 254", too_long.as_str()),
        ("a leading dot", ".ann@example.com"),
        ("two dots in a row", "ann..smith@example.com"),
        ("an undotted domain", "ann@localhost"),
        ("an address literal", "ann@[127.0.0.1]"),
        ("a numeric top-level domain", "ann@1.2.3.4"),
    ];
    for (case, email) in cases {
        let res = app.register(email, PASSWORD).await;
        let body = json_of_422(res, case).await;
        assert!(
            has_entry(&body, &json!(["body", "email"]), None),
            "{case}: {body}"
        );
        assert_eq!(
            body["detail"].as_array().map(Vec::len),
            Some(1),
            "{case}: {body}"
        );
    }
    let res = app
        .register("ann.smith+posts@mail.example.org", PASSWORD)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "a valid address with + and subdomains"
    );
    let res = app.register("ünï@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "an internationalised local part"
    );
}

#[tokio::test]
async fn passwords_must_be_8_to_72_bytes() {
    let app = spawn_app().await;
    let cases: [(&str, String, Option<&str>); 8] = [
        ("7 bytes", "a".repeat(7), Some("string_too_short")),
        ("empty", String::new(), Some("string_too_short")),
        ("8 bytes", "a".repeat(8), None),
        ("72 bytes", "b".repeat(72), None),
        ("73 bytes", "c".repeat(73), Some("string_too_long")),
        ("36 two-byte characters (72 bytes)", "é".repeat(36), None),
        (
            "37 two-byte characters (74 bytes)",
            "é".repeat(37),
            Some("string_too_long"),
        ),
        ("4 two-byte characters (8 bytes)", "éééé".to_owned(), None),
    ];
    for (n, (case, password, refused)) in cases.into_iter().enumerate() {
        let email = format!("pw{n}@example.com");
        let res = app.register(&email, &password).await;
        match refused {
            Some(kind) => {
                assert_422(res, json!(["body", "password"]), kind).await;
            }
            None => {
                assert_eq!(res.status(), StatusCode::CREATED, "{case}");
                let res = app.login(&email, &password).await;
                assert_eq!(res.status(), StatusCode::OK, "{case}: logs in");
            }
        }
    }
}

#[tokio::test]
async fn registration_normalises_the_email_and_refuses_a_case_variant() {
    let app = spawn_app().await;
    let res = app.register("  Mixed.Case@Example.COM \t", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(json_of(res).await["email"], "mixed.case@example.com");
    for again in [
        "mixed.case@example.com",
        "MIXED.CASE@EXAMPLE.COM",
        " mixed.case@Example.com",
    ] {
        let res = app.register(again, "another password").await;
        assert_detail(res, 409, "email already registered").await;
    }
    let res = app.login("mixed.case@example.com", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the first password still holds"
    );
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

/// A valid post body padded with trailing whitespace to exactly `len` bytes.
fn json_of_length(len: usize) -> String {
    let frame = r#"{"title": "t", "content": "c"}"#;
    format!("{frame}{}", " ".repeat(len - frame.len()))
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let routes = json_routes(&app).await;
    let over = json_of_length(64 * 1024 + 1);
    for route in &routes {
        let res = post_text(&app, route, &over).await;
        assert_detail(res, 413, "payload too large").await;
    }
    let form = format!(
        "username=a%40example.com&password={}",
        "p".repeat(64 * 1024)
    );
    let res = app
        .client
        .post(app.url("/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("request");
    assert_detail(res, 413, "payload too large").await;
    // Exactly 64 KiB is allowed.
    let res = post_text(&app, &routes[1], &json_of_length(64 * 1024)).await;
    assert_eq!(res.status(), StatusCode::CREATED, "a 64 KiB body");
    assert_still_answers(&app, "413").await;
}

/// Sends `body` to `path` chunked (no `Content-Length`) over a raw connection; returns the
/// status code and the whole response text. Raw, because the framing is the point: reqwest
/// chooses it itself, and sends a body it has whole with a `Content-Length`.
async fn post_chunked(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n"
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    for chunk in body.chunks(4096) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // std's blocking socket on the blocking pool: timeouts guard against a hang, no more.
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        stream.set_write_timeout(Some(Duration::from_secs(30))).ok();
        // The server may answer and stop reading before the end: a failed write is fine.
        let _ = stream.write_all(&request);
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
        response
    })
    .await
    .expect("raw request");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

#[tokio::test]
async fn a_chunked_body_over_64_kib_without_content_length_is_413() {
    let app = spawn_app().await;
    let routes = json_routes(&app).await;
    // The raw client works: a small chunked body gets through.
    let small = json!({"email": "chunked@example.com", "password": PASSWORD}).to_string();
    let (status, text) = post_chunked(
        &app,
        "/users/",
        None,
        "application/json",
        small.into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let over = json_of_length(64 * 1024 + 1).into_bytes();
    for route in &routes {
        let (status, text) = post_chunked(
            &app,
            route.path,
            route.token.as_deref(),
            "application/json",
            over.clone(),
        )
        .await;
        assert_eq!(status, 413, "{}: {text}", route.path);
        assert!(
            text.contains(r#"{"detail":"payload too large"}"#),
            "{}: {text}",
            route.path
        );
    }
    assert_still_answers(&app, "a chunked 413").await;
}

#[tokio::test]
async fn a_chunked_multipart_login_over_64_kib_is_413_however_small_its_fields() {
    let app = spawn_app().await;
    app.user("ann").await;
    // Thousands of empty parts: the fields hold nothing, the framing is over the limit.
    let mut body = Vec::new();
    for _ in 0..2_000 {
        body.extend_from_slice(b"--BB\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n\r\n");
    }
    body.extend_from_slice(
        b"--BB\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nann@example.com\r\n\
          --BB\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\ncorrect horse battery\r\n\
          --BB--\r\n",
    );
    assert!(body.len() > 64 * 1024);
    let ct = "multipart/form-data; boundary=BB";
    let (status, text) = post_chunked(&app, "/login", None, ct, body).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains(r#"{"detail":"payload too large"}"#), "{text}");
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

#[tokio::test]
async fn no_response_ever_contains_the_submitted_password() {
    let app = spawn_app().await;
    let secret = "Zebra-Umbrella-Marker-4711";
    let user = app.user("victim").await;
    let long = secret.repeat(4);
    let with_nul = format!("{secret}\u{0}");
    let mut responses: Vec<(String, Response)> = Vec::new();
    for (case, body) in [
        (
            "invalid email",
            json!({"email": "nope", "password": secret}),
        ),
        (
            "password too long",
            json!({"email": "x@example.com", "password": long}),
        ),
        (
            "password with NUL",
            json!({"email": "x@example.com", "password": with_nul}),
        ),
        (
            "password as email",
            json!({"email": secret, "password": secret}),
        ),
        (
            "extra field",
            json!({"email": 5, "password": secret, "other": secret}),
        ),
        (
            "taken email",
            json!({"email": user.email, "password": secret}),
        ),
        (
            "registered",
            json!({"email": "ok@example.com", "password": secret}),
        ),
    ] {
        responses.push((case.to_owned(), app.post_json("/users/", None, &body).await));
    }
    let raw = [
        (
            "truncated JSON",
            format!(r#"{{"email": "x@example.com", "password": "{secret}""#),
        ),
        (
            "a bad escape",
            format!(r#"{{"email": "x@example.com", "password": "{secret}\q"}}"#),
        ),
        (
            "too large",
            format!(r#"{{"password": "{secret}"}}{}"#, " ".repeat(70_000)),
        ),
    ];
    for (case, body) in raw {
        let res = app
            .request(Method::POST, "/users/", None)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        responses.push((case.to_owned(), res));
    }
    let forms: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "login, wrong password",
            vec![("username", &user.email), ("password", secret)],
        ),
        (
            "login, unknown user",
            vec![("username", secret), ("password", secret)],
        ),
        (
            "login, bad grant_type",
            vec![
                ("username", &user.email),
                ("password", secret),
                ("grant_type", secret),
            ],
        ),
        ("login, no username", vec![("password", secret)]),
    ];
    for (case, fields) in forms {
        let res = app.login_form(&fields).await;
        responses.push((case.to_owned(), res));
    }
    let res = app
        .post_json(
            "/login",
            None,
            &json!({"username": user.email, "password": secret}),
        )
        .await;
    responses.push(("login as JSON".to_owned(), res));
    for (case, res) in responses {
        let status = res.status();
        let headers = format!("{:?}", res.headers());
        let text = res.text().await.expect("body");
        assert!(!status.is_server_error(), "{case}: {status} {text}");
        assert!(
            !text.contains(secret),
            "{case}: body echoes the password: {text}"
        );
        assert!(
            !headers.contains(secret),
            "{case}: headers echo the password"
        );
    }
}
