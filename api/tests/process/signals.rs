//! Stray signals: SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM, whose default action ends a process,
//! are logged and ignored; the server goes on answering, and SIGTERM still stops it cleanly.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;

use super::{BOUND, Server, request, test_db};

#[test]
fn stray_signals_are_logged_and_ignored() {
    let db = test_db();
    let mut server = Server::start(db.url(), &[], BOUND);
    let addr = server.addr();
    let pid = server.child.id().to_string();
    for name in ["HUP", "USR1", "USR2", "ALRM"] {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name}");
        let logged = format!("SIG{name} received: ignored");
        let start = Instant::now();
        while !server.stderr().contains(&logged) {
            assert!(
                start.elapsed() < BOUND,
                "no line {logged:?}: {}",
                server.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
        assert!(
            server.child.try_wait().expect("try_wait").is_none(),
            "SIG{name} ended the server: {}",
            server.stderr()
        );
        let (status, _) = request(addr, Method::GET, "/health", None, None)
            .unwrap_or_else(|e| panic!("after SIG{name}: {e}"));
        assert_eq!(status, 200, "answering after SIG{name}");
    }
    let lines = server.stderr();
    assert!(
        lines.contains("SIGHUP received: ignored (configuration is read once"),
        "SIGHUP's line says why: {lines}"
    );
    server.sigterm();
    let status = server.wait_exit(BOUND).expect("stops on SIGTERM");
    assert!(
        status.success(),
        "exit status {status}: {}",
        server.stderr()
    );
}
