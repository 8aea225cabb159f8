//! Extractors: they turn a request into validated input or into the contract's error.
//!
//! None of them ever answers with actix's plain-text 400/415: every failure is an
//! [`ApiError`]. Authentication comes first, whatever else is wrong with the request
//! ([`Authed`]).

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use service::domain::SearchTerm;
use service::posts::ListQuery;
use service::users::User;

use crate::error::{ApiError, FieldError, Loc};
use crate::input::{FromJson, from_value};
use crate::state::AppState;

/// Largest request body accepted, in bytes (64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

fn state(req: &HttpRequest) -> Result<Data<AppState>, ApiError> {
    req.app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| service::Error::Internal("application state missing".into()).into())
}

/// The caller, authenticated by a bearer token, and then `T` extracted from the rest of the
/// request. Authentication is awaited before `T` is even looked at, so a request with no token
/// is 401 however bad its body (the contract's order: 401, then 422, 404, 403).
pub struct Authed<T = ()>(pub User, pub T);

impl<T> FromRequest for Authed<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let user = authenticate(&req).await?;
            let rest = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Authed(user, rest))
        })
    }
}

/// The `Authorization: Bearer <token>` credentials' user.
async fn authenticate(req: &HttpRequest) -> Result<User, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::NotAuthenticated)?;
    // As FastAPI's OAuth2PasswordBearer: the scheme is case-insensitive; "Bearer" with
    // nothing after it is a bad token, not a missing one.
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::NotAuthenticated);
    }
    let state = state(req)?;
    let user_id = state.auth.verify(token.trim())?;
    service::users::find(&state.db, user_id)
        .await?
        .ok_or(service::Error::InvalidToken.into())
}

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes.
async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<BytesMut, ApiError> {
    if content_length(req).is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadPayload)?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The declared `Content-Length`, if any and readable.
pub fn content_length(req: &impl HttpMessage) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The media type, lower-cased, without parameters; `None` when there is no header.
fn media_type(req: &HttpRequest) -> Option<String> {
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

fn body_error(kind: &str, msg: &str) -> ApiError {
    ApiError::validation(FieldError::new(vec![Loc::from("body")], kind, msg))
}

/// A JSON body read into `T`, strictly typed, every problem reported at once (422).
pub struct JsonBody<T>(pub T);

impl<T: FromJson + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            if body.is_empty() {
                return Err(ApiError::validation(FieldError::missing(vec![Loc::from(
                    "body",
                )])));
            }
            // Like FastAPI: no Content-Type is read as JSON; any other type is not JSON.
            if let Some(media) = media_type(&req)
                && media != "application/json"
                && !(media.starts_with("application/") && media.ends_with("+json"))
            {
                return Err(body_error(
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from",
                ));
            }
            // A UTF-8 byte-order mark is not JSON, but Python's json (FastAPI) skips it.
            let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::validation(
                    FieldError::new(
                        vec![Loc::from("body"), Loc::Index(byte_offset(body, &e))],
                        "json_invalid",
                        "JSON decode error",
                    )
                    .with_ctx("error", e.to_string()),
                )
            })?;
            from_value(&value)
                .map(JsonBody)
                .map_err(ApiError::Validation)
        })
    }
}

/// Where in `body` a JSON error is, as a byte offset (serde_json reports line and column).
fn byte_offset(body: &[u8], e: &serde_json::Error) -> usize {
    let line_start: usize = body
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (line_start + e.column().saturating_sub(1)).min(body.len())
}

/// A positive 64-bit integer id from the path segment `{id}` (422 otherwise).
pub struct IdPath(pub i64);

impl FromRequest for IdPath {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.match_info().get("id").unwrap_or("");
        std::future::ready(
            parse_int(raw)
                .and_then(|n| {
                    if n >= 1 {
                        Ok(n)
                    } else {
                        Err(FieldError::new(
                            vec![],
                            "greater_than",
                            "Input should be greater than 0",
                        )
                        .with_ctx("gt", 0))
                    }
                })
                .map(IdPath)
                .map_err(|mut e| {
                    e.loc = vec![Loc::from("path"), Loc::from("id")];
                    ApiError::validation(e)
                }),
        )
    }
}

/// The `{id}` path segment and a JSON body, with every problem of both reported at once.
pub struct IdAndBody<T>(pub i64, pub T);

impl<T: FromJson + 'static> FromRequest for IdAndBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let id = IdPath::from_request(req, payload).into_inner();
        let body = JsonBody::<T>::from_request(req, payload);
        Box::pin(async move {
            match (id, body.await) {
                (Ok(IdPath(id)), Ok(JsonBody(body))) => Ok(IdAndBody(id, body)),
                (Err(ApiError::Validation(mut path)), Err(ApiError::Validation(body))) => {
                    path.extend(body);
                    Err(ApiError::Validation(path))
                }
                // A body that could not be read at all (413) outranks a bad id.
                (_, Err(e @ (ApiError::PayloadTooLarge | ApiError::BadPayload))) => Err(e),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        })
    }
}

/// A decimal integer that fits 64 bits; the error has no location yet.
fn parse_int(raw: &str) -> Result<i64, FieldError> {
    raw.parse::<i64>().map_err(|e| {
        use std::num::IntErrorKind::{NegOverflow, PosOverflow};
        match e.kind() {
            PosOverflow | NegOverflow => FieldError::new(
                vec![],
                "int_parsing_size",
                "Unable to parse input string as an integer, exceeded maximum size",
            ),
            _ => FieldError::new(
                vec![],
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            ),
        }
    })
}

