//! Bearer tokens on the protected routes: the scheme, every malformed, forged or stale token,
//! the claims the course's tokens carry, and authentication before anything else.

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{SECRET, json_of, now, spawn_app, spawn_app_with, token_with};

use super::{
    PROTECTED, assert_401, b64url, b64url_decode, get_with_authorization, jwt_parts, unsigned_token,
};

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
    // Signed with the right key and algorithm: only the claims are wrong.
    let signed =
        |claims: Value| format!("Bearer {}", token_with(&claims, Algorithm::HS256, SECRET));
    let exp = now() + 600;
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
            signed(json!({"user_id": id, "exp": now() - 120})),
        ),
        ("no exp", signed(json!({"user_id": id}))),
        (
            "exp as a string",
            signed(json!({"user_id": id, "exp": exp.to_string()})),
        ),
        ("no user_id", signed(json!({"exp": exp}))),
        (
            "user_id as a string",
            signed(json!({"user_id": id.to_string(), "exp": exp})),
        ),
        (
            "user_id as a float",
            signed(json!({"user_id": id as f64, "exp": exp})),
        ),
        (
            "user_id of nobody",
            signed(json!({"user_id": id + 1000, "exp": exp})),
        ),
        ("user_id 0", signed(json!({"user_id": 0, "exp": exp}))),
        (
            "user_id as a boolean",
            signed(json!({"user_id": true, "exp": exp})),
        ),
        (
            "user_id past 64 bits",
            signed(json!({"user_id": u64::MAX, "exp": exp})),
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
