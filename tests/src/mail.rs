//! A real SMTP server on loopback for the tests to receive mail: [`MailSink`], built on
//! `mogimail` (an embedded test SMTP server with no dependencies of its own). A test server
//! gets its `SMTP_URL` from [`MailSink::url`], and the test reads what arrived with
//! [`MailSink::next_for`].
//!
//! mogimail serves one connection at a time, on a thread of its own that lives as long as
//! the test process (it has no way to stop); the server sends each message on a connection of
//! its own (lettre without a pool), so connections queue briefly and none is held open. It
//! also drops blank lines inside a message, so [`Mail::token`] looks for the token by its
//! shape, not by its place.

use std::net::TcpListener;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long [`MailSink::next_for`] waits for a message.
const WAIT: Duration = Duration::from_secs(10);

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// Headers and body, as sent (without the blank lines, see the module's doc).
    pub data: String,
}

impl Mail {
    /// The `Subject:` header.
    pub fn subject(&self) -> &str {
        self.data
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or("")
    }

    /// The one token in the message: a line of exactly 43 base64url characters (256 bits).
    /// Panics, showing the message, unless there is exactly one.
    pub fn token(&self) -> String {
        let tokens: Vec<&str> = self
            .data
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.len() == 43
                    && l.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            })
            .collect();
        assert_eq!(tokens.len(), 1, "one token in the mail:\n{}", self.data);
        tokens[0].to_owned()
    }
}

/// An SMTP server on 127.0.0.1 that keeps every message it gets for the test to read.
pub struct MailSink {
    port: u16,
    received: Mutex<Receiver<mogimail::Email>>,
    /// Received, not yet asked for (another recipient's, while waiting for one).
    held: Mutex<Vec<Mail>>,
}

impl MailSink {
    /// Starts the server on a free port.
    pub fn start() -> MailSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mail sink");
        let port = listener.local_addr().expect("mail sink address").port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = mogimail::SmtpServer::new("mail-sink.test").start_with_listener(listener, tx);
        });
        MailSink {
            port,
            received: Mutex::new(rx),
            held: Mutex::new(Vec::new()),
        }
    }

    /// `smtp://127.0.0.1:<port>`: plain SMTP, no credentials.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next message to `to` (in the order they arrived); panics after 10 s without one.
    pub async fn next_for(&self, to: &str) -> Mail {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(mail) = self.take(to) {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "no mail for {to} within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asserts that no message for `to` arrives within `wait`.
    pub async fn assert_none_for(&self, to: &str, wait: Duration) {
        tokio::time::sleep(wait).await;
        if let Some(mail) = self.take(to) {
            panic!("unexpected mail for {to}:\n{}", mail.data);
        }
    }

    /// Every message received so far, for any recipient, taken.
    pub fn drain(&self) -> Vec<Mail> {
        self.collect();
        std::mem::take(&mut *self.held.lock().expect("held mail"))
    }

    /// The first held message to `to`, after collecting what has arrived.
    fn take(&self, to: &str) -> Option<Mail> {
        self.collect();
        let mut held = self.held.lock().expect("held mail");
        let at = held.iter().position(|m| m.to.iter().any(|r| r == to))?;
        Some(held.remove(at))
    }

    fn collect(&self) {
        let received = self.received.lock().expect("mail receiver");
        let mut held = self.held.lock().expect("held mail");
        while let Ok(email) = received.try_recv() {
            held.push(Mail {
                to: email.to,
                data: email.data,
            });
        }
    }
}
