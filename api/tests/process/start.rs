//! Start-up against a database that is out of reach: given up on after the connect timeout
//! with one line naming it, or waited for when it comes up in time.

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use tests::{TempDir, TestDatabase, free_port, unique};

use super::{BOUND, Server, command, post_body, request, test_db};

/// Runs the binary to completion (at most [`BOUND`]): exit status, stderr, time taken.
fn run_to_exit(database_url: &str, vars: &[(&str, &str)]) -> (ExitStatus, String, Duration) {
    let dir = TempDir::new("posts-process");
    let start = Instant::now();
    let mut child = command(database_url, vars, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server binary");
    let mut pipe = child.stderr.take().expect("stderr");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server neither started nor exited within {BOUND:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let took = start.elapsed();
    (status, reader.join().unwrap_or_default(), took)
}

/// With the database out of reach, start-up retries for `DATABASE_CONNECT_TIMEOUT_SECS`, then
/// exits non-zero with one line on stderr that names the database's host (no panic trace):
/// PostgreSQL refusing connections, PostgreSQL never answering (a port that accepts but says
/// nothing), a SQLite file whose directory does not exist. Each attempt is bounded by the
/// acquire timeout, so the whole wait is bounded. None needs a database server.
#[test]
fn an_unreachable_database_stops_start_up_after_the_connect_timeout() {
    let refused = free_port();
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let missing = std::env::temp_dir().join(unique("no-such-dir"));
    let cases = [
        (
            format!("postgres://postgres@127.0.0.1:{refused}/posts"),
            format!("127.0.0.1:{refused}"),
            "off",
        ),
        (
            format!("postgres://app:s3cret@127.0.0.1:{silent_port}/posts"),
            format!("127.0.0.1:{silent_port}"),
            "off",
        ),
        (
            format!("sqlite://{}/posts.db?mode=rwc", missing.display()),
            missing.display().to_string(),
            "off",
        ),
        // With logging on, the retries are logged too; the last line is still the error.
        (
            format!("postgres://postgres@127.0.0.1:{refused}/posts"),
            format!("127.0.0.1:{refused}"),
            "info",
        ),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(url, names, log)| {
            thread::spawn(move || {
                let vars = [
                    ("DATABASE_CONNECT_TIMEOUT_SECS", "2"),
                    ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
                    ("RUST_LOG", log),
                ];
                (run_to_exit(&url, &vars), url, names, log)
            })
        })
        .collect();
    for run in runs {
        let ((status, stderr, took), url, names, log) = run.join().expect("run");
        let what = format!("{url} (RUST_LOG={log})");
        assert!(!status.success(), "{what}: should not start");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(
            !stderr.contains("s3cret"),
            "{what}: password shown: {stderr}"
        );
        let error = stderr.trim().lines().last().unwrap_or("");
        assert!(
            error.starts_with("error: cannot reach the database at ") && error.contains(&names),
            "{what}: should name {names}: {stderr}"
        );
        if log == "off" {
            assert_eq!(
                stderr.trim().lines().count(),
                1,
                "{what}: one line: {stderr}"
            );
        } else {
            assert!(stderr.contains("retrying"), "{what}: {stderr}");
        }
        assert!(
            took >= Duration::from_secs(2),
            "{what}: gave up after {took:?}"
        );
        assert!(
            took <= Duration::from_secs(6),
            "{what}: kept trying for {took:?}"
        );
    }
    drop(silent);
}

/// Forwards connections on `port` to `target` from when it starts until dropped.
struct Forwarder {
    stop: Arc<AtomicBool>,
}

impl Forwarder {
    fn start(port: u16, target: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the late port");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        if let Ok(server) = TcpStream::connect(target) {
                            pipe(&client, &server);
                            pipe(&server, &client);
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Forwarder { stop }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies `from` into `to` on a thread until either side closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    if let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) {
        thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    }
}

/// A database that becomes reachable within `DATABASE_CONNECT_TIMEOUT_SECS` is waited for: the
/// server starts and serves. PostgreSQL: its port opens 1.5 s after the server started.
/// SQLite: the file's directory appears 1.5 s after the server started.
#[test]
fn a_database_that_comes_up_within_the_connect_timeout_is_waited_for() {
    let db = test_db();
    let late = Duration::from_millis(1500);
    let (url, opener): (String, thread::JoinHandle<Box<dyn Send>>) = match &db {
        TestDatabase::Postgres(_) => {
            let mut url = url::Url::parse(db.url()).expect("URL");
            let target = resolve(url.host_str().expect("host"), url.port().unwrap_or(5432));
            let port = free_port();
            url.set_host(Some("127.0.0.1")).expect("host");
            url.set_port(Some(port)).expect("port");
            let opener = thread::spawn(move || {
                thread::sleep(late);
                Box::new(Forwarder::start(port, target)) as Box<dyn Send>
            });
            (url.to_string(), opener)
        }
        TestDatabase::Sqlite { .. } => {
            // Not created yet: the opener creates it, late.
            let dir = TempDir::planned("late-dir");
            let url = dir.sqlite_url();
            let opener = thread::spawn(move || {
                thread::sleep(late);
                std::fs::create_dir_all(dir.path()).expect("create the directory");
                Box::new(dir) as Box<dyn Send>
            });
            (url, opener)
        }
    };
    let start = Instant::now();
    let mut server = Server::start(
        &url,
        &[
            ("DATABASE_CONNECT_TIMEOUT_SECS", "10"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
        ],
        BOUND,
    );
    let took = start.elapsed();
    let _opened = opener.join().expect("opener");
    assert!(
        took >= late,
        "started after {took:?}, before the database was up"
    );
    let (status, body) = request(server.addr(), Method::GET, "/ready", None, None).expect("ready");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let token = server.user("late");
    let (status, _) = request(
        server.addr(),
        Method::POST,
        "/posts/",
        Some(&token),
        Some(&post_body("late")),
    )
    .expect("create");
    assert_eq!(status, 201);
    assert!(server.stderr().contains("retrying"), "{}", server.stderr());
    server.sigterm();
    assert!(server.wait_exit(BOUND).is_some());
}

fn resolve(host: &str, port: u16) -> SocketAddr {
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .expect("resolve the database host")
        .next()
        .expect("an address")
}
