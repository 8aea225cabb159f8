//! Login (OAuth2 password form), bearer tokens and their failures, and `GET /users/{id}`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tests::{
    PASSWORD, SECRET, TestApp, assert_422, assert_detail, assert_only_missing, has_entry, json_of,
    json_of_422, keys_in_order, now, spawn_app, spawn_app_with, token_with,
};

/// A bcrypt hash of [`COURSE_PASSWORD`] made by Python's `bcrypt` (what passlib writes), cost 12.
const COURSE_HASH: &str = "$2b$12$vLvyKWZiKbS4lbEBTxC5vOZU3BH.rUkJtsuCCitTJ8z9woExZeU9.";
const COURSE_PASSWORD: &str = "course password 1";

/// The protected routes the bearer checks are exercised on.
const PROTECTED: [&str; 2] = ["/posts/", "/users/me"];

/// base64url without padding, as JWTs use it.
fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64url_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text}"))
}

/// The header and payload of a JWT, as JSON.
fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    let decode =
        |p: &str| -> Value { serde_json::from_slice(&b64url_decode(p)).expect("JWT part is JSON") };
    (decode(parts[0]), decode(parts[1]))
}

/// A JWT with `header` and `claims` and no signature at all.
fn unsigned_token(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A GET on `path` with this exact `Authorization` header value.
async fn get_with_authorization(app: &TestApp, path: &str, authorization: &str) -> Response {
    app.request(Method::GET, path, None)
        .header("Authorization", authorization)
        .send()
        .await
        .expect("request")
}

/// Asserts a 401 with `{"detail": detail}` and `WWW-Authenticate: Bearer`.
async fn assert_401(res: Response, detail: &str, case: &str) {
    let status = res.status();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    let body = json_of(res).await;
    assert_eq!(
        (status, challenge.as_deref(), &body),
        (
            StatusCode::UNAUTHORIZED,
            Some("Bearer"),
            &json!({"detail": detail})
        ),
        "{case}"
    );
}

/// The fields of a login form, in order.
type Form<'a> = Vec<(&'a str, &'a str)>;

/// The access token of a 200 login answer.
async fn token_of(res: Response) -> String {
    assert_eq!(res.status(), StatusCode::OK, "login");
    json_of(res).await["access_token"]
        .as_str()
        .expect("access_token is a string")
        .to_owned()
}

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
    assert_eq!(keys_in_order(&raw), ["access_token", "token_type"], "{raw}");
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
    let res = app
        .client
        .post(app.url("/login"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("request");
    let token = token_of(res).await;
    let res = app.get("/users/me", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A multipart form without the password is as incomplete as a urlencoded one.
    let body = format!("{}--{boundary}--\r\n", field("username", &user.email));
    let res = app
        .client
        .post(app.url("/login"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("request");
    assert_422(res, json!(["body", "password"]), "missing").await;
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

#[tokio::test]
async fn protected_routes_without_a_bearer_scheme_are_401_not_authenticated() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for path in PROTECTED {
        let res = app.get(path, None).await;
        assert_401(res, "Not authenticated", &format!("{path}: no header")).await;
        let cases = [
            (
                "Basic credentials",
                format!("Basic {}", STANDARD.encode("ann:pw")),
            ),
            (
                "Token scheme with a valid token",
                format!("Token {}", user.token),
            ),
            ("a valid token with no scheme", user.token.clone()),
            ("empty header", String::new()),
        ];
        for (case, authorization) in cases {
            let res = get_with_authorization(&app, path, &authorization).await;
            assert_401(res, "Not authenticated", &format!("{path}: {case}")).await;
        }
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        for path in PROTECTED {
            let res = get_with_authorization(&app, path, &format!("{scheme} {}", user.token)).await;
            assert_eq!(res.status(), StatusCode::OK, "{scheme} on {path}");
        }
    }
}

#[tokio::test]
async fn bad_tokens_are_401_could_not_validate_credentials() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let id = user.id;
    let valid = json!({"user_id": id, "exp": now() + 600});
    let (_, issued_claims) = jwt_parts(&user.token);
    let mut forged_claims = issued_claims.clone();
    forged_claims["user_id"] = json!(id + 1);
    let issued_parts: Vec<&str> = user.token.split('.').collect();
    // The issued parts are canonical base64url without padding, so the tokens crafted below
    // from them differ only where meant.
    for part in &issued_parts {
        assert_eq!(&b64url(&b64url_decode(part)), part);
    }
    let none = unsigned_token(&json!({"alg": "none", "typ": "JWT"}), &valid);
    assert_eq!(
        jwt_parts(&none),
        (json!({"alg": "none", "typ": "JWT"}), valid.clone())
    );
    let cases: Vec<(&str, String)> = vec![
        ("nothing after Bearer", "Bearer".to_owned()),
        ("only a space after Bearer", "Bearer ".to_owned()),
        ("garbage", "Bearer not-a-jwt".to_owned()),
        ("three garbage parts", "Bearer a.b.c".to_owned()),
        (
            "signed with another key",
            format!(
                "Bearer {}",
                token_with(
                    &valid,
                    Algorithm::HS256,
                    "another-key-of-a-decent-length-0123"
                )
            ),
        ),
        (
            "signature of another payload",
            format!(
                "Bearer {}.{}.{}",
                issued_parts[0],
                b64url(forged_claims.to_string().as_bytes()),
                issued_parts[2]
            ),
        ),
        ("alg none, no signature", format!("Bearer {none}")),
        (
            "HS512 with the right key while HS256 is configured",
            format!("Bearer {}", token_with(&valid, Algorithm::HS512, SECRET)),
        ),
        (
            "expired 120 s ago",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": id, "exp": now() - 120}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "no exp",
            format!(
                "Bearer {}",
                token_with(&json!({"user_id": id}), Algorithm::HS256, SECRET)
            ),
        ),
        (
            "exp as a string",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": id, "exp": (now() + 600).to_string()}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "no user_id",
            format!(
                "Bearer {}",
                token_with(&json!({"exp": now() + 600}), Algorithm::HS256, SECRET)
            ),
        ),
        (
            "user_id as a string",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": id.to_string(), "exp": now() + 600}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "user_id as a float",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": id as f64, "exp": now() + 600}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "user_id of nobody",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": id + 1000, "exp": now() + 600}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "user_id 0",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": 0, "exp": now() + 600}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "user_id as a boolean",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": true, "exp": now() + 600}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
        (
            "user_id past 64 bits",
            format!(
                "Bearer {}",
                token_with(
                    &json!({"user_id": u64::MAX, "exp": now() + 600}),
                    Algorithm::HS256,
                    SECRET
                )
            ),
        ),
    ];
    for path in PROTECTED {
        for (case, authorization) in &cases {
            let res = get_with_authorization(&app, path, authorization).await;
            assert_401(
                res,
                "Could not validate credentials",
                &format!("{path}: {case}"),
            )
            .await;
        }
    }
    // The user's own token still works: the failures above are the tokens', not the user's.
    let res = app.me(&user).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_whose_user_was_deleted_is_401() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let res = app.me(&user).await;
    assert_eq!(res.status(), StatusCode::OK, "before deletion");
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!("DELETE FROM users WHERE id = {}", user.id))
        .await
        .expect("delete the user");
    for path in PROTECTED {
        let res = app.get(path, Some(&user.token)).await;
        assert_401(res, "Could not validate credentials", path).await;
    }
}

#[tokio::test]
async fn a_course_style_token_with_only_user_id_and_exp_is_accepted() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let token = token_with(
        &json!({"user_id": user.id, "exp": now() + 600}),
        Algorithm::HS256,
        SECRET,
    );
    let (header, _) = jwt_parts(&token);
    assert_eq!(header, json!({"typ": "JWT", "alg": "HS256"}));
    for path in PROTECTED {
        let res = app.get(path, Some(&token)).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let me = json_of(app.get("/users/me", Some(&token)).await).await;
    assert_eq!(me["email"], json!(user.email));
    // The claims the contract allows besides: `iat`, and `sub` as a string.
    let token = token_with(
        &json!({"user_id": user.id, "exp": now() + 600, "iat": now(), "sub": user.email}),
        Algorithm::HS256,
        SECRET,
    );
    let res = app.get("/users/me", Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK, "with iat and sub");
}

#[tokio::test]
async fn with_hs512_configured_hs512_tokens_work_and_hs256_ones_do_not() {
    let app = spawn_app_with(&[("ALGORITHM", "HS512")]).await;
    let user = app.user("ann").await;
    let (header, _) = jwt_parts(&user.token);
    assert_eq!(
        header["alg"], "HS512",
        "issued tokens use the configured algorithm"
    );
    let claims = json!({"user_id": user.id, "exp": now() + 600});
    let hs512 = token_with(&claims, Algorithm::HS512, SECRET);
    let res = app.get("/users/me", Some(&hs512)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let hs256 = token_with(&claims, Algorithm::HS256, SECRET);
    let res = app.get("/users/me", Some(&hs256)).await;
    assert_401(res, "Could not validate credentials", "HS256 under HS512").await;
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

#[tokio::test]
async fn get_user_requires_a_token() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let res = app.get(&format!("/users/{}", user.id), None).await;
    assert_401(res, "Not authenticated", "no token").await;
    let res = app.get("/users/abc", None).await;
    assert_401(res, "Not authenticated", "no token and a bad id").await;
    let res = get_with_authorization(&app, &format!("/users/{}", user.id), "Bearer nope").await;
    assert_401(res, "Could not validate credentials", "bad token").await;
}

#[tokio::test]
async fn get_user_returns_id_email_created_at_in_order_and_no_password() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    // Any signed-in user may look up another.
    let res = app.get_user(&bob, ann.id).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("body");
    assert_eq!(
        keys_in_order(&text),
        ["id", "email", "created_at"],
        "exactly these fields, in this order: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        (&body["id"], &body["email"]),
        (&json!(ann.id), &json!(ann.email))
    );
    let created_at = body["created_at"].as_str().expect("created_at is a string");
    assert!(
        created_at.ends_with("+00:00")
            && created_at.len() == "2026-11-24T22:58:22.589889+00:00".len(),
        "RFC 3339 with microseconds and +00:00: {created_at}"
    );
    assert!(!text.to_lowercase().contains("password"), "{text}");
    assert!(!text.contains("$2b$"), "{text}");
    // The same user as /users/me says.
    let me = json_of(app.me(&ann).await).await;
    assert_eq!(me, body);
}

#[tokio::test]
async fn get_user_of_an_unknown_id_is_404() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    for id in [user.id + 1, 999_999, i64::from(i32::MAX) + 1, i64::MAX] {
        let res = app.get_user(&user, id).await;
        assert_detail(res, 404, &format!("user with id: {id} was not found")).await;
    }
}

#[tokio::test]
async fn get_user_with_a_non_integer_id_is_422_at_path_id() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let cases = [
        ("letters", "abc"),
        ("a float", "1.5"),
        ("an exponent", "1e3"),
        ("a word", "one"),
    ];
    for (case, id) in cases {
        let res = app.get_user(&user, id).await;
        let body = json_of_422(res, case).await;
        assert!(
            has_entry(&body, &json!(["path", "id"]), None),
            "{case}: {body}"
        );
    }
    let res = app.get_user(&user, "abc").await;
    assert_422(res, json!(["path", "id"]), "int_parsing").await;
}

