//! `POST /login` succeeding: the OAuth2 password form (urlencoded or multipart, with what
//! the form may hold besides), its token, and passwords hashed by the course.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{
    PASSWORD, assert_422, assert_detail, json_of, keys_in_order, now, spawn_app, spawn_app_with,
};

use super::{Form, jwt_parts, token_of};

/// A bcrypt hash of [`COURSE_PASSWORD`] made by Python's `bcrypt` (what passlib writes), cost 12.
const COURSE_HASH: &str = "$2b$12$vLvyKWZiKbS4lbEBTxC5vOZU3BH.rUkJtsuCCitTJ8z9woExZeU9.";
const COURSE_PASSWORD: &str = "course password 1";

#[tokio::test]
async fn login_with_a_form_returns_a_bearer_token_that_is_not_cached() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let res = app.login(&user.email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let raw = res.text().await.expect("body");
    // The course's two fields first, as its clients read them; the refresh grant's after.
    assert_eq!(
        keys_in_order(&raw),
        ["access_token", "token_type", "refresh_token", "expires_in"],
        "{raw}"
    );
    let body: Value = serde_json::from_str(&raw).expect("JSON");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(
        body["access_token"].as_str().map(|t| t.split('.').count()),
        Some(3),
        "{body}"
    );
}

#[tokio::test]
async fn login_token_opens_users_me() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let token = token_of(app.login(&user.email, PASSWORD).await).await;
    let res = app.get("/users/me", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = json_of(res).await;
    assert_eq!(
        (&me["id"], &me["email"]),
        (&json!(user.id), &json!(user.email))
    );
}

#[tokio::test]
async fn login_token_carries_user_id_and_the_configured_lifetime() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_EXPIRE_MINUTES", "5")]).await;
    let user = app.user("ann").await;
    let before = now();
    let token = token_of(app.login(&user.email, PASSWORD).await).await;
    let after = now();
    let (header, claims) = jwt_parts(&token);
    assert_eq!(header["alg"], "HS256", "{header}");
    assert_eq!(claims["user_id"], json!(user.id), "{claims}");
    let exp = claims["exp"].as_i64().expect("exp is an integer");
    assert!(
        (before + 300..=after + 300).contains(&exp),
        "exp {exp} is not 5 minutes after login ({before}..={after})"
    );
}

#[tokio::test]
async fn login_matches_the_username_case_insensitively() {
    let app = spawn_app().await;
    let res = app.register("Ann@Example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = json_of(res).await["id"].clone();
    let token = token_of(app.login("ANN@example.COM", PASSWORD).await).await;
    let me = json_of(app.get("/users/me", Some(&token)).await).await;
    assert_eq!(me["id"], id);
    assert_eq!(me["email"], "ann@example.com");
}

#[tokio::test]
async fn login_accepts_multipart_form_data() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let boundary = "----rusttestboundary7MA4YWxkTrZu0gW";
    let field = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let body = format!(
        "{}{}--{boundary}--\r\n",
        field("username", &user.email),
        field("password", PASSWORD)
    );
    let send = |body: String| {
        app.client
            .post(app.url("/login"))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    let res = send(body).await.expect("request");
    let token = token_of(res).await;
    let res = app.get("/users/me", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A multipart form without the password is as incomplete as a urlencoded one.
    let body = format!("{}--{boundary}--\r\n", field("username", &user.email));
    let res = send(body).await.expect("request");
    assert_422(res, json!(["body", "password"]), "missing").await;
}

#[tokio::test]
async fn login_accepts_a_form_content_type_with_parameters() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for ct in [
        "application/x-www-form-urlencoded; charset=utf-8",
        "Application/X-WWW-Form-URLEncoded",
    ] {
        let res = app
            .client
            .post(app.url("/login"))
            .header("Content-Type", ct)
            .body(format!(
                "username={}&password={}",
                user.email.replace('@', "%40"),
                PASSWORD.replace(' ', "+")
            ))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{ct}");
    }
}

#[tokio::test]
async fn login_accepts_grant_type_password_and_ignores_scope_and_client_fields() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let email = user.email.as_str();
    let cases: [(&str, Form); 3] = [
        ("grant_type=password", vec![("grant_type", "password")]),
        (
            "scope, client_id, client_secret",
            vec![
                ("scope", "me posts:write"),
                ("client_id", "some-client"),
                ("client_secret", "some-secret"),
            ],
        ),
        (
            "everything the OAuth2 form may hold",
            vec![
                ("grant_type", "password"),
                ("scope", ""),
                ("client_id", ""),
                ("client_secret", ""),
            ],
        ),
    ];
    for (case, extra) in cases {
        let mut fields = vec![("username", email), ("password", PASSWORD)];
        fields.extend(extra);
        let res = app.login_form(&fields).await;
        assert_eq!(res.status(), StatusCode::OK, "{case}");
        assert_eq!(json_of(res).await["token_type"], "bearer", "{case}");
    }
}

#[tokio::test]
async fn a_password_hashed_by_the_course_logs_in() {
    let app = spawn_app().await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO users (email, password, created_at) \
             VALUES ('course@example.com', '{COURSE_HASH}', '2024-01-02 03:04:05.123456+00:00')"
        ))
        .await
        .expect("insert a course user");
    let res = app.login("course@example.com", "wrong password").await;
    assert_detail(res, 403, "Invalid Credentials").await;
    let token = token_of(app.login("Course@Example.com", COURSE_PASSWORD).await).await;
    let res = app.get("/users/me", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me = json_of(res).await;
    assert_eq!(me["email"], "course@example.com");
    assert_eq!(me["created_at"], "2024-01-02T03:04:05.123456+00:00");
}
