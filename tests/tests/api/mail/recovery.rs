//! `POST /password-recovery` and `POST /reset-password`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tests::sea_orm::ConnectionTrait;
use tests::{PASSWORD, SECRET, assert_401, assert_detail, json_of, now, token_with};

use super::{login_pair, mail_app, register, status_and_body};

const NEW_PASSWORD: &str = "a brand new password";
const ACCEPTED: &str = "if the address is registered, a reset token is on its way";

#[tokio::test]
async fn recovery_answers_a_known_and_an_unknown_address_alike() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    let known = app.password_recovery("ann@example.com").await;
    let unknown = app.password_recovery("nobody@example.com").await;
    let headers = |res: &reqwest::Response| {
        let mut h: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id"))
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        h.sort();
        h
    };
    assert_eq!(headers(&known), headers(&unknown));
    let known = status_and_body(known).await;
    assert_eq!(known, (202, json!({"detail": ACCEPTED})));
    assert_eq!(status_and_body(unknown).await, known);
    // Only the registered address gets mail, and the mail says what it is for.
    let mail = sink.next_for("ann@example.com").await;
    assert_eq!(mail.subject(), "Reset your password");
    assert!(mail.data.contains("POST /reset-password"), "{}", mail.data);
    mail.token();
    sink.assert_none_for("nobody@example.com", Duration::from_millis(300))
        .await;
    assert!(sink.drain().is_empty());
}

#[tokio::test]
async fn recovery_takes_about_as_long_for_a_known_and_an_unknown_address() {
    // An SMTP server that takes connections and never answers them: an answer that waited for
    // the mail to a known address would take until lettre gives up (a minute).
    let tarpit = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{}", tarpit.local_addr().unwrap().port());
    // The throttle on, as in production (its counts are part of every answer's time), with
    // room for the 21 requests to one address and the 42 from this client.
    let app = tests::spawn_app_with(&[
        ("SMTP_URL", &smtp_url),
        ("MAIL_MAX_REQUESTS", "100"),
        ("MAIL_MAX_REQUESTS_PER_CLIENT", "100"),
    ])
    .await;
    register(&app, "ann@example.com").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // Interleaved, so drift in the machine's load hits both alike.
    for n in 0..21 {
        let started = Instant::now();
        let res = app.password_recovery("ann@example.com").await;
        known.push(started.elapsed());
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let started = Instant::now();
        let res = app
            .password_recovery(&format!("nobody{n}@example.com"))
            .await;
        unknown.push(started.elapsed());
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[10].as_secs_f64(), unknown[10].as_secs_f64());
    // Both answers take well under a millisecond when the machine is idle, where a busy
    // machine's noise alone can double one median: a difference under 2 ms is as alike as
    // two such answers can be measured to be.
    assert!(
        (k / u > 0.5 && k / u < 2.0) || (k - u).abs() < 0.002,
        "medians: known {k:.5}s, unknown {u:.5}s"
    );
    drop(tarpit);
}

#[tokio::test]
async fn a_reset_token_sets_the_new_password_once() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    app.password_recovery("ANN@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    let res = app.reset_password(&token, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.text().await.unwrap(), "");
    let again = app.reset_password(&token, "yet another password").await;
    assert_detail(again, 400, "invalid or expired token").await;
    login_pair(&app, "ann@example.com", NEW_PASSWORD).await;
    let old = app.login("ann@example.com", PASSWORD).await;
    assert_detail(old, 403, "Invalid Credentials").await;
}

#[tokio::test]
async fn a_password_change_cancels_a_pending_reset() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    app.password_recovery("ann@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    // The owner, still logged in, changes the password: the reset link in the mailbox (which
    // someone else may read) must not undo that.
    let pair = login_pair(&app, "ann@example.com", PASSWORD).await;
    let access = pair["access_token"].as_str().unwrap();
    let change = json!({"current_password": PASSWORD, "new_password": "changed by the owner"});
    let res = app
        .request(reqwest::Method::PUT, "/users/me/password", Some(access))
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.reset_password(&token, NEW_PASSWORD).await;
    assert_detail(res, 400, "invalid or expired token").await;
    login_pair(&app, "ann@example.com", "changed by the owner").await;
}

#[tokio::test]
async fn an_expired_reset_token_is_refused() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    app.password_recovery("ann@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    // Its lifetime ends as it starts: it expired the moment it was issued.
    let expire = "UPDATE account_tokens SET expires_at = created_at";
    let done = app.db.execute_unprepared(expire).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    let res = app.reset_password(&token, NEW_PASSWORD).await;
    assert_detail(res, 400, "invalid or expired token").await;
    login_pair(&app, "ann@example.com", PASSWORD).await;
}

