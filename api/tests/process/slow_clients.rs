//! Clients that hold connections: bodies that stall or trickle get 408 with the contract's
//! body once `REQUEST_BODY_TIMEOUT_SECS` has passed, and their connections close; more of
//! them than the open-files limit the server was started with cannot keep it from answering
//! others (it raised the limit); and a client that never reads its responses loses its
//! connection once `RESPONSE_WRITE_TIMEOUT_SECS` has passed with nothing acknowledged.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::slow_upload::{connect, head, read_response};
use super::{BOUND, Server, post_body, request, test_db};

/// Stalled bodies the test holds open: more than the server's soft limit on open files when
/// it starts ([`STARTING_SOFT_LIMIT`]).
const STALLED: usize = 300;
const STARTING_SOFT_LIMIT: u64 = 256;

/// Raises this process's soft limit on open files to `soft` (at most its hard limit); returns
/// the hard limit.
fn set_soft_open_files(soft: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain calls on a struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit), 0);
        limit.rlim_cur = limit.rlim_cur.max(soft.min(limit.rlim_max));
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit), 0);
    }
    limit.rlim_max
}

/// A POST /posts/ whose head and first bytes of body are sent, the rest never.
fn stalled_body(addr: SocketAddr, token: &str) -> TcpStream {
    let mut s = connect(addr).expect("connect");
    let body = post_body("stalled").to_string();
    let head = head(
        "POST",
        "/posts/",
        Some(token),
        "application/json",
        body.len(),
        true,
    );
    s.write_all(head.as_bytes()).expect("head");
    s.write_all(&body.as_bytes()[..10]).expect("first bytes");
    s
}

/// The answer is 408 `{"detail": "request timeout"}` and the server then closes the
/// connection.
fn assert_timed_out(s: &mut TcpStream, what: &str) {
    let (status, body) = read_response(s).unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
    assert_eq!(status, 408, "{what}: {body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(
        body,
        serde_json::json!({"detail": "request timeout"}),
        "{what}"
    );
    let mut rest = [0u8; 64];
    match s.read(&mut rest) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("{what}: the connection stays open after the 408: {other:?}"),
    }
}

