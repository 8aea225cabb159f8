//! Email verification: off by default (course clients see no change); when on, the token
//! mailed at registration, `POST /users/verify` and `POST /users/verify/resend`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tests::sea_orm::ConnectionTrait;
use tests::{PASSWORD, assert_detail};

use super::{login_pair, mail_app, register, status_and_body};

const VERIFY: (&str, &str) = ("REQUIRE_EMAIL_VERIFICATION", "true");
const ACCEPTED: &str =
    "if the address is registered and not verified yet, a verification token is on its way";

#[tokio::test]
async fn with_verification_off_registration_mails_nothing_and_its_routes_are_404() {
    let (app, sink) = mail_app(&[]).await;
    register(&app, "ann@example.com").await;
    login_pair(&app, "ann@example.com", PASSWORD).await;
    for res in [
        app.verify_email(&"A".repeat(43)).await,
        app.resend_verification("ann@example.com").await,
        app.post_json("/users/verify", None, &json!([])).await,
    ] {
        assert_detail(res, 404, "email verification is disabled").await;
    }
    sink.assert_none_for("ann@example.com", Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn the_token_mailed_at_registration_verifies_the_address_once() {
    let (app, sink) = mail_app(&[VERIFY]).await;
    register(&app, "ann@example.com").await;
    let res = app.login("ann@example.com", PASSWORD).await;
    assert_detail(res, 403, "email not verified").await;
    let mail = sink.next_for("ann@example.com").await;
    assert_eq!(mail.subject(), "Verify your email address");
    let token = mail.token();
    let res = app.verify_email(&token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    login_pair(&app, "ann@example.com", PASSWORD).await;
    let again = app.verify_email(&token).await;
    assert_detail(again, 400, "invalid or expired token").await;
    // A wrong password is still the same 403 as ever, verified or not.
    let res = app.login("ann@example.com", "wrong password").await;
    assert_detail(res, 403, "Invalid Credentials").await;
}

#[tokio::test]
async fn an_expired_verification_token_is_refused() {
    let (app, sink) = mail_app(&[VERIFY]).await;
    register(&app, "ann@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    let expire = "UPDATE account_tokens SET expires_at = created_at";
    let done = app.db.execute_unprepared(expire).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    let res = app.verify_email(&token).await;
    assert_detail(res, 400, "invalid or expired token").await;
}

#[tokio::test]
async fn a_verification_token_counts_only_for_the_address_it_was_sent_to() {
    let (app, sink) = mail_app(&[VERIFY]).await;
    register(&app, "ann@example.com").await;
    let token = sink.next_for("ann@example.com").await.token();
    // The address changes behind the token's back (the API's own email change revokes the
    // token as well: `change::a_new_address_is_unverified_until_its_own_token_comes_back`).
    let moved = "UPDATE users SET email = 'ann.moved@example.com'";
    app.db.execute_unprepared(moved).await.unwrap();
    let res = app.verify_email(&token).await;
    assert_detail(res, 400, "invalid or expired token").await;
    let res = app.login("ann.moved@example.com", PASSWORD).await;
    assert_detail(res, 403, "email not verified").await;
}

#[tokio::test]
async fn resend_answers_alike_and_mails_only_an_unverified_account() {
    let (app, sink) = mail_app(&[VERIFY]).await;
    register(&app, "ann@example.com").await;
    let first = sink.next_for("ann@example.com").await.token();

    let unverified = status_and_body(app.resend_verification("ANN@example.com").await).await;
    assert_eq!(unverified, (202, json!({"detail": ACCEPTED})));
    let unknown = status_and_body(app.resend_verification("nobody@example.com").await).await;
    assert_eq!(unknown, unverified);
    // The new token replaces the first.
    let second = sink.next_for("ann@example.com").await.token();
    assert_ne!(first, second);
    let res = app.verify_email(&first).await;
    assert_detail(res, 400, "invalid or expired token").await;
    let res = app.verify_email(&second).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Verified: the same answer, and no mail.
    let verified = status_and_body(app.resend_verification("ann@example.com").await).await;
    assert_eq!(verified, unverified);
    sink.assert_none_for("ann@example.com", Duration::from_millis(300))
        .await;
    assert!(
        sink.drain().is_empty(),
        "no mail to an unknown address either"
    );
}

#[tokio::test]
async fn resend_is_throttled_per_address() {
    let (app, _sink) = mail_app(&[VERIFY, ("MAIL_MAX_REQUESTS", "1")]).await;
    let res = app.resend_verification("ann@example.com").await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app.resend_verification("ann@example.com").await;
    assert!(res.headers().get("retry-after").is_some(), "Retry-After");
    assert_detail(res, 429, "too many requests").await;
}
