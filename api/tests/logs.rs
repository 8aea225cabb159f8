//! The log never holds a password, a password hash, a token (mailed ones included) or the
//! signing key, even at `debug`; every request gets one access-log line, and every line about a
//! request carries its id; a client's mistakes are never logged at ERROR, and its request id
//! cannot forge or break a line.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use tests::{TempDir, api_binary, free_port, send_sync, sigterm, sync_client};

const SECRET: &str = "log-test-secret-key-0123456789abcdef-0123456789";
const PASSWORD: &str = "log test password 42";

const NEW_PASSWORD: &str = "log test new password 43";

/// Registers, logs in (right and wrong), reads `/users/me`, sends a forged token with a
/// request id of the client's, refreshes, presents the retired refresh token again, logs in
/// again, changes the password and logs out: ten requests. Returns every token issued.
fn exercise(http: &Client, base: &str) -> Vec<String> {
    let user = json!({"email": "log@example.com", "password": PASSWORD});
    let (status, _) = send_sync(http.post(format!("{base}/users/")).json(&user)).expect("register");
    assert_eq!(status, 201);
    let login = |password: &str| {
        let form = [("username", "log@example.com"), ("password", password)];
        send_sync(http.post(format!("{base}/login")).form(&form))
    };
    let (status, body) = login(PASSWORD).expect("login");
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let token = body["access_token"].as_str().expect("a token").to_owned();
    let me = http.get(format!("{base}/users/me")).bearer_auth(&token);
    let (status, _) = send_sync(me).expect("me");
    assert_eq!(status, 200);
    let (status, _) = login("wrong password 99").expect("bad login");
    assert_eq!(status, 403);
    let forged = http
        .get(format!("{base}/posts/"))
        .bearer_auth("forged.token.here")
        .header("X-Request-Id", "log-test-request-1");
    let (status, _) = send_sync(forged).expect("bad token");
    assert_eq!(status, 401);

    let refresh = |token: &str| {
        let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
        send_sync(http.post(format!("{base}/login")).form(&form))
    };
    let first_refresh = body["refresh_token"].as_str().expect("refresh").to_owned();
    let (status, second) = refresh(&first_refresh).expect("refresh");
    assert_eq!(status, 200);
    let second: Value = serde_json::from_str(&second).expect("JSON");
    // Reused: the session ends, logged as a warning, which must not quote the token.
    let (status, _) = refresh(&first_refresh).expect("reuse");
    assert_eq!(status, 400);
    let (status, third) = login(PASSWORD).expect("login again");
    assert_eq!(status, 200);
    let third: Value = serde_json::from_str(&third).expect("JSON");
    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let put = http
        .put(format!("{base}/users/me/password"))
        .bearer_auth(third["access_token"].as_str().expect("token"))
        .json(&change);
    let (status, fourth) = send_sync(put).expect("password change");
    assert_eq!(status, 200);
    let fourth: Value = serde_json::from_str(&fourth).expect("JSON");
    let logout = http
        .post(format!("{base}/logout"))
        .bearer_auth(fourth["access_token"].as_str().expect("token"));
    let (status, _) = send_sync(logout).expect("logout");
    assert_eq!(status, 204);
    let mut tokens = vec![token, first_refresh];
    for pair in [&second, &third, &fourth] {
        for field in ["access_token", "refresh_token"] {
            tokens.push(pair[field].as_str().expect("token").to_owned());
        }
    }
    tokens
}

/// The server binary on `port`, logging at `rust_log` into `server.log` in `dir`; waits until
/// it answers.
fn start(dir: &TempDir, port: u16, rust_log: &str) -> (Child, PathBuf) {
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
        .env("DATABASE_URL", dir.sqlite_url())
        .env("PORT", port.to_string())
        .env("SECRET_KEY", SECRET)
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the server");
    let http = sync_client(Duration::from_secs(10));
    let started = Instant::now();
    while send_sync(http.get(format!("http://127.0.0.1:{port}/health")))
        .map(|r| r.0)
        .ok()
        != Some(200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, log_path)
}