#[test]
fn stalled_and_trickled_bodies_get_408_and_cannot_starve_others() {
    // Room for this test's own connections.
    let hard = set_soft_open_files(4096);
    let db = test_db();
    let mut server = Server::start_with(
        db.url(),
        &[("REQUEST_BODY_TIMEOUT_SECS", "2")],
        BOUND,
        |cmd| {
            // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
            unsafe {
                cmd.pre_exec(move || {
                    let limit = libc::rlimit {
                        rlim_cur: STARTING_SOFT_LIMIT,
                        rlim_max: hard,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        },
    );
    let addr = server.addr();
    assert!(
        server.stderr().contains(&format!(
            "open files limit: {hard} (was 256; hard limit {hard})"
        )),
        "the limit is raised and said: {}",
        server.stderr()
    );
    let token = server.user("slow");

    let started = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..STALLED).map(|_| stalled_body(addr, &token)).collect();
    // A body trickled a byte every 100 ms: alive, but never done in time.
    let trickled = {
        let token = token.clone();
        thread::spawn(move || {
            let mut s = connect(addr).expect("connect");
            let body = post_body("trickled").to_string();
            let head = head(
                "POST",
                "/posts/",
                Some(&token),
                "application/json",
                body.len(),
                true,
            );
            s.write_all(head.as_bytes()).expect("head");
            let start = Instant::now();
            for byte in body.as_bytes() {
                if s.write_all(std::slice::from_ref(byte)).is_err() {
                    break; // answered and closed
                }
                thread::sleep(Duration::from_millis(100));
                if start.elapsed() > Duration::from_secs(4) {
                    break;
                }
            }
            assert_timed_out(&mut s, "the trickled body");
            start.elapsed()
        })
    };
    // Meanwhile, with more connections held than the server's starting limit, others are
    // answered, writes included.
    for i in 0..5 {
        let (status, _) = request(addr, Method::GET, "/health", None, None).expect("health");
        assert_eq!(status, 200);
        let (status, body) = request(
            addr,
            Method::POST,
            "/posts/",
            Some(&token),
            Some(&post_body(&format!("meanwhile {i}"))),
        )
        .expect("a write meanwhile");
        assert_eq!(status, 201, "{body}");
    }
    for (i, s) in stalled.iter_mut().enumerate() {
        assert_timed_out(s, &format!("stalled body {i}"));
    }
    let all_answered = started.elapsed();
    assert!(
        all_answered < Duration::from_secs(8),
        "{STALLED} stalled bodies answered after {all_answered:?}"
    );
    let trickled_for = trickled.join().expect("trickler");
    assert!(
        trickled_for < Duration::from_secs(4),
        "the trickled body was cut off after {trickled_for:?}"
    );
    assert!(
        !server.stderr().contains(" ERROR "),
        "timeouts are the clients' doing: {}",
        server.stderr()
    );
    server.sigterm();
    assert!(server.wait_exit(BOUND).is_some_and(|s| s.success()));
}

/// The sockets process `pid` has open (its listener, its database connections on
/// PostgreSQL, and its clients' connections).
fn open_sockets(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .map(|p| p.display().to_string())
                .filter(|p| p.starts_with("socket:"))
                .collect()
        })
        .unwrap_or_default()
}

/// What `ss` says of the server's connections, for a failure's message.
fn socket_states(port: u16) -> String {
    std::process::Command::new("ss")
        .args(["-tanoi", &format!("( sport = :{port} )")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("(no ss: {e})"))
}

fn open_files(pid: u32) -> usize {
    open_sockets(pid).len()
}

/// Clients that ask for a large response again and again (pipelined) and never read: with
/// `RESPONSE_WRITE_TIMEOUT_SECS=1`, each connection is dropped once its data has gone
/// unacknowledged that long, and the server's descriptors return to where they were.
#[test]
fn responses_a_client_never_reads_do_not_hold_connections() {
    const READERS_WHO_NEVER_READ: usize = 20;
    let db = test_db();
    let mut server = Server::start(db.url(), &[("RESPONSE_WRITE_TIMEOUT_SECS", "1")], BOUND);
    let addr = server.addr();
    let pid = server.child.id();
    // Once serving, each worker holds a copy of the listener: count from there.
    let (status, _) = request(addr, Method::GET, "/health", None, None).expect("health");
    assert_eq!(status, 200);
    thread::sleep(Duration::from_millis(300));
    let before = open_files(pid);
    // 30 requests of ReDoc's bundle (about 1 MB each) a connection: more than the kernel's
    // buffers on both sides hold, so the server is left with data no one takes.
    let pipelined = "GET /redoc/redoc.standalone.js HTTP/1.1\r\nHost: x\r\n\r\n".repeat(30);
    let clients: Vec<TcpStream> = (0..READERS_WHO_NEVER_READ)
        .map(|_| {
            let mut s = connect(addr).expect("connect");
            s.write_all(pipelined.as_bytes()).expect("requests");
            s
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    let holding = open_files(pid);
    assert!(
        holding >= before + READERS_WHO_NEVER_READ,
        "the connections are open: {before} then {holding}"
    );
    let start = Instant::now();
    loop {
        let now = open_files(pid);
        if now <= before + 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "connections still held after {:?}: {now} sockets, {before} before; {}",
            start.elapsed(),
            socket_states(addr.port())
        );
        thread::sleep(Duration::from_millis(100));
    }
    // Still answering others.
    let (status, _) = request(addr, Method::GET, "/health", None, None).expect("health");
    assert_eq!(status, 200);
    drop(clients);
    server.sigterm();
    assert!(server.wait_exit(BOUND).is_some_and(|s| s.success()));
}
