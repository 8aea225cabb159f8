//! `/login`: the OAuth2 password flow.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, http::header, post};
use service::auth::LoginAttempt;

use crate::dto::{ErrorBody, LoginForm, Token, ValidationErrorBody};
use crate::error::ApiError;
use crate::extract::Form;
use crate::state::AppState;

/// Exchanges email (as `username`) and password for an access token.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "login",
    request_body(content(
        (LoginForm = "application/x-www-form-urlencoded"),
        (LoginForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Logged in", body = Token),
        (status = 403, description = "Invalid Credentials", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 429, description = "too many login attempts", body = ErrorBody,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 503, description = "database unavailable", body = ErrorBody),
    )
)]
#[post("/login")]
pub(super) async fn login(
    state: Data<AppState>,
    req: HttpRequest,
    form: Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let Form(form) = form;
    let attempt = LoginAttempt {
        username: &form.username,
        password: &form.password,
        // The peer, not X-Forwarded-For: a header would let a client pick its own address.
        client: req.peer_addr().map(|a| a.ip()),
    };
    let token =
        service::auth::login(&state.db, &state.auth, &state.login_throttle, attempt).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Token {
            access_token: token.0,
            token_type: "bearer",
        }))
}
