//! Extractors: they turn a request into validated input or into the contract's error.
//!
//! None of them ever answers with actix's plain-text 400/415: every failure is an
//! [`ApiError`](crate::error::ApiError), and a 422 lists every problem at once. Authentication
//! comes first, whatever else is wrong with the request ([`Authed`]). Here is *how* a body,
//! path or query is read; *what* each body holds, and its rules, is declared once in
//! [`crate::dto`] (through [`FromJson`] and [`FromForm`]).

mod auth;
mod body;
mod form;
mod idempotency;
mod json;
mod path;
mod query;
mod switch;

pub use auth::{Authed, Claimed};
pub use body::{BodyTimeout, MAX_BODY, content_length};
pub use form::{Form, FormFields, FromForm};
pub use idempotency::{IdempotencyKey, key_loc};
pub use json::{Fields, FromJson, JsonBody};
pub use path::{IdAndBody, IdPath};
pub use query::ListParams;
pub use switch::{RecoveryOn, VerificationOn};

use service::domain::Invalid;

use crate::error::{FieldError, Loc};

/// A location under `"body"`, `"query"` or `"path"`.
fn loc(place: &str, name: &str) -> Vec<Loc> {
    vec![Loc::from(place), Loc::from(name)]
}

/// A decimal integer that fits 64 bits, then checked by a domain `parse`; refusals are
/// located at `at`.
fn int_then<T>(
    raw: &str,
    at: impl Fn() -> Vec<Loc>,
    parse: impl FnOnce(i64) -> Result<T, Invalid>,
) -> Result<T, FieldError> {
    use std::num::IntErrorKind::{NegOverflow, PosOverflow};
    let n = raw.parse::<i64>().map_err(|e| match e.kind() {
        PosOverflow | NegOverflow => FieldError::new(
            at(),
            "int_parsing_size",
            "Unable to parse input string as an integer, exceeded maximum size",
        ),
        _ => FieldError::new(
            at(),
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    })?;
    parse(n).map_err(|invalid| FieldError::invalid(at(), invalid))
}
