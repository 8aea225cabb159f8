//! Stopping under load: SIGTERM finishes what is in flight within the shutdown timeout, and
//! neither SIGTERM nor `kill -9` loses a write that was answered 201.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tests::TestDatabase;

use super::slow_upload::{Outcome, SlowUpload};
use super::{BOUND, Server, content_of, post_body, posts, request, test_db};

/// Writers posting in a loop on fresh connections until told to stop or the server is gone;
/// each records what it was answered.
fn write_load(
    addr: SocketAddr,
    token: &str,
    writers: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<Vec<Outcome>>> {
    (0..writers)
        .map(|w| {
            let (token, stop) = (token.to_owned(), Arc::clone(stop));
            thread::spawn(move || {
                let mut results = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let title = format!("load {w}-{i}");
                    let result = request(
                        addr,
                        Method::POST,
                        "/posts/",
                        Some(&token),
                        Some(&post_body(&title)),
                    )
                    .map_err(|e| e.to_string());
                    let gone = result.is_err();
                    results.push((title, result));
                    if gone {
                        break;
                    }
                }
                results
            })
        })
        .collect()
}

/// Every title answered 201 is in the database, once, whole; and no row is torn.
fn assert_acknowledged_writes_kept(db: &TestDatabase, acknowledged: &[String]) {
    let posts = posts(db);
    for title in acknowledged {
        let found: Vec<_> = posts.iter().filter(|(_, t, _)| t == title).collect();
        assert_eq!(found.len(), 1, "acknowledged post {title:?} is there once");
    }
    for (id, title, content) in &posts {
        assert_eq!(content, &content_of(title), "post {id} is whole");
    }
}

/// SIGTERM under load: requests in flight (bodies half uploaded, writes being handled) all
/// complete with 2xx; new connections are refused as soon as shutdown starts, while those
/// requests are still running; the process exits promptly once they are done (well within
/// `SHUTDOWN_TIMEOUT_SECS`) and successfully; every acknowledged write is in the database.
#[test]
fn sigterm_finishes_requests_in_flight_and_refuses_new_connections() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[("SHUTDOWN_TIMEOUT_SECS", "10")], BOUND);
    let addr = server.addr();
    let token = server.user("sigterm");

    let uploads: Vec<_> = (0..3)
        .map(|i| SlowUpload::begin(addr, &token, &format!("in flight {i}")))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let load = write_load(addr, &token, 3, &stop);
    thread::sleep(Duration::from_millis(300));

    let term = Instant::now();
    server.sigterm();
    let refused = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => break term.elapsed(),
            _ => {}
        }
        assert!(
            term.elapsed() < Duration::from_secs(3),
            "still accepting after SIGTERM"
        );
        thread::sleep(Duration::from_millis(10));
    };
    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "exited with requests still in flight"
    );
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    for upload in uploads {
        let (title, result) = upload.finish();
        let (status, body) = result.unwrap_or_else(|e| panic!("{title}: cut off ({e})"));
        assert_eq!(status, 201, "{title}: {body}");
        acknowledged.push(title);
    }
    let finished = Instant::now();
    let mut answered = 0;
    for writer in load {
        for (title, result) in writer.join().expect("writer") {
            match result {
                Ok((201, _)) => {
                    answered += 1;
                    acknowledged.push(title);
                }
                Ok((status, body)) => panic!("{title}: {status} {body}"),
                Err(_) => {} // never accepted: not acknowledged, nothing to keep
            }
        }
    }
    assert!(answered > 0, "the load got nothing done");

    let status = server
        .wait_exit(Duration::from_secs(10 + 2).saturating_sub(term.elapsed()))
        .unwrap_or_else(|| {
            panic!(
                "still running after the shutdown timeout: {}",
                server.stderr()
            )
        });
    assert!(
        status.success(),
        "exit status {status}: {}",
        server.stderr()
    );
    assert!(
        finished.elapsed() < Duration::from_secs(3),
        "lingered {:?} after the last request",
        finished.elapsed()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    eprintln!(
        "refused new connections {refused:?} after SIGTERM; {answered} load writes acknowledged"
    );
    assert_acknowledged_writes_kept(&db, &acknowledged);
}

