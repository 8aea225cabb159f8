//! The log never holds a password, a password hash, a token or the signing key, even at
//! `debug`; every request gets one access-log line, and every line about a request carries its
//! id.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, api_binary, free_port};

const SECRET: &str = "log-test-secret-key-0123456789abcdef-0123456789";
const PASSWORD: &str = "log test password 42";

/// One HTTP/1.1 exchange over a fresh connection; returns (status, body).
fn http(port: u16, request: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    req
}

#[test]
fn logs_hold_no_secrets_and_one_line_per_request() {
    let dir = TempDir::new("posts-logs");
    let port = free_port();
    let log_path = dir.0.join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = api_binary(&dir.0)
        .env("DATABASE_URL", dir.sqlite_url())
        .env("PORT", port.to_string())
        .env("SECRET_KEY", SECRET)
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the server");

    let started = Instant::now();
    while http(port, &request("GET", "/health", &[], ""))
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
    let json = [("Content-Type", "application/json")];
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let user = format!(r#"{{"email": "log@example.com", "password": "{PASSWORD}"}}"#);
    let login = format!(
        "username=log%40example.com&password={}",
        PASSWORD.replace(' ', "+")
    );
    let mut requests = 1;
    let (status, _) = http(port, &request("POST", "/users/", &json, &user)).expect("register");
    assert_eq!(status, 201);
    let (status, body) = http(port, &request("POST", "/login", &form, &login)).expect("login");
    assert_eq!(status, 200);
    let token = body
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token")
        .to_owned();
    let bearer = format!("Bearer {token}");
    let (status, _) = http(
        port,
        &request("GET", "/users/me", &[("Authorization", &bearer)], ""),
    )
    .expect("me");
    assert_eq!(status, 200);
    let wrong = "username=log%40example.com&password=wrong+password+99";
    let (status, _) = http(port, &request("POST", "/login", &form, wrong)).expect("bad login");
    assert_eq!(status, 403);
    let (status, _) = http(
        port,
        &request(
            "GET",
            "/posts/",
            &[
                ("Authorization", "Bearer forged.token.here"),
                ("X-Request-Id", "log-test-request-1"),
            ],
            "",
        ),
    )
    .expect("bad token");
    assert_eq!(status, 401);
    requests += 5;

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
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

    for (what, secret) in [
        ("the password", PASSWORD),
        ("the wrong password", "wrong password 99"),
        ("the wrong password, form-encoded", "wrong+password+99"),
        ("a bcrypt hash", "$2b$"),
        ("the token", token.as_str()),
        (
            "the token's signature",
            token.rsplit('.').next().unwrap_or("-"),
        ),
        ("the forged token", "forged.token.here"),
        ("the signing key", SECRET),
    ] {
        assert!(!text.contains(secret), "the log shows {what}:\n{text}");
    }
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
