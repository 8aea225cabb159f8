//! `/login`: the OAuth2 password flow.

use actix_web::web::Data;
use actix_web::{HttpResponse, http::header, post};

use crate::dto::{ErrorBody, LoginForm, Token, ValidationErrorBody};
use crate::error::ApiError;
use crate::extract::Credentials;
use crate::state::AppState;

/// Exchanges email (as `username`) and password for an access token.
#[utoipa::path(
    tag = "Authentication",
    operation_id = "login",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Logged in", body = Token),
        (status = 403, description = "Invalid Credentials", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    )
)]
#[post("/login")]
async fn login(state: Data<AppState>, form: Credentials) -> Result<HttpResponse, ApiError> {
    let token =
        service::auth::login(&state.db, &state.auth, &form.username, &form.password).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Token {
            access_token: token.0,
            token_type: "bearer",
        }))
}
