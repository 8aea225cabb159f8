//! The server binary refuses bad configuration with one clear line and a non-zero exit,
//! never a panic trace.

use std::net::TcpListener;
use std::process::{Command, Output};

fn run_server(vars: &[(&str, &str)]) -> Output {
    let dir = std::env::temp_dir().join(format!("posts-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_api"));
    // A directory with no .env, and nothing inherited that could change the outcome.
    cmd.current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env(
        "DATABASE_URL",
        format!("sqlite://{}/startup.db?mode=rwc", dir.display()),
    );
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