#[tokio::test]
async fn a_new_request_retires_the_previous_token() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    app.password_recovery("ann@example.com").await;
    let first = sink.next_for("ann@example.com").await.token();
    app.password_recovery("ann@example.com").await;
    let second = sink.next_for("ann@example.com").await.token();
    assert_ne!(first, second);
    let res = app.reset_password(&first, NEW_PASSWORD).await;
    assert_detail(res, 400, "invalid or expired token").await;
    let res = app.reset_password(&second, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_reset_ends_every_session_and_refuses_every_earlier_token() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    let pair = login_pair(&app, "ann@example.com", PASSWORD).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let id = json_of(app.get("/users/me", Some(&access)).await).await["id"].clone();
    // A token minted the course's way (no session), issued a few seconds ago.
    let course = token_with(
        &json!({"user_id": id, "exp": now() + 3600 - 5}),
        jsonwebtoken::Algorithm::HS256,
        SECRET,
    );
    assert_eq!(
        app.get("/users/me", Some(&course)).await.status(),
        StatusCode::OK
    );

    app.password_recovery("ann@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    let res = app.reset_password(&token, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    for (what, old) in [
        ("the session's access token", &access),
        ("the course token", &course),
    ] {
        let res = app.get("/users/me", Some(old)).await;
        assert_401(res, "Could not validate credentials", what).await;
    }
    let res = app
        .login_form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the old refresh token"
    );
    assert_eq!(json_of(res).await["error"], "invalid_grant");
    let fresh = login_pair(&app, "ann@example.com", NEW_PASSWORD).await;
    let res = app.get("/users/me", fresh["access_token"].as_str()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_new_password_the_registration_would_refuse_is_422_and_spends_no_token() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    app.password_recovery("ann@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    for (password, kind) in [
        ("short", "string_too_short"),
        (&*"x".repeat(73), "string_too_long"),
    ] {
        let res = app.reset_password(&token, password).await;
        tests::assert_422(res, json!(["body", "new_password"]), kind).await;
    }
    let res = app.reset_password(&token, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn recovery_requests_are_throttled_per_address_and_per_client() {
    let (app, sink) = mail_app(&[
        ("MAIL_MAX_REQUESTS", "2"),
        ("MAIL_MAX_REQUESTS_PER_CLIENT", "4"),
    ])
    .await;
    register(&app, "ann@example.com").await;
    for _ in 0..2 {
        let res = app.password_recovery("ann@example.com").await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    // The address has had its two, known or not, in any case.
    let res = app.password_recovery("Ann@Example.com").await;
    assert!(res.headers().get("retry-after").is_some(), "Retry-After");
    assert_detail(res, 429, "too many requests").await;
    assert_eq!(
        sink.next_for("ann@example.com").await.subject(),
        "Reset your password"
    );
    assert_eq!(
        sink.next_for("ann@example.com").await.subject(),
        "Reset your password"
    );
    // Another address may ask, until this client has asked four times in all.
    for n in 0..2 {
        let res = app
            .password_recovery(&format!("other{n}@example.com"))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let res = app.password_recovery("third@example.com").await;
    assert_detail(res, 429, "too many requests").await;
}

#[tokio::test]
async fn refused_reset_tokens_are_throttled_per_client() {
    let (app, _sink) = mail_app(&[("LOGIN_MAX_FAILURES_PER_CLIENT", "2")]).await;
    for _ in 0..2 {
        let res = app.reset_password(&"A".repeat(43), NEW_PASSWORD).await;
        assert_detail(res, 400, "invalid or expired token").await;
    }
    let res = app.reset_password(&"B".repeat(43), NEW_PASSWORD).await;
    assert!(res.headers().get("retry-after").is_some(), "Retry-After");
    assert_detail(res, 429, "too many requests").await;
}

#[tokio::test]
async fn with_recovery_off_both_routes_are_404_whatever_the_body() {
    let (app, sink) = mail_app(&[("PASSWORD_RECOVERY", "false")]).await;
    register(&app, "ann@example.com").await;
    for (path, body) in [
        ("/password-recovery", json!({"email": "ann@example.com"})),
        ("/password-recovery", json!({"email": 7})),
        (
            "/reset-password",
            json!({"token": "t", "new_password": NEW_PASSWORD}),
        ),
        ("/reset-password", json!({})),
    ] {
        let res = app.post_json(path, None, &body).await;
        assert_detail(res, 404, "password recovery is disabled").await;
    }
    sink.assert_none_for("ann@example.com", Duration::from_millis(300))
        .await;
}
