//! The `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header): [`IdempotencyKey`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};

use crate::error::{ApiError, FieldError};

/// The longest key kept, in bytes.
pub const MAX_KEY: usize = 255;

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible ASCII characters, bare or
/// as a structured-field string (`"..."`, as the draft writes it; the quotes are not part of
/// the key). Anything else is 422 at `["header", "Idempotency-Key"]`.
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    pub const HEADER: &'static str = "Idempotency-Key";

    fn parse(raw: &[u8]) -> Result<String, FieldError> {
        let text = std::str::from_utf8(raw).unwrap_or("").trim();
        let key = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        let visible = !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic() && b != b'"');
        if !visible {
            return Err(FieldError::new(
                key_loc(),
                "string_pattern_mismatch",
                "String should be 1 to 255 visible ASCII characters",
            ));
        }
        if key.len() > MAX_KEY {
            return Err(FieldError::new(
                key_loc(),
                "string_too_long",
                format!("String should have at most {MAX_KEY} characters"),
            )
            .with_ctx("max_length", MAX_KEY));
        }
        Ok(key.to_owned())
    }
}

/// Where a problem with the key is reported.
pub fn key_loc() -> Vec<crate::error::Loc> {
    super::loc("header", IdempotencyKey::HEADER)
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req.headers().get(Self::HEADER);
        ready(
            match header.map(|v| Self::parse(v.as_bytes())).transpose() {
                Ok(key) => Ok(IdempotencyKey(key)),
                Err(problem) => Err(ApiError::validation(problem)),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_bare_or_quoted() {
        assert_eq!(IdempotencyKey::parse(b"abc-1").unwrap(), "abc-1");
        assert_eq!(IdempotencyKey::parse(b"\"abc-1\"").unwrap(), "abc-1");
        for bad in [&b""[..], b"\"\"", b"a b", b"\xff", b"a\"b"] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_err());
    }
}