/// SIGTERM with a request that never finishes (its client stalls mid-body): the process
/// waits for it only `SHUTDOWN_TIMEOUT_SECS`, then exits; the request writes nothing.
#[test]
fn sigterm_exits_within_the_shutdown_timeout_despite_a_stalled_request() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[("SHUTDOWN_TIMEOUT_SECS", "1")], BOUND);
    let token = server.user("stalled");
    let upload = SlowUpload::begin(server.addr(), &token, "never finished");
    thread::sleep(Duration::from_millis(100));

    let term = Instant::now();
    server.sigterm();
    let status = server
        .wait_exit(Duration::from_secs(1 + 3))
        .unwrap_or_else(|| panic!("still running 4 s after SIGTERM: {}", server.stderr()));
    let took = term.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "did not wait for the request: {took:?}"
    );
    assert!(
        status.success(),
        "exit status {status}: {}",
        server.stderr()
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    let (_, result) = upload.finish();
    assert!(
        result.is_err(),
        "a stalled request has no answer: {result:?}"
    );
    assert!(posts(&db).is_empty(), "the stalled request wrote nothing");
}

/// `kill -9` under a write load, then a restart on the same database: every POST /posts/
/// answered 201 is there, whole; nothing is torn; the server starts and serves again.
#[test]
fn kill_9_under_write_load_loses_no_acknowledged_write() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[], BOUND);
    let addr = server.addr();
    let token = server.user("killed");
    let stop = Arc::new(AtomicBool::new(false));
    let load = write_load(addr, &token, 4, &stop);
    thread::sleep(Duration::from_millis(800));
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reaped");
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    let mut cut_off = 0;
    for writer in load {
        for (title, result) in writer.join().expect("writer") {
            match result {
                Ok((201, _)) => acknowledged.push(title),
                Ok((status, body)) => panic!("{title}: {status} {body}"),
                Err(_) => cut_off += 1,
            }
        }
    }
    assert!(
        acknowledged.len() >= 10,
        "only {} writes",
        acknowledged.len()
    );
    assert!(
        cut_off > 0,
        "the writers were still writing when the server died"
    );

    let restarted = Server::start(db.url(), &[], BOUND);
    let (status, _) = request(restarted.addr(), Method::GET, "/ready", None, None).expect("ready");
    assert_eq!(status, 200);
    let (status, body) = request(
        restarted.addr(),
        Method::GET,
        "/posts/?limit=100",
        Some(&token),
        None,
    )
    .expect("list");
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("JSON");
    assert!(!listed.as_array().expect("a list").is_empty());
    assert_acknowledged_writes_kept(&db, &acknowledged);
    eprintln!(
        "{} writes acknowledged before kill -9, {cut_off} cut off; all kept",
        acknowledged.len()
    );
}

/// One raw `GET path` on a connection of its own: the response head, lower-cased, and the
/// status.
fn raw_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed before the head");
        response.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&response).to_lowercase();
    let status = head[9..12].parse().expect("status");
    (status, head)
}

/// SIGTERM with `SHUTDOWN_DRAIN_SECS`: for the drain period the server goes on serving, but
/// `/ready` answers 503 and every response closes its connection (so a load balancer takes it
/// out and keeps no idle connection to it); then it stops and exits.
#[test]
fn sigterm_drains_first_ready_503_and_connections_closing() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[("SHUTDOWN_DRAIN_SECS", "2")], BOUND);
    let (status, head) = raw_get(server.addr(), "/ready");
    assert_eq!(status, 200);
    assert!(!head.contains("connection: close"), "{head}");

    let term = Instant::now();
    server.sigterm();
    thread::sleep(Duration::from_millis(300));
    let (status, head) = raw_get(server.addr(), "/ready");
    assert_eq!(status, 503, "ready while draining: {head}");
    let (status, head) = raw_get(server.addr(), "/health");
    assert_eq!(status, 200, "still serving while draining");
    assert!(head.contains("connection: close"), "{head}");
    let (status, _) = request(server.addr(), Method::GET, "/ready", None, None).expect("ready");
    assert_eq!(status, 503);
    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "exited before the drain period ended"
    );
    let exit = server
        .wait_exit(Duration::from_secs(6))
        .unwrap_or_else(|| panic!("still running 6 s after SIGTERM: {}", server.stderr()));
    assert!(exit.success(), "exit status {exit}: {}", server.stderr());
    let took = term.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "stopped before the drain ended: {took:?}"
    );
    assert!(
        server.stderr().contains("draining for 2 s"),
        "{}",
        server.stderr()
    );
}
