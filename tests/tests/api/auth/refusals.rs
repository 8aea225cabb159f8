//! `POST /login` refusing: wrong credentials (one 403 for every way), incomplete forms, a
//! JSON body, another grant type.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{
    PASSWORD, assert_422, assert_detail, assert_only_missing, has_entry, json_of_422, spawn_app,
};

use super::Form;

#[tokio::test]
async fn login_with_unknown_email_or_wrong_password_is_the_same_403() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let cases = [
        ("unknown email", "nobody@example.com", PASSWORD),
        ("wrong password", user.email.as_str(), "wrong password!"),
        (
            "password with a different case",
            user.email.as_str(),
            "CORRECT HORSE BATTERY",
        ),
        (
            "password with an extra byte",
            user.email.as_str(),
            "correct horse battery!",
        ),
    ];
    let mut answers = Vec::new();
    let mut header_sets = Vec::new();
    for (case, username, password) in cases {
        let res = app.login(username, password).await;
        let status = res.status();
        let mut headers: Vec<(String, String)> = res
            .headers()
            .iter()
            // The date, and the request id that is fresh for every request.
            .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
            .map(|(name, value)| (name.to_string(), format!("{value:?}")))
            .collect();
        headers.sort();
        header_sets.push(headers);
        let text = res.text().await.expect("body");
        assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).ok(),
            Some(json!({"detail": "Invalid Credentials"})),
            "{case}: {text}"
        );
        answers.push(text);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "bodies differ byte for byte: {answers:?}"
    );
    assert!(
        header_sets.windows(2).all(|w| w[0] == w[1]),
        "headers differ: {header_sets:?}"
    );
}

#[tokio::test]
async fn login_does_not_ignore_bytes_past_72() {
    let app = spawn_app().await;
    let password = "p".repeat(72);
    let res = app.register("long@example.com", &password).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // bcrypt reads 72 bytes only: the course let anything starting with them in.
    for extra in ["x", "pppp", "p"] {
        let res = app
            .login("long@example.com", &format!("{password}{extra}"))
            .await;
        assert_detail(res, 403, "Invalid Credentials").await;
    }
    let res = app.login("long@example.com", &password).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_without_username_or_password_is_422_missing() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let email = user.email.as_str();
    let cases: [(&str, Form, &[&str]); 6] = [
        ("no username", vec![("password", PASSWORD)], &["username"]),
        ("no password", vec![("username", email)], &["password"]),
        (
            "empty username",
            vec![("username", ""), ("password", PASSWORD)],
            &["username"],
        ),
        (
            "empty password",
            vec![("username", email), ("password", "")],
            &["password"],
        ),
        ("empty form", vec![], &["username", "password"]),
        (
            "both empty",
            vec![("username", ""), ("password", "")],
            &["username", "password"],
        ),
    ];
    for (case, fields, missing) in cases {
        let res = app.login_form(&fields).await;
        let body = json_of_422(res, case).await;
        assert_only_missing(&body, missing, case);
    }
}

#[tokio::test]
async fn login_with_a_json_body_is_422() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let res = app
        .post_json(
            "/login",
            None,
            &json!({"username": user.email, "password": PASSWORD}),
        )
        .await;
    let body = assert_422(res, json!(["body", "username"]), "missing").await;
    assert!(
        has_entry(&body, &json!(["body", "password"]), Some("missing")),
        "{body}"
    );
    assert!(!body.to_string().contains(PASSWORD), "{body}");
    // A urlencoded body without its Content-Type is no form either.
    let res = app
        .client
        .post(app.url("/login"))
        .body(format!("username={}&password=x", user.email))
        .send()
        .await
        .expect("request");
    assert_422(res, json!(["body", "username"]), "missing").await;
}

#[tokio::test]
async fn login_with_another_grant_type_is_422_at_grant_type() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for grant in ["client_credentials", "authorization_code", "Password"] {
        let res = app
            .login_form(&[
                ("grant_type", grant),
                ("username", &user.email),
                ("password", PASSWORD),
            ])
            .await;
        let body = json_of_422(res, grant).await;
        assert!(
            has_entry(&body, &json!(["body", "grant_type"]), None),
            "{grant}: {body}"
        );
    }
}
