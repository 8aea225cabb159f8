//! The server as a process, for the `api` crate's tests of the binary: started with a clean
//! environment, its output captured, stopped with SIGTERM, and spoken to over HTTP from a
//! plain `#[test]`.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use reqwest::{Client, RequestBuilder};

use crate::scratch::block_on;

/// The server binary at `binary` (the caller's `env!("CARGO_BIN_EXE_api")`: only `api`'s own
/// integration tests know it), to run in `dir` with nothing inherited but `PATH`: no variable
/// of the test's environment and no `.env` of the checkout applies.
pub fn api_binary(binary: impl AsRef<OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// Copies `pipe`'s lines into `log` on a thread of its own, sending the port of a
/// "listening on port N" line.
pub fn capture(
    pipe: impl Read + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    tx: mpsc::Sender<u16>,
) {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = line
                .split("listening on port ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = tx.send(port);
            }
            if let Ok(mut l) = log.lock() {
                l.push(line);
            }
        }
    });
}

/// Sends SIGTERM to `child`.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {} failed", child.id());
}

/// A client for [`send_sync`]: every wait bounded by `bound`, and no connection kept between
/// requests (each runs on a runtime of its own, which takes its connections along when it
/// ends), so each request opens a connection of its own.
pub fn sync_client(bound: Duration) -> Client {
    Client::builder()
        .no_proxy()
        .connect_timeout(bound)
        .timeout(bound)
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client")
}

/// Sends `request` (from a [`sync_client`]) from a synchronous test and reads the whole
/// answer: its status and body, or the error that cut it off.
pub fn send_sync(request: RequestBuilder) -> reqwest::Result<(u16, String)> {
    block_on(async {
        let res = request.send().await?;
        let status = res.status().as_u16();
        Ok((status, res.text().await?))
    })
}