#[tokio::test]
async fn authentication_is_checked_before_anything_else_about_the_request() {
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let post_id = app.post(&user, "mine", true).await["id"].clone();
    let send = |method: Method, path: &str, authorization: Option<&str>, body: &str| {
        let mut req = app
            .request(method, path, None)
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        req.send()
    };
    let cases = [
        (
            "PUT with no token and no body",
            Method::PUT,
            "/posts/1".to_owned(),
            "",
        ),
        (
            "POST /posts/ with malformed JSON",
            Method::POST,
            "/posts/".to_owned(),
            "{",
        ),
        (
            "POST /vote/ with missing fields",
            Method::POST,
            "/vote/".to_owned(),
            "{}",
        ),
        (
            "PATCH of a missing post",
            Method::PATCH,
            "/posts/999999".to_owned(),
            "{}",
        ),
        (
            "DELETE of a post",
            Method::DELETE,
            format!("/posts/{post_id}"),
            "",
        ),
        (
            "GET with a bad id",
            Method::GET,
            "/posts/abc".to_owned(),
            "",
        ),
        (
            "GET with a bad query",
            Method::GET,
            "/posts/?limit=-1".to_owned(),
            "",
        ),
    ];
    for (case, method, path, body) in &cases {
        let res = send(method.clone(), path, None, body)
            .await
            .expect("request");
        assert_401(res, "Not authenticated", &format!("no token: {case}")).await;
        let res = send(method.clone(), path, Some("Bearer not-a-jwt"), body)
            .await
            .expect("request");
        assert_401(
            res,
            "Could not validate credentials",
            &format!("bad token: {case}"),
        )
        .await;
    }
}
