//! The 64 KiB body limit (413), announced by `Content-Length` or not (chunked).

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tests::{PASSWORD, TestApp, assert_detail, spawn_app};

use super::{assert_still_answers, json_routes, post_text};

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
