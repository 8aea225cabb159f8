//! Requests that break HTTP/1.1 itself, sent over raw sockets: a malformed head (400), a head
//! too large (431) or too slow (408), which actix-http's dispatcher answers before any route
//! exists (through the patch in `api/vendor/actix-http`), and a malformed chunked body, which
//! the route reading it answers (400). Every one gets exactly one answer, with the contract's
//! JSON `{"detail": ...}`, and the connection is closed after it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tests::{PASSWORD, TestApp, spawn_app};

/// One response read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// Names lower-cased, as actix-http writes them.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The contract's error answer: `status`, `Content-Type: application/json`,
    /// `X-Content-Type-Options: nosniff` and the body `{"detail": detail}`; for the answers to a
    /// broken request (400, 408, 431), also `Connection: close`, since the server closes the
    /// connection after them.
    fn assert_error(&self, status: u16, detail: &str, case: &str) {
        assert_eq!(self.status, status, "{case}: {self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{case}: {self:?}"
        );
        assert_eq!(
            self.header("x-content-type-options"),
            Some("nosniff"),
            "{case}: {self:?}"
        );
        assert_eq!(self.body, json!({ "detail": detail }), "{case}: {self:?}");
        if matches!(status, 400 | 408 | 431) {
            assert_eq!(self.header("connection"), Some("close"), "{case}: {self:?}");
        }
    }
}

/// What came back on one connection: the answers in order, and whether the server closed it.
struct Exchange {
    answers: Vec<Answer>,
    closed: bool,
}

/// Sends `raw` on a connection of its own and reads until the server closes it or `within`
/// passes. A write refused because the server already answered and closed (a head over the
/// limit) is not a failure: the answer is read all the same.
async fn exchange(app: &TestApp, raw: &[u8], within: Duration) -> Exchange {
    let host = app.address.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).await.unwrap();
    let _ = s.write_all(raw).await;
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(within, async {
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    Exchange {
        answers: parse_answers(&bytes),
        closed,
    }
}

/// The responses in `bytes`, each framed by its `Content-Length`; panics on anything else
/// (a truncated answer, a body that is not JSON, bytes after the last answer).
fn parse_answers(mut bytes: &[u8]) -> Vec<Answer> {
    let mut answers = Vec::new();
    while !bytes.is_empty() {
        let text = String::from_utf8_lossy(bytes);
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("an incomplete head: {text:?}"));
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| panic!("no Content-Length: {head:?}"));
        let rest = &bytes[end + 4..];
        assert!(rest.len() >= length, "a truncated body: {text:?}");
        let body = serde_json::from_slice(&rest[..length])
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
        answers.push(Answer {
            status,
            headers,
            body,
        });
        bytes = &rest[length..];
    }
    answers
}

/// Sends `raw` on `connections` connections, one after the other, and checks that each gets
/// exactly the answers `expect` lists (status and `detail`, or status alone for a success)
/// and is then closed.
async fn assert_answered(
    app: &TestApp,
    case: &str,
    raw: impl Fn(usize) -> Vec<u8>,
    connections: usize,
    expect: &[(u16, Option<&str>)],
) {
    for n in 0..connections {
        let case = format!("{case} #{n}");
        let got = exchange(app, &raw(n), Duration::from_secs(10)).await;
        let statuses: Vec<u16> = got.answers.iter().map(|a| a.status).collect();
        let wanted: Vec<u16> = expect.iter().map(|(s, _)| *s).collect();
        assert_eq!(statuses, wanted, "{case}: {:?}", got.answers);
        for (answer, (status, detail)) in got.answers.iter().zip(expect) {
            match detail {
                Some(detail) => answer.assert_error(*status, detail, &case),
                None => assert_eq!(
                    answer.header("content-type"),
                    Some("application/json"),
                    "{case}: {answer:?}"
                ),
            }
        }
        assert!(got.closed, "{case}: the connection was left open");
    }
}

