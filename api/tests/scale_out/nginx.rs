//! nginx load-balancing over the replicas: its configuration, and its process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use tests::{TempDir, free_port};

use super::requests::fresh_connections;
use super::{BOUND, nginx_binary};

/// nginx's configuration: a master process in the foreground with one worker (so that it can
/// be reloaded), every file in `dir`, round-robin over `upstreams`.
///
/// `proxy_next_upstream error timeout`: a request whose connection to a replica fails (refused
/// once it has stopped listening, reset, timed out) is passed to the other replica. nginx
/// does that for a POST only when the POST was not sent yet (a refused connection); a POST
/// already sent is never retried, because `non_idempotent` is deliberately left out: a POST
/// the replica may have applied before the connection broke would be applied twice (a second
/// post), or be answered 409 for a vote that did succeed. So a replica must be taken out of
/// the upstreams while it drains (`SHUTDOWN_DRAIN_SECS`), as an orchestrator does when its
/// `/ready` turns 503: a connection nginx opens in the instant the replica closes its listening
/// socket is reset, not refused, and a POST sent on it fails. `http_502`/`http_503` are left
/// out too: the server never answers 502, and its 503 means the database is away, which the
/// other replica shares. `X-Upstream` tells the test which replica(s) nginx tried for each
/// answer; `X-Nginx-Config` which configuration (`generation`) answered.
pub(super) fn nginx_conf(
    dir: &std::path::Path,
    port: u16,
    upstreams: &[String],
    generation: u32,
) -> String {
    let d = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|u| format!("        server {u} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    format!(
        r#"# Written by api/tests/scale_out/nginx.rs
daemon off;
master_process on;
worker_processes 1;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream api {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://api;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 5s;
            add_header X-Upstream $upstream_addr always;
            add_header X-Nginx-Config {generation} always;
        }}
    }}
}}
"#
    )
}

/// nginx in front of the replicas; stopped on drop.
pub(super) struct Nginx {
    child: Child,
    pub(super) port: u16,
    dir: TempDir,
}

impl Nginx {
    pub(super) async fn start(client: &Client, upstreams: &[String]) -> Nginx {
        let binary = nginx_binary();
        let dir = TempDir::new("posts-scale-out-nginx");
        let port = free_port();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, nginx_conf(dir.path(), port, upstreams, 1))
            .expect("write nginx.conf");
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let mut nginx = Nginx { child, port, dir };
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = nginx.child.try_wait().expect("try_wait") {
                panic!("nginx exited ({status}):\n{}", nginx.error_log());
            }
            if let Ok(r) = client.get(format!("{}/health", nginx.base())).send().await
                && r.status() == StatusCode::OK
            {
                return nginx;
            }
            assert!(
                Instant::now() < deadline,
                "nginx not answering within {BOUND:?}:\n{}",
                nginx.error_log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(super) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// What reloads this nginx with other upstreams, from another task.
    pub(super) fn reloader(&self) -> Reloader {
        Reloader {
            dir: self.dir.path().to_owned(),
            port: self.port,
            pid: self.child.id(),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // The master stops its worker on SIGTERM; SIGKILL would leave the worker behind.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reloads nginx with new upstreams, as an orchestrator does when a replica leaves.
pub(super) struct Reloader {
    dir: PathBuf,
    port: u16,
    pid: u32,
}

impl Reloader {
    /// Rewrites the configuration with `upstreams` and reloads it (SIGHUP: a new worker takes
    /// the new connections, the old one finishes the requests it holds); returns once an answer
    /// on a new connection comes from the new configuration.
    pub(super) async fn reload(&self, upstreams: &[String]) {
        const GENERATION: u32 = 2;
        std::fs::write(
            self.dir.join("nginx.conf"),
            nginx_conf(&self.dir, self.port, upstreams, GENERATION),
        )
        .expect("rewrite nginx.conf");
        let status = Command::new("kill")
            .args(["-HUP", &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -HUP {} (nginx) failed", self.pid);
        let client = fresh_connections();
        let deadline = Instant::now() + BOUND;
        loop {
            let generation = client
                .get(format!("http://127.0.0.1:{}/health", self.port))
                .send()
                .await
                .ok()
                .and_then(|r| {
                    r.headers()
                        .get("x-nginx-config")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u32>().ok())
                });
            if generation == Some(GENERATION) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not reload within {BOUND:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
