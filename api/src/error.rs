//! `ApiError`: every way a request can fail, and the one place that turns a failure into the
//! contract's status code and body: `{"detail": "..."}`, or for 422 one pydantic-shaped
//! [`FieldError`] per problem.
//!
//! The wording clients see is written here, next to its status; the service's errors and
//! domain refusals carry only what happened.

use std::borrow::Cow;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use service::domain::{EmailProblem, Invalid, Unit};

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

    pub fn missing(loc: Vec<Loc>) -> Self {
        Self::new(loc, "missing", "Field required")
    }

    /// A domain value that refused its input, at `loc`, in pydantic v2's words (which the
    /// course's clients know).
    pub fn invalid(loc: Vec<Loc>, invalid: Invalid) -> Self {
        // pydantic writes "1 character", "8 bytes".
        let units = |n: usize, unit: Unit| match (n, unit) {
            (1, Unit::Characters) => "character",
            (1, Unit::Bytes) => "byte",
            (_, Unit::Characters) => "characters",
            (_, Unit::Bytes) => "bytes",
        };
        let pattern = "string_pattern_mismatch";
        match invalid {
            Invalid::TooShort { min, unit } => Self::new(
                loc,
                "string_too_short",
                format!("String should have at least {min} {}", units(min, unit)),
            )
            .with_ctx("min_length", min),
            Invalid::TooLong { max, unit } => Self::new(
                loc,
                "string_too_long",
                format!("String should have at most {max} {}", units(max, unit)),
            )
            .with_ctx("max_length", max),
            Invalid::Blank => Self::new(loc, pattern, "String should not be only whitespace"),
            Invalid::Nul => Self::new(loc, pattern, "String should not contain NUL characters"),
            Invalid::NotAnEmail(why) => Self::new(
                loc,
                "value_error",
                format!("value is not a valid email address: {}", email_problem(why)),
            ),
            Invalid::NotAVoteDir => Self::new(loc, "literal_error", "Input should be 0 or 1"),
            Invalid::BelowMin { min } => Self::new(
                loc,
                "greater_than_equal",
                format!("Input should be greater than or equal to {min}"),
            )
            .with_ctx("ge", min),
            Invalid::AboveMax { max } => Self::new(
                loc,
                "less_than_equal",
                format!("Input should be less than or equal to {max}"),
            )
            .with_ctx("le", max),
            Invalid::NotPositive => {
                Self::new(loc, "greater_than", "Input should be greater than 0").with_ctx("gt", 0)
            }
        }
    }
}

