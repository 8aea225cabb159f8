//! A proxy between the server and PostgreSQL that reads what the server sends (the startup
//! parameters, each simple query, and each statement it parses and under which name), and can
//! act as a pooler does with the `options` startup parameter: drop it, or refuse it.
//!
//! It reads the frontend side of the protocol only as far as it needs: the startup message,
//! then messages of one type byte and a length. The URL it is reached by must ask for no TLS
//! (`sslmode=disable`), so there is no TLS request to answer and the bytes are readable.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does with the `options` startup parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Options {
    /// Passes it on, as PostgreSQL gets it directly.
    Pass,
    /// Takes it out of the startup message (PgBouncer's `ignore_startup_parameters = options`).
    Drop,
    /// Answers it as PgBouncer 1.18 does by default: `FATAL unsupported startup parameter`.
    Refuse,
}

/// One thing the server sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// The startup parameters of a connection (name, value).
    Startup(Vec<(String, String)>),
    /// A simple query.
    Query(String),
    /// A statement parsed under a name (empty: the unnamed statement).
    Parse { name: String, sql: String },
    /// The end of an extended-protocol exchange.
    Sync,
}

/// What was sent, each with the number of the connection it came on.
type Log = Arc<Mutex<Vec<(usize, Sent)>>>;

pub(super) struct Wire {
    pub(super) port: u16,
    sent: Log,
    accept: JoinHandle<()>,
}

impl Wire {
    pub(super) async fn start(target: SocketAddr, options: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let sent = Log::default();
        let log = Arc::clone(&sent);
        let accept = tokio::spawn(async move {
            let mut number = 0;
            while let Ok((client, _)) = listener.accept().await {
                number += 1;
                let log = Conn {
                    number,
                    log: Arc::clone(&log),
                };
                tokio::spawn(carry(client, target, options, log));
            }
        });
        Wire { port, sent, accept }
    }

    /// Everything sent so far, in order, each with its connection's number.
    pub(super) fn sent(&self) -> Vec<(usize, Sent)> {
        self.sent.lock().expect("log").clone()
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Carries one connection: the server's answers as they come, what the client sends message
/// by message, noting what it is.
async fn carry(client: TcpStream, target: SocketAddr, options: Options, log: Conn) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let Some(startup) = read_startup(&mut from_client).await else {
        return;
    };
    let params = startup_params(&startup);
    let has_options = params.iter().any(|(k, _)| k == "options");
    log.note(Sent::Startup(params.clone()));
    let startup = match options {
        Options::Refuse if has_options => {
            let _ = to_client.write_all(&refusal()).await;
            return;
        }
        Options::Drop if has_options => {
            startup_message(params.into_iter().filter(|(k, _)| k != "options").collect())
        }
        _ => startup,
    };
    if to_server.write_all(&startup).await.is_err() {
        return;
    }
    let answers = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
    });
    while let Some((kind, message)) = read_message(&mut from_client).await {
        if let Some(sent) = describe(kind, &message[5..]) {
            log.note(sent);
        }
        if to_server.write_all(&message).await.is_err() {
            break;
        }
    }
    answers.abort();
}

/// The log, as one connection writes to it.
struct Conn {
    number: usize,
    log: Log,
}

impl Conn {
    fn note(&self, sent: Sent) {
        if let Ok(mut l) = self.log.lock() {
            l.push((self.number, sent));
        }
    }
}

/// The startup message, whole (length included).
async fn read_startup(from: &mut (impl AsyncReadExt + Unpin)) -> Option<Vec<u8>> {
    let len = from.read_u32().await.ok()?;
    let mut message = len.to_be_bytes().to_vec();
    message.resize(len as usize, 0);
    from.read_exact(&mut message[4..]).await.ok()?;
    Some(message)
}

/// A message's type byte, and the message whole (type and length included).
async fn read_message(from: &mut (impl AsyncReadExt + Unpin)) -> Option<(u8, Vec<u8>)> {
    let kind = from.read_u8().await.ok()?;
    let len = from.read_u32().await.ok()?;
    let mut message = vec![kind];
    message.extend_from_slice(&len.to_be_bytes());
    message.resize(1 + len as usize, 0);
    from.read_exact(&mut message[5..]).await.ok()?;
    Some((kind, message))
}

/// The parameters of a startup message (after its length and protocol version).
fn startup_params(message: &[u8]) -> Vec<(String, String)> {
    let strings: Vec<String> = message[8..]
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    strings
        .chunks(2)
        .filter(|pair| pair.len() == 2 && !pair[0].is_empty())
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

/// A startup message (protocol 3.0) with `params`.
fn startup_message(params: Vec<(String, String)>) -> Vec<u8> {
    let mut body = 196_608_u32.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = u32::try_from(body.len() + 4)
        .expect("short")
        .to_be_bytes()
        .to_vec();
    message.extend(body);
    message
}

/// PgBouncer's answer to a startup parameter it does not know.
fn refusal() -> Vec<u8> {
    let mut fields = Vec::new();
    for (code, text) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "08P01"),
        (b'M', "unsupported startup parameter: options"),
    ] {
        fields.push(code);
        fields.extend_from_slice(text.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(
        &u32::try_from(fields.len() + 4)
            .expect("short")
            .to_be_bytes(),
    );
    message.extend(fields);
    message
}

/// What a frontend message of type `kind` and body `body` is, when it is one of interest.
fn describe(kind: u8, body: &[u8]) -> Option<Sent> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut strings = body.split(|b| *b == 0);
    match kind {
        b'Q' => Some(Sent::Query(text(strings.next()?))),
        b'P' => {
            let name = text(strings.next()?);
            let sql = text(strings.next()?);
            Some(Sent::Parse { name, sql })
        }
        b'S' => Some(Sent::Sync),
        _ => None,
    }
}