#[tokio::test]
async fn malformed_and_oversized_request_heads_are_answered_with_json() {
    let app = spawn_app().await;
    let over_128_kib = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let over_96_headers = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..100)
            .map(|n| format!("X-H{n}: v\r\n"))
            .collect::<String>()
    );
    let malformed = "malformed request";
    let too_large = "request headers too large";
    let cases: [(&str, Vec<u8>, u16, &str); 7] = [
        (
            "not HTTP at all",
            b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
            400,
            malformed,
        ),
        (
            "a header without a colon",
            b"GET /health HTTP/1.1\r\nHost x\r\n\r\n".to_vec(),
            400,
            malformed,
        ),
        (
            "an unknown HTTP version",
            b"GET /health HTTP/7.0\r\nHost: x\r\n\r\n".to_vec(),
            400,
            malformed,
        ),
        (
            "a Content-Length that is not a number",
            b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n".to_vec(),
            400,
            malformed,
        ),
        (
            "a control byte in a header value",
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n".to_vec(),
            400,
            malformed,
        ),
        (
            "a head over 128 KiB",
            over_128_kib.into_bytes(),
            431,
            too_large,
        ),
        (
            "over 96 headers",
            over_96_headers.into_bytes(),
            431,
            too_large,
        ),
    ];
    for (case, raw, status, detail) in cases {
        assert_answered(&app, case, |_| raw.clone(), 5, &[(status, Some(detail))]).await;
    }
    // A malformed head after a good request on the same connection: the first is answered as
    // usual, the second with the dispatcher's JSON.
    assert_answered(
        &app,
        "a malformed head behind a good request",
        |_| b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP AT ALL\r\n\r\n".to_vec(),
        5,
        &[(200, None), (400, Some(malformed))],
    )
    .await;
    // The server is none the worse.
    let res = app.get("/health", None).await;
    assert_eq!(res.status().as_u16(), 200);
}

/// actix-web's `client_request_timeout`: a request head has 5 s to arrive, from the
/// connection's first read.
#[tokio::test]
async fn a_request_head_not_finished_within_5_s_is_answered_408_with_json() {
    let app = spawn_app().await;
    let started = Instant::now();
    let got = exchange(
        &app,
        b"GET /posts/ HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(15),
    )
    .await;
    let waited = started.elapsed();
    assert_eq!(got.answers.len(), 1, "{:?}", got.answers);
    got.answers[0].assert_error(408, "request timeout", "a slow head");
    assert!(got.closed, "the connection was left open");
    assert!(
        (Duration::from_millis(4500)..Duration::from_secs(10)).contains(&waited),
        "answered after {waited:?}"
    );
}

/// Malformed chunked bodies: each request is answered once, by its route, with JSON (the
/// extractors read the body and refuse it as the contract says; a route that reads no body
/// answers as it would anyway), and the connection is then closed, on every connection. A
/// route that is still busy when the broken chunk arrives (the token's user being looked up,
/// an earlier request on the connection still being served) answers too: actix-http 3.20 took
/// a broken chunk for a client gone away and dropped the connection unanswered.
#[tokio::test]
async fn malformed_chunked_bodies_are_answered_with_json_every_time() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let unreadable = "invalid request body";
    let chunked = |route: &str, token: Option<&str>, content_type: &str, body: &str| {
        let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
        format!(
            "{route} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: {content_type}\r\n\
             Transfer-Encoding: chunked\r\n\r\n{body}"
        )
        .into_bytes()
    };
    let json = "application/json";
    // Pipelined behind a registration (bcrypt and an INSERT): both are answered, in order.
    let behind_a_registration = |n: usize| {
        let body =
            json!({"email": format!("pipelined{n}@example.com"), "password": PASSWORD}).to_string();
        let mut raw = format!(
            "POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        raw.extend(chunked("POST /users/", None, json, "zz\r\n{}\r\n0\r\n\r\n"));
        raw
    };
    assert_answered(
        &app,
        "a bad chunk behind a registration",
        behind_a_registration,
        60,
        &[(201, None), (400, Some(unreadable))],
    )
    .await;

    // With a token: the user is looked up in the database before the body is read.
    let with_token = chunked(
        "POST /posts/",
        Some(&ann.token),
        json,
        "zz\r\n{}\r\n0\r\n\r\n",
    );
    assert_answered(
        &app,
        "a bad chunk while the token's user is looked up",
        |_| with_token.clone(),
        60,
        &[(400, Some(unreadable))],
    )
    .await;

    let form = "application/x-www-form-urlencoded";
    let cases: [(&str, Vec<u8>, u16, Option<&str>); 5] = [
        (
            "a chunk size that is not hex",
            chunked("POST /users/", None, json, "zz\r\n{}\r\n0\r\n\r\n"),
            400,
            Some(unreadable),
        ),
        (
            "a good chunk, then a bad one",
            chunked("POST /users/", None, json, "2\r\n{}\r\nQQ\r\n"),
            400,
            Some(unreadable),
        ),
        (
            "a chunk extension with a control byte, on the login form",
            chunked("POST /login", None, form, "3;\x01\r\nabc\r\n0\r\n\r\n"),
            400,
            Some(unreadable),
        ),
        (
            "a chunk size overflowing 64 bits, on a route that reads no body",
            chunked("GET /", None, json, "FFFFFFFFFFFFFFFFFFFF\r\n"),
            200,
            None,
        ),
        (
            "garbage where a chunk should be, without a token",
            chunked("POST /posts/", None, json, "zz\r\n"),
            401,
            Some("Not authenticated"),
        ),
    ];
    for (case, raw, status, detail) in cases {
        assert_answered(&app, case, |_| raw.clone(), 12, &[(status, detail)]).await;
    }
}
