//! A request whose body arrives in two halves, spoken over a raw `std::net` socket: a client
//! that stops halfway through a body is the point, and no HTTP client does that on purpose.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

use super::{BOUND, post_body};

pub(super) fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, BOUND)?;
    s.set_read_timeout(Some(BOUND))?;
    s.set_write_timeout(Some(BOUND))?;
    Ok(s)
}

pub(super) fn head(
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    len: usize,
    keep_alive: bool,
) -> String {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: {content_type}\r\n\
         Content-Length: {len}\r\nConnection: {connection}\r\n\r\n"
    )
}

/// Reads one response (headers, then `Content-Length` bytes of body): status and body.
pub(super) fn read_response(s: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(ErrorKind::InvalidData)?;
    let len: usize = headers
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[header_end..header_end + len]).into_owned();
    Ok((status, body))
}

/// A POST /posts/ whose body is half sent: the request is in flight until [`finish`] sends
/// the rest. The connection is proved accepted (a request answered on it) before.
pub(super) struct SlowUpload {
    stream: TcpStream,
    rest: Vec<u8>,
    title: String,
}

impl SlowUpload {
    pub(super) fn begin(addr: SocketAddr, token: &str, title: &str) -> Self {
        let mut stream = connect(addr).expect("connect");
        let probe = head("GET", "/health", None, "application/json", 0, true);
        stream.write_all(probe.as_bytes()).expect("send probe");
        let (status, _) = read_response(&mut stream).expect("probe answered");
        assert_eq!(status, 200);
        let body = post_body(title).to_string().into_bytes();
        let head = head(
            "POST",
            "/posts/",
            Some(token),
            "application/json",
            body.len(),
            false,
        );
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).expect("send head");
        stream.write_all(first).expect("send half the body");
        SlowUpload {
            stream,
            rest: rest.to_vec(),
            title: title.to_owned(),
        }
    }

    pub(super) fn finish(mut self) -> Outcome {
        let result = self
            .stream
            .write_all(&self.rest)
            .and_then(|()| read_response(&mut self.stream));
        (self.title, result.map_err(|e| e.to_string()))
    }
}

/// A post's title and what its POST was answered: status and body, or the error that cut it
/// off.
pub(super) type Outcome = (String, Result<(u16, String), String>);