/// `GET /posts/` query: `limit` 0..=100 (10), `skip` >= 0 (0), `search` up to 200 characters.
/// Unknown parameters are ignored; a repeated one counts by its last value.
pub struct ListParams(pub ListQuery);

impl ListParams {
    pub const DEFAULT_LIMIT: i64 = 10;
    pub const MAX_LIMIT: i64 = 100;
}

impl FromRequest for ListParams {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(list_params(req.query_string()))
    }
}

fn list_params(query: &str) -> Result<ListParams, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let last = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
    let mut errors = Vec::new();
    let mut int = |name: &str, default: i64, max: Option<i64>| -> Option<i64> {
        let Some(raw) = last(name) else {
            return Some(default);
        };
        let loc = vec![Loc::from("query"), Loc::from(name)];
        let checked = parse_int(raw).and_then(|n| {
            if n < 0 {
                Err(FieldError::new(
                    vec![],
                    "greater_than_equal",
                    "Input should be greater than or equal to 0",
                )
                .with_ctx("ge", 0))
            } else if let Some(max) = max.filter(|max| n > *max) {
                Err(FieldError::new(
                    vec![],
                    "less_than_equal",
                    format!("Input should be less than or equal to {max}"),
                )
                .with_ctx("le", max))
            } else {
                Ok(n)
            }
        });
        match checked {
            Ok(n) => Some(n),
            Err(mut e) => {
                e.loc = loc;
                errors.push(e);
                None
            }
        }
    };
    let limit = int(
        "limit",
        ListParams::DEFAULT_LIMIT,
        Some(ListParams::MAX_LIMIT),
    );
    let skip = int("skip", 0, None);
    let search = match SearchTerm::parse(last("search").cloned().unwrap_or_default()) {
        Ok(s) => Some(s),
        Err(invalid) => {
            errors.push(FieldError::invalid(
                vec![Loc::from("query"), Loc::from("search")],
                invalid,
            ));
            None
        }
    };
    match (limit, skip, search) {
        (Some(limit), Some(skip), Some(search)) if errors.is_empty() => Ok(ListParams(ListQuery {
            limit: limit.unsigned_abs(),
            skip: skip.unsigned_abs(),
            search,
        })),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// The OAuth2 password form of `POST /login`, urlencoded or multipart.
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl FromRequest for Credentials {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let fields = match media_type(&req).as_deref() {
                Some("multipart/form-data") => read_multipart(&req, payload).await?,
                Some("application/x-www-form-urlencoded") => {
                    let body = read_body(&req, &mut payload).await?;
                    serde_urlencoded::from_bytes(&body).unwrap_or_default()
                }
                // Anything else (JSON included) carries no form fields: each required one is
                // reported missing, as FastAPI does.
                _ => {
                    read_body(&req, &mut payload).await?;
                    Vec::new()
                }
            };
            credentials(&fields)
        })
    }
}

fn credentials(fields: &[(String, String)]) -> Result<Credentials, ApiError> {
    // A repeated field counts by its last value; an empty one counts as missing (FastAPI).
    let get = |name: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let at = |name: &str| vec![Loc::from("body"), Loc::from(name)];
    let mut errors = Vec::new();
    let username = get("username");
    let password = get("password");
    if let Some(grant) = get("grant_type")
        && grant != "password"
    {
        errors.push(
            FieldError::new(
                at("grant_type"),
                "string_pattern_mismatch",
                "String should match pattern '^password$'",
            )
            .with_ctx("pattern", "^password$"),
        );
    }
    for (name, value) in [("username", &username), ("password", &password)] {
        match value {
            None => errors.push(FieldError::missing(at(name))),
            Some(v) if v.contains('\0') => errors.push(FieldError::invalid(
                at(name),
                service::domain::Invalid::Nul,
            )),
            Some(_) => {}
        }
    }
    match (username, password) {
        (Some(username), Some(password)) if errors.is_empty() => {
            Ok(Credentials { username, password })
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

/// The text fields of a multipart form. The whole body is read first, through the same
/// 64 KiB limit as every other body (boundaries and part headers count too).
async fn read_multipart(
    req: &HttpRequest,
    mut payload: Payload,
) -> Result<Vec<(String, String)>, ApiError> {
    let body = read_body(req, &mut payload).await?.freeze();
    // A malformed form (no boundary, broken framing) is wrong input like any other: 422.
    let malformed = |_| body_error("value_error", "Value error, invalid multipart form data");
    let whole = futures_util::stream::once(std::future::ready(Ok(body)));
    let mut form = Multipart::new(req.headers(), whole);
    let mut fields = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(malformed)?);
        }
        fields.push((name, String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_default_and_bounds() {
        let p = list_params("").ok().unwrap().0;
        assert_eq!((p.limit, p.skip, p.search.as_str()), (10, 0, ""));
        let p = list_params("limit=100&skip=5&search=a%25b&limit=0")
            .ok()
            .unwrap()
            .0;
        assert_eq!((p.limit, p.skip, p.search.as_str()), (0, 5, "a%b"));
        for bad in [
            "limit=101",
            "limit=-1",
            "skip=-1",
            "limit=abc",
            "limit=1e3",
            "skip=1.5",
        ] {
            assert!(list_params(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_report_every_missing_field() {
        let Err(ApiError::Validation(errors)) = credentials(&[]) else {
            panic!("expected a validation error");
        };
        assert_eq!(errors.len(), 2);
        let grant = [
            ("username".to_owned(), "a@b.c".to_owned()),
            ("password".to_owned(), "x".to_owned()),
            ("grant_type".to_owned(), "client_credentials".to_owned()),
        ];
        assert!(credentials(&grant).is_err());
    }
}
