//! Conditional requests (RFC 9110 §13): strong entity tags of the exact response bytes,
//! `If-None-Match` → 304 on the cacheable GETs, and the `If-Match` of writes.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// What the cacheable GETs answer: the client may keep the representation, and must
/// revalidate it (with its ETag) before using it again; no shared cache keeps it.
pub const CACHE_CONTROL: &str = "private, no-cache";

/// The strong ETag of `bytes`: the first 16 bytes of their SHA-256, in hex, quoted.
pub fn tag_of(bytes: &[u8]) -> String {
    tag_with(bytes, &[])
}

/// The strong ETag of `bytes` with `headers`, the values of header fields that belong to the
/// representation (a list's `Link` and `X-Total-Count`): it changes when any of them does.
fn tag_with(bytes: &[u8], headers: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    for value in headers {
        // NUL is in no JSON text and no header value: each part ends where it seems to.
        hasher.update([0]);
        hasher.update(value.as_bytes());
    }
    let digest = hasher.finalize();
    let mut tag = String::with_capacity(34);
    tag.push('"');
    tag.push_str(&hex::encode(&digest[..16]));
    tag.push('"');
    tag
}

/// The JSON bytes of `value`, as every response writes them.
///
/// # Errors
/// Serialization failure (never, for the DTOs): a 500.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| service::Error::Internal(e.to_string()).into())
}

/// The entity tags of one header's value(s): `*` as `Star`, else each tag as sent (`W/`
/// kept). Malformed members are kept too: they simply match nothing.
enum Tags<'a> {
    Star,
    List(Vec<&'a str>),
}

fn tags<'a>(req: &'a HttpRequest, name: header::HeaderName) -> Option<Tags<'a>> {
    let mut list = Vec::new();
    let mut any = false;
    for value in req.headers().get_all(name) {
        any = true;
        // Not visible ASCII: a list that matches nothing.
        let Ok(value) = value.to_str() else { continue };
        for member in split_tags(value) {
            if member == "*" {
                return Some(Tags::Star);
            }
            list.push(member);
        }
    }
    any.then_some(Tags::List(list))
}

/// The members of an entity-tag list. Commas may appear inside a quoted tag, so the split
/// follows the quotes.
fn split_tags(value: &str) -> Vec<&str> {
    let mut members = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                members.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(value[start..].trim());
    members.retain(|m| !m.is_empty());
    members
}

/// Weak comparison (RFC 9110 §13.1.2): the opaque tags are equal, `W/` or not.
fn weak_match(sent: &str, tag: &str) -> bool {
    sent.strip_prefix("W/").unwrap_or(sent) == tag
}

/// Whether `If-None-Match` names `tag` (or is `*`): the client's copy is current.
fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    match tags(req, header::IF_NONE_MATCH) {
        None => false,
        Some(Tags::Star) => true,
        Some(Tags::List(list)) => list.iter().any(|sent| weak_match(sent, tag)),
    }
}

/// A write's `If-Match`: `None` when absent or `*` (the write goes ahead as without it), else
/// the tags the current representation must have one of, compared strongly (RFC 9110
/// §13.1.1: a weak tag never matches).
pub fn if_match(req: &HttpRequest) -> Option<Vec<String>> {
    match tags(req, header::IF_MATCH)? {
        Tags::Star => None,
        Tags::List(list) => Some(
            list.into_iter()
                .filter(|t| !t.starts_with("W/"))
                .map(str::to_owned)
                .collect(),
        ),
    }
}

/// A cacheable GET's answer: 200 with `body` as JSON, its ETag and [`CACHE_CONTROL`], or
/// 304 with the same headers and no body when `If-None-Match` names its tag. `res` may carry
/// headers of its own already (they go on the 200 only): those whose values are part of what
/// the client keeps go in `in_tag` too, so that a 304 also says they have not changed.
pub fn cached_json(
    req: &HttpRequest,
    mut res: HttpResponseBuilder,
    body: Vec<u8>,
    in_tag: &[&str],
) -> HttpResponse {
    let tag = tag_with(&body, in_tag);
    if not_modified(req, &tag) {
        return HttpResponse::build(StatusCode::NOT_MODIFIED)
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .finish();
    }
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .content_type("application/json")
        .body(body)
}

/// [`cached_json`] of `value`, with status 200.
///
/// # Errors
/// Serialization failure (never, for the DTOs).
pub fn ok_cached<T: Serialize>(req: &HttpRequest, value: &T) -> Result<HttpResponse, ApiError> {
    Ok(cached_json(
        req,
        HttpResponse::Ok(),
        json_bytes(value)?,
        &[],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn tags_split_on_commas_outside_quotes() {
        assert_eq!(
            split_tags(r#""a", W/"b,c" ,"d""#),
            vec![r#""a""#, r#"W/"b,c""#, r#""d""#]
        );
        assert_eq!(split_tags(" , "), Vec::<&str>::new());
    }

    /// The tag's form is kept across releases: a client's stored tag still matches.
    #[test]
    fn tags_are_the_first_16_bytes_of_the_sha256_in_lowercase_hex_quoted() {
        assert_eq!(tag_of(b"{}"), r#""44136fa355b3678a1146ad16f7e8649e""#);
    }

    #[test]
    fn if_none_match_compares_weakly_and_star_matches() {
        let tag = tag_of(b"{}");
        let req = |v: &str| {
            TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, v))
                .to_http_request()
        };
        assert!(not_modified(&req(&tag), &tag));
        assert!(not_modified(&req(&format!("W/{tag}")), &tag));
        assert!(not_modified(&req(&format!(r#""x", {tag}"#)), &tag));
        assert!(not_modified(&req("*"), &tag));
        assert!(!not_modified(&req(r#""x""#), &tag));
        assert!(!not_modified(
            &TestRequest::default().to_http_request(),
            &tag
        ));
    }

    #[test]
    fn if_match_star_or_absent_is_unconditional_and_weak_tags_never_match() {
        let req = |v: &str| {
            TestRequest::default()
                .insert_header((header::IF_MATCH, v))
                .to_http_request()
        };
        assert_eq!(if_match(&TestRequest::default().to_http_request()), None);
        assert_eq!(if_match(&req("*")), None);
        assert_eq!(
            if_match(&req(r#"W/"a", "b""#)),
            Some(vec![r#""b""#.to_owned()])
        );
        assert_eq!(if_match(&req("garbage")), Some(vec!["garbage".to_owned()]));
    }
}
