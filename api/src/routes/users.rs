//! `/users/`: registration, look-ups, and the caller's own account (password change,
//! deletion).

use actix_web::guard::GuardContext;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, post, put};
use service::accounts::Confirmation;
use service::auth::Caller;

use super::auth::{client, user_agent};
use crate::conditional::ok_cached;
use crate::dto::{
    AccountDeletion, ErrorBody, PasswordChange, Token, UserCreate, UserOut, ValidationErrorBody,
};
use crate::error::ApiError;
use crate::extract::{Authed, IdPath, JsonBody};
use crate::state::AppState;

fn user_response(status: actix_web::http::StatusCode, user: service::users::User) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserOut::from(user))
}

/// Registers a user. While email verification is required, a verification token is mailed to
/// the address.
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
    let user = service::email::register(
        &state.db,
        &state.auth,
        &state.account_mail,
        body.email,
        body.password,
    )
    .await?;
    Ok(user_response(actix_web::http::StatusCode::CREATED, user))
}

/// The caller's own account.
#[utoipa::path(
    tag = "Users",
    operation_id = "read_current_user",
    params(("If-None-Match" = Option<String>, Header,
        description = "ETags of copies the client holds (or `*`): 304 with no body when one is the current one")),
    responses(
        (status = 200, description = "The caller", body = UserOut,
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current one",
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/users/me")]
pub(super) async fn me(http: HttpRequest, req: Authed) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, ()) = req;
    ok_cached(&http, &UserOut::from(user))
}

/// Keeps `/users/verify` out of `GET /users/{id}`: it is a path of its own (`POST` only), and
/// OpenAPI matches a concrete path before a templated one, so `GET /users/verify` is 405 with
/// `Allow: POST`, not a look-up of a user named "verify".
fn not_verify(ctx: &GuardContext<'_>) -> bool {
    ctx.head().uri.path() != "/users/verify"
}

/// A user by id.
#[utoipa::path(
    tag = "Users",
    operation_id = "get_user",
    params(
        ("id" = i64, Path, minimum = 1, description = "User id"),
        ("If-None-Match" = Option<String>, Header,
            description = "ETags of copies the client holds (or `*`): 304 with no body when one is the current one"),
    ),
    responses(
        (status = 200, description = "The user", body = UserOut,
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current one",
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 404, description = "user with id: {id} was not found", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/users/{id}", guard = "not_verify")]
pub(super) async fn get_user(
    state: Data<AppState>,
    http: HttpRequest,
    req: Authed<IdPath>,
) -> Result<HttpResponse, ApiError> {
    let Authed(_, IdPath(id)) = req;
    let user = service::users::get(&state.db, id).await?;
    ok_cached(&http, &UserOut::from(user))
}

/// Changes the caller's password. Every session ends and every token issued before is refused,
/// this request's too; the answer is a fresh token pair for the caller. A wrong current password
/// counts as a failed login.
#[utoipa::path(
    tag = "Users",
    operation_id = "change_password",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed: the caller's new token pair", body = Token,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 403, description = "Invalid Credentials: the current password is wrong", body = ErrorBody),
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
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[put("/users/me/password")]
pub(super) async fn change_password(
    state: Data<AppState>,
    http: HttpRequest,
    req: Authed<JsonBody<PasswordChange>>,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, JsonBody(body)) = req;
    let confirmation = Confirmation {
        user: &user,
        password: &body.current_password,
        client: client(&http),
    };
    let pair = service::accounts::change_password(
        &state.db,
        &state.auth,
        &state.login_throttle,
        confirmation,
        &body.new_password,
        user_agent(&http),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Token::from(pair)))
}

/// Deletes the caller's account, confirmed by its password, with everything of it: posts,
/// votes, sessions. Its id is never given to anyone else, so its tokens can never act again.
/// A wrong password counts as a failed login.
#[utoipa::path(
    tag = "Users",
    operation_id = "delete_current_user",
    request_body = AccountDeletion,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 403, description = "Invalid Credentials: the password is wrong", body = ErrorBody),
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
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[delete("/users/me")]
pub(super) async fn delete_me(
    state: Data<AppState>,
    http: HttpRequest,
    req: Authed<JsonBody<AccountDeletion>>,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, JsonBody(body)) = req;
    let confirmation = Confirmation {
        user: &user,
        password: &body.password,
        client: client(&http),
    };
    service::accounts::delete(&state.db, &state.auth, &state.login_throttle, confirmation).await?;
    Ok(HttpResponse::NoContent().finish())
}