/// Stops the server with SIGTERM and returns its log.
fn stop(mut server: Child, log_path: &Path) -> String {
    sigterm(&server);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("server did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(log_path).expect("read log")
}

#[test]
fn logs_hold_no_secrets_and_one_line_per_request() {
    let dir = TempDir::new("posts-logs");
    let port = free_port();
    let (server, log_path) = start(&dir, port, "debug");
    let http = sync_client(Duration::from_secs(10));
    let tokens = exercise(&http, &format!("http://127.0.0.1:{port}"));
    // The `/health` that answered, and the ten of `exercise`.
    let requests = 1 + 10;
    let text = stop(server, &log_path);
    drop(dir);

    assert!(
        text.contains("a retired refresh token was presented again"),
        "the reuse is logged:\n{text}"
    );
    for token in &tokens {
        assert_no_secrets(&text, token);
    }
    assert_one_line_per_request(&text, requests);
}

/// Sends `raw` on a connection of its own and reads until the server closes it or 5 s pass:
/// what came back.
fn raw_exchange(port: u16, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw).expect("send");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && !raw.starts_with(b"POST") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A client's mistakes (a malformed request line or header, a head too large, a broken
/// chunked body, a bad token or JSON, a wrong method or path) are answered 4xx and logged below ERROR; and an
/// `X-Request-Id` that is not 1 to 128 visible ASCII characters is replaced, never echoed or
/// logged, so no client can forge or break a log line.
#[test]
fn client_mistakes_log_below_error_and_request_ids_cannot_break_lines() {
    let dir = TempDir::new("posts-logs-faults");
    let port = free_port();
    let (server, log_path) = start(&dir, port, "info");
    let http = sync_client(Duration::from_secs(10));
    let base = format!("http://127.0.0.1:{port}");

    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    for (case, raw, status) in [
        ("request line", b"NOT HTTP AT ALL\r\n\r\n".to_vec(), "400"),
        (
            "header",
            b"GET / HTTP/1.1\r\nHost x\r\n\r\n".to_vec(),
            "400",
        ),
        ("head too large", huge.into_bytes(), "431"),
        (
            "chunked body",
            b"POST /users/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
                .to_vec(),
            "400",
        ),
    ] {
        let answer = raw_exchange(port, &raw);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{case}: {answer:?}"
        );
    }
    for (case, req, status) in [
        (
            "bad token",
            http.get(format!("{base}/posts/")).bearer_auth("x.y.z"),
            401,
        ),
        (
            "bad JSON",
            http.post(format!("{base}/users/"))
                .body("{")
                .header("Content-Type", "application/json"),
            422,
        ),
        ("wrong method", http.delete(format!("{base}/health")), 405),
        ("no route", http.get(format!("{base}/nowhere")), 404),
    ] {
        let (got, _) = send_sync(req).expect(case);
        assert_eq!(got, status, "{case}");
    }
    // Ids that must not be kept: over 128 characters, with a space, with non-ASCII bytes.
    let long = "L".repeat(129);
    for (case, id) in [
        ("too long", long.as_bytes()),
        ("space", b"forged] ERROR injected".as_slice()),
        ("non-ASCII", b"caf\xc3\xa9-\xff-id".as_slice()),
    ] {
        let mut raw =
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: ".to_vec();
        raw.extend_from_slice(id);
        raw.extend_from_slice(b"\r\n\r\n");
        let answer = raw_exchange(port, &raw);
        assert!(answer.starts_with("HTTP/1.1 200"), "{case}: {answer:?}");
        let echoed = answer
            .lines()
            .find_map(|l| l.strip_prefix("x-request-id: "))
            .expect("an id");
        assert!(
            uuid_like(echoed),
            "{case}: the id is replaced by a fresh one, got {echoed:?}"
        );
    }
    let text = stop(server, &log_path);
    drop(dir);

    let errors: Vec<&str> = text.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(
        errors.is_empty(),
        "client mistakes logged at ERROR:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("WARN  actix_http::h1::dispatcher") && l.contains("parse error")),
        "the malformed requests are logged at WARN:\n{text}"
    );
    assert!(
        !text.contains("injected"),
        "a client's id reached the log:\n{text}"
    );
    assert!(!text.contains(&long), "a long id reached the log");
    for line in text.lines() {
        assert!(
            line.starts_with('['),
            "a line that is not a log line: {line:?}"
        );
    }
}

