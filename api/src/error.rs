//! `ApiError`: every way a request can fail, and the one place that turns a failure into the
//! contract's status code and `{"detail": ...}` body.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use service::domain::Invalid;

use crate::dto::{ErrorBody, ValidationErrorBody};

/// One step of a validation error's location: a key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Loc {
    Key(String),
    Index(usize),
}

impl From<&str> for Loc {
    fn from(s: &str) -> Self {
        Loc::Key(s.to_owned())
    }
}

/// One problem with the input, in pydantic v2's shape (`input` is left out on purpose: it
/// may be a password).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// pydantic v2's error type, e.g. `missing`, `int_parsing`, `string_too_long`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `"body"`, `"query"` or `"path"`, then the field.
    #[schema(example = json!(["body", "title"]))]
    pub loc: Vec<Loc>,
    /// What is wrong, for people.
    pub msg: String,
    /// The limit broken, e.g. `{"max_length": 300}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ctx: Option<Value>,
}

impl FieldError {
    pub fn new(loc: Vec<Loc>, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            loc,
            msg: msg.into(),
            ctx: None,
        }
    }

    pub fn with_ctx(mut self, key: &str, value: impl Into<Value>) -> Self {
        let mut map = serde_json::Map::new();
        map.insert(key.to_owned(), value.into());
        self.ctx = Some(Value::Object(map));
        self
    }

    /// A domain value that refused its input, at `loc`.
    pub fn invalid(loc: Vec<Loc>, invalid: Invalid) -> Self {
        let err = Self::new(loc, invalid.kind, invalid.message);
        match invalid.ctx {
            Some((key, limit)) => err.with_ctx(key, limit),
            None => err,
        }
    }

    pub fn missing(loc: Vec<Loc>) -> Self {
        Self::new(loc, "missing", "Field required")
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What the service refused, or its database failure.
    #[error(transparent)]
    Service(#[from] service::Error),
    /// 401: no `Authorization: Bearer` header.
    #[error("Not authenticated")]
    NotAuthenticated,
    /// 422: the input does not fit, one entry per problem.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 413: the body is over the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 400: the body could not be read (broken chunked encoding, bad multipart framing).
    #[error("invalid request body")]
    BadPayload,
    /// 404: no route has this path.
    #[error("Not Found")]
    NoRoute,
    /// 405: the path exists, the method does not; the methods that do.
    #[error("Method Not Allowed")]
    MethodNotAllowed(String),
}

impl ApiError {
    pub fn validation(err: FieldError) -> Self {
        ApiError::Validation(vec![err])
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        use service::Error as S;
        match self {
            ApiError::Service(e) => match e {
                S::UserNotFound(_) | S::PostNotFound(_) | S::NoVisiblePost | S::VoteNotFound => {
                    StatusCode::NOT_FOUND
                }
                S::Forbidden | S::InvalidCredentials => StatusCode::FORBIDDEN,
                S::EmailTaken | S::AlreadyVoted { .. } => StatusCode::CONFLICT,
                S::InvalidToken => StatusCode::UNAUTHORIZED,
                S::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                S::Unavailable(_) | S::StorageFailure(_) => StatusCode::SERVICE_UNAVAILABLE,
                S::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
                S::Db(_) | S::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::NotAuthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadPayload => StatusCode::BAD_REQUEST,
            ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        if let ApiError::Validation(errors) = self {
            return res.json(ValidationErrorBody {
                detail: errors.clone(),
            });
        }
        let detail = match self {
            ApiError::Service(service::Error::Unavailable(e)) => {
                log::warn!("database unavailable: {e}");
                res.insert_header((header::RETRY_AFTER, "1"));
                "database unavailable".to_owned()
            }
            // Storage needs an operator, so these are errors, not warnings.
            ApiError::Service(service::Error::StorageFailure(e)) => {
                log::error!("database storage failure: {e}");
                res.insert_header((header::RETRY_AFTER, "1"));
                "database unavailable".to_owned()
            }
            ApiError::Service(service::Error::StorageFull(e)) => {
                log::error!("database storage full: {e}");
                "insufficient storage".to_owned()
            }
            _ if status.is_server_error() => {
                log::error!("internal server error: {}", error_chain(self));
                "internal server error".to_owned()
            }
            other => other.to_string(),
        };
        match self {
            ApiError::NotAuthenticated | ApiError::Service(service::Error::InvalidToken) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed(allow) => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::Service(service::Error::TooManyAttempts { retry_after_secs }) => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        res.json(ErrorBody { detail })
    }
}

/// The error and all its sources, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
