//! Registration's email and password rules, and the password never echoed in any answer.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;
use tests::{PASSWORD, assert_422, assert_detail, has_entry, json_of, json_of_422, spawn_app};

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