/// A hyphenated UUID: 36 characters, hex digits and hyphens.
fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Neither a password (right or wrong, as typed or form-encoded), a bcrypt hash, a token (or
/// its signature), nor the signing key is anywhere in the log.
fn assert_no_secrets(text: &str, token: &str) {
    for (what, secret) in [
        ("the password", PASSWORD),
        ("the new password", NEW_PASSWORD),
        ("the wrong password", "wrong password 99"),
        ("the wrong password, form-encoded", "wrong+password+99"),
        ("a bcrypt hash", "$2b$"),
        ("the token", token),
        (
            "the token's signature",
            token.rsplit('.').next().unwrap_or("-"),
        ),
        ("the forged token", "forged.token.here"),
        ("the signing key", SECRET),
    ] {
        assert!(!text.contains(secret), "the log shows {what}:\n{text}");
    }
}

/// One access-log line per request, each with a request id; the id a client sent is on that
/// request's access line and on the lines written while it was handled.
fn assert_one_line_per_request(text: &str, requests: usize) {
    let access_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("INFO  actix_web::middleware::logger"))
        .collect();
    assert_eq!(
        access_lines.len(),
        requests,
        "one access-log line per request:\n{text}"
    );
    for line in &access_lines {
        let id = line.rsplit("request_id=").next().unwrap_or("");
        assert!(
            line.contains("request_id=") && !id.is_empty() && id != "-",
            "an access line without a request id: {line}"
        );
    }
    // A line written while the request is handled (the service's debug line on a rejected
    // token) carries the id the client sent, as does that request's access line.
    let tagged: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("request_id=log-test-request-1"))
        .collect();
    assert!(
        tagged.iter().any(|l| l.contains("token rejected")),
        "the service's line carries the request id:\n{text}"
    );
    assert!(
        tagged.iter().any(|l| l.contains("logger")),
        "the access line carries the request id:\n{text}"
    );
}

/// With no `SMTP_URL` (development), mail goes to `.eml` files in the outbox, and the log says
/// so: one start-up line, and one INFO line per message naming its purpose and file. The
/// tokens in those files, and the addresses they went to, are nowhere in the log.
#[test]
fn mail_goes_to_the_outbox_and_its_tokens_never_to_the_log() {
    let dir = TempDir::new("posts-outbox");
    let port = free_port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
        .env("DATABASE_URL", dir.sqlite_url())
        .env("PORT", port.to_string())
        .env("SECRET_KEY", SECRET)
        .env("BCRYPT_COST", "4")
        .env("REQUIRE_EMAIL_VERIFICATION", "true")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the server");
    let http = sync_client(Duration::from_secs(10));
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while send_sync(http.get(format!("{base}/health")))
        .map(|r| r.0)
        .ok()
        != Some(200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let address = "outbox-owner@example.com";
    let user = json!({"email": address, "password": PASSWORD});
    let (status, _) = send_sync(http.post(format!("{base}/users/")).json(&user)).expect("register");
    assert_eq!(status, 201);
    let ask = json!({"email": address});
    let (status, _) =
        send_sync(http.post(format!("{base}/password-recovery")).json(&ask)).expect("recovery");
    assert_eq!(status, 202);

    // The verification mail and the reset mail.
    let outbox = dir.path().join("mail-outbox");
    let deadline = Instant::now() + Duration::from_secs(20);
    let files = loop {
        let files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if files.len() == 2 {
            break files;
        }
        assert!(
            Instant::now() < deadline,
            "two mails in {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let tokens: Vec<String> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("read a mail");
            assert!(text.contains(&format!("To: {address}")), "{text}");
            text.lines()
                .find(|l| l.len() == 43 && !l.contains(' ') && !l.contains(':'))
                .unwrap_or_else(|| panic!("a token in {text}"))
                .to_owned()
        })
        .collect();

    sigterm(&server);
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = server.kill();
            panic!("server did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log_path).expect("read log");
    drop(dir);

    let startup: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("mail: no SMTP_URL"))
        .collect();
    assert_eq!(startup.len(), 1, "one start-up line about mail:\n{text}");
    assert!(startup[0].contains("mail-outbox"), "{}", startup[0]);
    for purpose in ["email_verification", "password_reset"] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(&format!("mail: {purpose} message written to mail-outbox/")))
            .collect();
        assert_eq!(lines.len(), 1, "one line for the {purpose} mail:\n{text}");
        assert!(lines[0].contains(" INFO "), "{}", lines[0]);
    }
    for name in files.iter().filter_map(|f| f.file_name()?.to_str()) {
        assert!(text.contains(name), "the log names {name}:\n{text}");
    }
    for token in &tokens {
        assert!(
            !text.contains(token.as_str()),
            "the log shows a mailed token:\n{text}"
        );
    }
    assert!(
        !text.contains(address),
        "the log shows the address:\n{text}"
    );
}
