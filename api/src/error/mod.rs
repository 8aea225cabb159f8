//! `ApiError`: every way a request can fail, and the one place that turns a failure into the
//! contract's status code and body: `{"detail": "..."}`, or for 422 one pydantic-shaped
//! [`FieldError`] per problem.
//!
//! The wording clients see is written here, each `detail` next to its status (and each 422
//! entry's in [`field`]); the service's errors and domain refusals carry only what happened.

mod field;

use std::borrow::Cow;
use std::sync::LazyLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::dto::{ErrorBody, OAuthErrorBody, ValidationErrorBody};

pub use field::{FieldError, Loc};

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
    /// The body did not all arrive within `REQUEST_BODY_TIMEOUT_SECS`.
    #[error("request body not received in time")]
    BodyTimeout,
    /// No route has this path.
    #[error("no route for the path")]
    NoRoute,
    /// The server is draining after SIGTERM (`/ready` only).
    #[error("shutting down")]
    ShuttingDown,
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
                S::SessionNotFound(id) => owned(
                    StatusCode::NOT_FOUND,
                    format!("session with id: {id} was not found"),
                ),
                S::NoVisiblePost => {
                    text(StatusCode::NOT_FOUND, "post with id: latest was not found")
                }
                S::VoteNotFound => text(StatusCode::NOT_FOUND, "vote does not exist"),
                S::PreconditionFailed => text(
                    StatusCode::PRECONDITION_FAILED,
                    "the post has changed since the If-Match tag was made",
                ),
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
                S::InvalidGrant => (StatusCode::BAD_REQUEST, Detail::OAuth(INVALID_GRANT)),
                S::IdempotencyKeyReused => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Detail::Fields(std::slice::from_ref(&*KEY_REUSED)),
                ),
                S::IdempotencyKeyInProgress => text(
                    StatusCode::CONFLICT,
                    "a request with this Idempotency-Key is still in progress",
                ),
                S::EmailNotVerified => text(StatusCode::FORBIDDEN, "email not verified"),
                S::TooManyAttempts { .. } => {
                    text(StatusCode::TOO_MANY_REQUESTS, "too many login attempts")
                }
                S::InvalidAccountToken => text(StatusCode::BAD_REQUEST, "invalid or expired token"),
                S::TooManyRequests { .. } => {
                    text(StatusCode::TOO_MANY_REQUESTS, "too many requests")
                }
                S::RecoveryDisabled => text(StatusCode::NOT_FOUND, "password recovery is disabled"),
                S::VerificationDisabled => {
                    text(StatusCode::NOT_FOUND, "email verification is disabled")
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
            ApiError::BodyTimeout => text(StatusCode::REQUEST_TIMEOUT, "request timeout"),
            ApiError::NoRoute => text(StatusCode::NOT_FOUND, "Not Found"),
            ApiError::ShuttingDown => text(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
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
                log::error!("internal server error: {}", service::error::chain(self));
            }
            _ => {}
        }
    }
}

/// What goes under `detail`.
enum Detail<'a> {
    Text(Cow<'static, str>),
    Fields(&'a [FieldError]),
    /// An OAuth2 token endpoint error (RFC 6749 §5.2), its code also under `detail`.
    OAuth(OAuthErrorBody),
}

/// A key sent again with another request: a 422 entry at the header, as for a bad key.
static KEY_REUSED: LazyLock<FieldError> = LazyLock::new(|| {
    FieldError::new(
        crate::extract::key_loc(),
        "value_error",
        "Value error, the key was used with another request",
    )
});

/// The refresh grant's one refusal: no reason is told apart, so a stolen token learns nothing.
const INVALID_GRANT: OAuthErrorBody = OAuthErrorBody {
    detail: "invalid_grant",
    error: "invalid_grant",
    error_description: "the refresh token is invalid, expired, used already or of an ended session",
};

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
            // The rest of the body may still be on its way, or (a broken chunked encoding) where
            // it ends is lost: the connection cannot be reused, and actix-http closes it.
            ApiError::BodyTimeout | ApiError::BadPayload => {
                res.force_close();
            }
            ApiError::Service(service::Error::TooManyAttempts {
                retry_after_secs,
                limit,
                window_secs,
            }) => {
                // RFC 9110's Retry-After, and the IETF draft's RateLimit fields
                // (draft-ietf-httpapi-ratelimit-headers): the policy reached, none left.
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()))
                    .insert_header((
                        "RateLimit-Policy",
                        format!("\"login\";q={limit};w={window_secs}"),
                    ))
                    .insert_header(("RateLimit", format!("\"login\";r=0;t={retry_after_secs}")));
            }
            ApiError::Service(service::Error::TooManyRequests {
                policy,
                retry_after_secs,
                limit,
                window_secs,
            }) => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()))
                    .insert_header((
                        "RateLimit-Policy",
                        format!("\"{policy}\";q={limit};w={window_secs}"),
                    ))
                    .insert_header((
                        "RateLimit",
                        format!("\"{policy}\";r=0;t={retry_after_secs}"),
                    ));
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
            Detail::OAuth(body) => res
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(body),
        }
    }
}
