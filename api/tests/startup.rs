//! The server binary refuses bad configuration with one clear line and a non-zero exit,
//! never a panic trace.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
fn production_without_an_smtp_server_does_not_start_while_recovery_is_on() {
    let key = "production-key-of-at-least-32-bytes-0123456789";
    let out = run_server(&[("APP_ENV", "production"), ("SECRET_KEY", key)]);
    assert_refused(&out, "SMTP_URL");
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
    assert!(
        stderr.contains("Connection refused") && !stderr.contains("pool timed out"),
        "says why: {stderr}"
    );
}

/// The case: a `.env` whose `DATABASE_URL` (a PostgreSQL URL) opens a quote and never
/// closes it. Every command that reads configuration stops with one line naming the file and
/// the line, before it connects anywhere: no SQLite `posts.db` appears in its place.
#[test]
fn an_env_file_that_cannot_be_parsed_stops_every_command() {
    let dotenv =
        "# production\nSECRET_KEY=k\nDATABASE_URL=\"postgres://app:secret-pw@db:5432/posts\n";
    for args in [
        &[][..],
        &["serve"],
        &["migrate"],
        &["migrate", "status"],
        &["migrate", "up"],
        &["healthcheck"],
    ] {
        let dir = TempDir::new("posts-startup-broken-env");
        std::fs::write(dir.path().join(".env"), dotenv).expect("write .env");
        let out = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
            .args(args)
            .output()
            .expect("run the api binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("api {}", args.join(" "));
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        let file = dir.path().join(".env");
        assert_eq!(
            stderr.trim(),
            format!(
                "error: cannot read {}: line 3: DATABASE_URL: a quote is opened and never closed",
                file.display()
            ),
            "{what}"
        );
        assert!(out.stdout.is_empty(), "{what}: nothing done");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, [".env"], "{what}: no database created");
    }
}

/// A one-shot PostgreSQL server that answers every connection with `sqlstate` (and the
/// message `message`) during start-up, as a real one does for a missing database or a
/// refused role. Counts the connections it got.
struct RefusingPostgres {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl RefusingPostgres {
    fn start(sqlstate: &'static str, message: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = refuse(&mut stream, sqlstate, &message);
            }
        });
        RefusingPostgres { port, connections }
    }
}

/// Reads the client's SSLRequest (answering "no") and start-up message, then sends a FATAL
/// ErrorResponse.
fn refuse(stream: &mut std::net::TcpStream, sqlstate: &str, message: &str) -> std::io::Result<()> {
    let read_message = |stream: &mut std::net::TcpStream| -> std::io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len)?;
        let mut body = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
        stream.read_exact(&mut body)?;
        Ok(body)
    };
    let first = read_message(stream)?;
    // SSLRequest: the code 80877103.
    if first == 80_877_103_u32.to_be_bytes() {
        stream.write_all(b"N")?;
        read_message(stream)?;
    }
    let mut fields = Vec::new();
    for (tag, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', sqlstate),
        (b'M', message),
    ] {
        fields.push(tag);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut reply = vec![b'E'];
    reply.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
    reply.extend_from_slice(&fields);
    stream.write_all(&reply)
}

/// PostgreSQL answering "database does not exist" (3D000) or refusing the role (28P01,
/// 28000): not worth retrying, so the server and `api migrate` stop at once, though
/// `DATABASE_CONNECT_TIMEOUT_SECS` would allow a minute, with one line saying what to do,
/// never the password.
#[test]
fn a_missing_database_or_a_refused_role_stops_at_once() {
    let cases = [
        (
            "3D000",
            "database \"fastapi\" does not exist",
            "database \"fastapi\" does not exist on the PostgreSQL server at 127.0.0.1:PORT; \
             create it (createdb -h 127.0.0.1 -p PORT -U course fastapi)",
        ),
        (
            "28P01",
            "password authentication failed for user \"course\"",
            "the PostgreSQL server at 127.0.0.1:PORT refused user \"course\": password \
             authentication failed for user \"course\"",
        ),
        (
            "28000",
            "role \"course\" does not exist",
            "the PostgreSQL server at 127.0.0.1:PORT refused user \"course\": role \"course\" \
             does not exist",
        ),
    ];
    for (sqlstate, message, expected) in cases {
        for args in [&[][..], &["migrate", "status"], &["migrate", "up"]] {
            let postgres = RefusingPostgres::start(sqlstate, message.to_owned());
            let port = postgres.port.to_string();
            let url = format!("postgres://course:secret-pw@127.0.0.1:{port}/fastapi");
            let dir = TempDir::new("posts-startup-refused");
            let started = Instant::now();
            let out = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
                .args(args)
                .env("DATABASE_URL", &url)
                .env("DATABASE_CONNECT_TIMEOUT_SECS", "60")
                .env("RUST_LOG", "warn")
                .output()
                .expect("run the api binary");
            let what = format!("{sqlstate}: api {}", args.join(" "));
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{what}: not retried"
            );
            assert_eq!(postgres.connections.load(Ordering::SeqCst), 1, "{what}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
            assert_eq!(
                stderr.trim().lines().count(),
                1,
                "{what}: one line: {stderr}"
            );
            assert!(
                stderr.contains(&expected.replace("PORT", &port)),
                "{what}: {stderr}"
            );
            assert!(!stderr.contains("secret-pw"), "{what}: {stderr}");
            if args.is_empty() {
                continue;
            }
            // The migration CLI first says which database it works on, password redacted.
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                format!("database: postgres://course:***@127.0.0.1:{port}/fastapi"),
                "{what}"
            );
        }
    }
}
