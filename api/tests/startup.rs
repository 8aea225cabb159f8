//! The server binary refuses bad configuration with one clear line and a non-zero exit,
//! never a panic trace.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::Output;

use tests::{TempDir, api_binary};

fn run_server(vars: &[(&str, &str)]) -> Output {
    run_server_in("default", vars, None)
}

/// Runs the server in a directory of its own, with `dotenv` as its `.env` file if given.
fn run_server_in(name: &str, vars: &[(&str, &str)], dotenv: Option<&str>) -> Output {
    let dir = TempDir::new(&format!("posts-startup-{name}"));
    if let Some(text) = dotenv {
        std::fs::write(dir.path().join(".env"), text).expect("write .env");
    }
    // Nothing inherited that could change the outcome.
    let mut cmd = api_binary(env!("CARGO_BIN_EXE_api"), dir.path());
    // A private SQLite file, unless the .env file chooses the database itself.
    if !dotenv.is_some_and(|text| text.contains("DATABASE_")) {
        cmd.env("DATABASE_URL", dir.sqlite_url());
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run the server binary")
}

fn assert_refused(out: &Output, variable: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should not start: {stderr}");
    assert!(
        stderr.contains(variable),
        "should name {variable}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn production_with_the_development_key_does_not_start() {
    let out = run_server(&[("APP_ENV", "production")]);
    assert_refused(&out, "SECRET_KEY");
}

#[test]
fn an_unknown_algorithm_does_not_start() {
    let out = run_server(&[("ALGORITHM", "RS256")]);
    assert_refused(&out, "ALGORITHM");
}

#[test]
fn a_malformed_database_url_does_not_start() {
    let out = run_server(&[("DATABASE_URL", "mysql://nope")]);
    assert_refused(&out, "DATABASE_URL");
}

#[test]
fn a_port_in_use_does_not_start() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = run_server(&[("PORT", &port), ("RUST_LOG", "off")]);
    assert_refused(&out, &format!("127.0.0.1:{port}"));
}

#[test]
fn the_env_file_in_the_working_directory_is_read() {
    let out = run_server_in("dotenv", &[], Some("ALGORITHM=HS999\n"));
    assert_refused(&out, "ALGORITHM");
}

#[test]
fn a_course_env_file_points_the_server_at_its_postgres() {
    // The course's variables, with nothing listening on the port: the server retries for
    // DATABASE_CONNECT_TIMEOUT_SECS, then names the host it could not reach.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let dotenv = format!(
        "DATABASE_HOSTNAME=127.0.0.1\nDATABASE_PORT={port}\nDATABASE_USERNAME=course\n\
         DATABASE_PASSWORD=secret-pw\nDATABASE_NAME=fastapi\nSECRET_KEY=course-key\n\
         ALGORITHM=HS256\nACCESS_TOKEN_EXPIRE_MINUTES=30\nDATABASE_CONNECT_TIMEOUT_SECS=1\n"
    );
    let out = run_server_in("course", &[("RUST_LOG", "off")], Some(&dotenv));
    assert_refused(&out, &format!("127.0.0.1:{port}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("postgres://course:***@"),
        "the course's user: {stderr}"
    );
    assert!(
        stderr.contains("/fastapi"),
        "the course's database: {stderr}"
    );
    assert!(
        !stderr.contains("secret-pw"),
        "the password must not be shown: {stderr}"
    );
}
