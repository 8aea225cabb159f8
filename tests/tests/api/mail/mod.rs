//! What hangs on the account's address, with real mail: each test's server sends through
//! SMTP to a [`MailSink`] on loopback, and the test reads the token out of the message.
//! Password recovery, email verification, and the email change (`PATCH /users/me`).

mod change;
mod recovery;
mod verification;

use reqwest::{Response, StatusCode};
use serde_json::Value;
use tests::{MailSink, PASSWORD, TestApp, json_of, spawn_app_with};

/// A server whose mail goes to a sink of its own, with `extra` configuration.
async fn mail_app(extra: &[(&str, &str)]) -> (TestApp, MailSink) {
    let sink = MailSink::start();
    let url = sink.url();
    let mut vars = vec![("SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    (spawn_app_with(&vars).await, sink)
}

/// Logs in with the email and password; the answer's JSON on 200, else panics.
async fn login_pair(app: &TestApp, email: &str, password: &str) -> Value {
    let res = app.login(email, password).await;
    assert_eq!(res.status(), StatusCode::OK, "login {email}");
    json_of(res).await
}

/// The status and, for a JSON answer, the body.
async fn status_and_body(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, json_of(res).await)
}

/// Registers `email` with [`PASSWORD`]; asserts 201.
async fn register(app: &TestApp, email: &str) {
    let res = app.register(email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
}