/// Why an address was refused, after pydantic's "value is not a valid email address: ".
fn email_problem(why: EmailProblem) -> &'static str {
    match why {
        EmailProblem::TooLong => "the address is too long",
        EmailProblem::NoAt => "an address needs an @",
        EmailProblem::EmptyPart => "an address needs text before and after the @",
        EmailProblem::Dots => {
            "the part before the @ cannot start or end with a dot or have two in a row"
        }
        EmailProblem::AddressLiteral => "address literals are not accepted",
        EmailProblem::NotDotted => "the domain must be a dotted name, like example.com",
        EmailProblem::NumericDomain => "the domain must be a name, not a number",
        EmailProblem::Malformed => "the address is not well formed",
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What the service refused, or its database failure.
    #[error(transparent)]
    Service(#[from] service::Error),
    /// No `Authorization: Bearer` header.
    #[error("no bearer credentials")]
    NotAuthenticated,
    /// The input does not fit, one entry per problem.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The body is over the limit.
    #[error("request body over the limit")]
    PayloadTooLarge,
    /// The body could not be read (broken chunked encoding, bad multipart framing).
    #[error("request body unreadable")]
    BadPayload,
    /// No route has this path.
    #[error("no route for the path")]
    NoRoute,
    /// The path exists, the method does not; the methods that do.
    #[error("method not allowed; allowed: {0}")]
    MethodNotAllowed(String),
}

impl ApiError {
    pub fn validation(err: FieldError) -> Self {
        ApiError::Validation(vec![err])
    }

    /// The status, and the body's `detail`: a text, or the 422 entries. (Long: one arm per
    /// failure, each text beside its status.)
    fn answer(&self) -> (StatusCode, Detail<'_>) {
        use service::Error as S;
        let text = |status, text: &'static str| (status, Detail::Text(Cow::Borrowed(text)));
        let owned = |status, text: String| (status, Detail::Text(Cow::Owned(text)));
        match self {
            ApiError::Service(e) => match e {
                S::UserNotFound(id) => owned(
                    StatusCode::NOT_FOUND,
                    format!("user with id: {id} was not found"),
                ),
                S::PostNotFound(id) => owned(
                    StatusCode::NOT_FOUND,
                    format!("post with id: {id} was not found"),
                ),
                S::NoVisiblePost => {
                    text(StatusCode::NOT_FOUND, "post with id: latest was not found")
                }
                S::VoteNotFound => text(StatusCode::NOT_FOUND, "vote does not exist"),
                S::Forbidden => text(
                    StatusCode::FORBIDDEN,
                    "Not authorized to perform requested action",
                ),
                S::InvalidCredentials => text(StatusCode::FORBIDDEN, "Invalid Credentials"),
                S::EmailTaken => text(StatusCode::CONFLICT, "email already registered"),
                S::AlreadyVoted { user_id, post_id } => owned(
                    StatusCode::CONFLICT,
                    format!("user {user_id} has already voted on post {post_id}"),
                ),
                S::InvalidToken => text(StatusCode::UNAUTHORIZED, "Could not validate credentials"),
                S::TooManyAttempts { .. } => {
                    text(StatusCode::TOO_MANY_REQUESTS, "too many login attempts")
                }
                S::Unavailable(_) | S::StorageFailure(_) => {
                    text(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
                }
                S::StorageFull(_) => text(StatusCode::INSUFFICIENT_STORAGE, "insufficient storage"),
                // Generic on purpose: the details go to the log only.
                S::Db(_) | S::Internal(_) => {
                    text(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
                }
            },
            ApiError::NotAuthenticated => text(StatusCode::UNAUTHORIZED, "Not authenticated"),
            ApiError::Validation(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Detail::Fields(errors))
            }
            ApiError::PayloadTooLarge => text(StatusCode::PAYLOAD_TOO_LARGE, "payload too large"),
            ApiError::BadPayload => text(StatusCode::BAD_REQUEST, "invalid request body"),
            ApiError::NoRoute => text(StatusCode::NOT_FOUND, "Not Found"),
            ApiError::MethodNotAllowed(_) => {
                text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            }
        }
    }

    /// Server-side failures, for the operator: the client gets a generic body.
    fn log(&self, status: StatusCode) {
        match self {
            ApiError::Service(service::Error::Unavailable(e)) => {
                log::warn!("database unavailable: {e}");
            }
            // Storage needs an operator, so these are errors, not warnings.
            ApiError::Service(service::Error::StorageFailure(e)) => {
                log::error!("database storage failure: {e}");
            }
            ApiError::Service(service::Error::StorageFull(e)) => {
                log::error!("database storage full: {e}");
            }
            _ if status.is_server_error() => {
                log::error!("internal server error: {}", error_chain(self));
            }
            _ => {}
        }
    }
}

/// What goes under `detail`.
enum Detail<'a> {
    Text(Cow<'static, str>),
    Fields(&'a [FieldError]),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.answer().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, detail) = self.answer();
        self.log(status);
        let mut res = HttpResponse::build(status);
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
            ApiError::Service(
                service::Error::Unavailable(_) | service::Error::StorageFailure(_),
            ) => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        match detail {
            Detail::Text(detail) => res.json(ErrorBody {
                detail: detail.into_owned(),
            }),
            Detail::Fields(errors) => res.json(ValidationErrorBody {
                detail: errors.to_vec(),
            }),
        }
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
