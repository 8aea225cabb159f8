//! `/users/`: registration and look-ups.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, http::header, post};

use crate::dto::{ErrorBody, UserCreate, UserOut, ValidationErrorBody};
use crate::error::ApiError;
use crate::extract::{Authed, IdPath, JsonBody};
use crate::state::AppState;

fn user_response(status: actix_web::http::StatusCode, user: service::users::User) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserOut::from(user))
}

/// Registers a user.
#[utoipa::path(
    tag = "Users",
    operation_id = "create_user",
    request_body = UserCreate,
    responses(
        (status = 201, description = "Registered", body = UserOut),
        (status = 409, description = "email already registered", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    )
)]
#[post("/users/")]
pub(super) async fn create_user(
    state: Data<AppState>,
    body: JsonBody<UserCreate>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody(body) = body;
    let user = service::users::register(&state.db, &state.auth, body.email, body.password).await?;
    Ok(user_response(actix_web::http::StatusCode::CREATED, user))
}

/// The caller's own account.
#[utoipa::path(
    tag = "Users",
    operation_id = "read_current_user",
    responses(
        (status = 200, description = "The caller", body = UserOut),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/users/me")]
pub(super) async fn me(req: Authed) -> HttpResponse {
    let Authed(user, ()) = req;
    user_response(actix_web::http::StatusCode::OK, user)
}

/// A user by id.
#[utoipa::path(
    tag = "Users",
    operation_id = "get_user",
    params(("id" = i64, Path, minimum = 1, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserOut),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 404, description = "user with id: {id} was not found", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/users/{id}")]
pub(super) async fn get_user(
    state: Data<AppState>,
    req: Authed<IdPath>,
) -> Result<HttpResponse, ApiError> {
    let Authed(_, IdPath(id)) = req;
    let user = service::users::get(&state.db, id).await?;
    Ok(user_response(actix_web::http::StatusCode::OK, user))
}
