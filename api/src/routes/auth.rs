//! `/login`: the OAuth2 token endpoint (password and refresh grants); `/logout` and
//! `/logout/all`: ending sessions.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, http::header, post};
use service::auth::{Caller, LoginAttempt};

use crate::dto::{ErrorBody, Grant, LoginForm, OAuthErrorBody, Token, ValidationErrorBody};
use crate::error::ApiError;
use crate::extract::{Authed, Form};
use crate::state::AppState;

/// The client's `User-Agent`, kept with a session it starts.
pub(super) fn user_agent(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// The peer, not X-Forwarded-For: a header would let a client pick its own address.
pub(super) fn client(req: &HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// Exchanges email (as `username`) and password for a token pair, starting a session
/// (`grant_type=password`, the default); or a refresh token for the session's next pair
/// (`grant_type=refresh_token`), retiring it. A refresh token presented a second time ends its
/// session.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "login",
    request_body(content(
        (LoginForm = "application/x-www-form-urlencoded"),
        (LoginForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Logged in, or refreshed", body = Token,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "invalid_grant: the refresh token is unknown, expired, used already, or of an ended session", body = OAuthErrorBody),
        (status = 403, description = "Invalid Credentials; or, while verification is required, email not verified", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many login attempts", body = ErrorBody,
            headers(
                ("Retry-After" = String, description = "Seconds to wait"),
                ("RateLimit-Policy" = String, description = "The limit reached: `\"login\";q=<failures>;w=<window seconds>`"),
                ("RateLimit" = String, description = "What is left of it: `\"login\";r=0;t=<seconds to wait>`"),
            )),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    )
)]
#[post("/login")]
pub(super) async fn login(
    state: Data<AppState>,
    req: HttpRequest,
    form: Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let Form(form) = form;
    let pair = match form.grant {
        Grant::Password { username, password } => {
            let attempt = LoginAttempt {
                username: &username,
                password: &password,
                client: client(&req),
                user_agent: user_agent(&req),
            };
            service::auth::login(&state.db, &state.auth, &state.login_throttle, attempt).await?
        }
        Grant::Refresh(token) => service::sessions::refresh(&state.db, &state.auth, &token).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Token::from(pair)))
}

/// Ends the caller's session: its refresh token and every access token of it are refused
/// from the next request on. With a token minted the course's way (no session), every such
/// token of the caller is refused instead.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "logout",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[post("/logout")]
pub(super) async fn logout(state: Data<AppState>, req: Authed) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, session_id }, ()) = req;
    match session_id {
        Some(sid) => {
            service::sessions::end(&state.db, user.id, sid).await?;
        }
        None => service::sessions::revoke_course_tokens(&state.db, user.id).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of the caller, this one included, and refuses every access token
/// issued before, whoever holds it.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "logout_all",
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[post("/logout/all")]
pub(super) async fn logout_all(
    state: Data<AppState>,
    req: Authed,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, ()) = req;
    service::sessions::end_all(&state.db, user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
