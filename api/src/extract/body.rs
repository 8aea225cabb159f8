//! Reading a request body: its size limit and its media type.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;

use crate::error::{ApiError, FieldError, Loc};

/// Largest request body accepted, in bytes (64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// The most a body may take to arrive (`REQUEST_BODY_TIMEOUT_SECS`), as app data.
/// actix-web's own `client_request_timeout` covers the request head only: without this a
/// client that stalls or trickles its body would hold its connection as long as it liked.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(Duration::from_secs(10))
    }
}

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes, or a body that has not all
/// arrived within the [`BodyTimeout`] (408; the connection is then closed).
pub(super) async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<BytesMut, ApiError> {
    if content_length(req).is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let deadline = req.app_data::<BodyTimeout>().copied().unwrap_or_default();
    tokio::time::timeout(deadline.0, async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| ApiError::BadPayload)?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ApiError::PayloadTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
    .await
    .map_err(|_| ApiError::BodyTimeout)?
}

/// The declared `Content-Length`, if any and readable.
pub fn content_length(req: &impl HttpMessage) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The media type, lower-cased, without parameters; `None` when there is no header.
pub(super) fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::CONTENT_TYPE).map(|v| {
        v.to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// A 422 about the body as a whole.
pub(super) fn body_error(kind: &str, msg: &str) -> ApiError {
    ApiError::validation(FieldError::new(vec![Loc::from("body")], kind, msg))
}
