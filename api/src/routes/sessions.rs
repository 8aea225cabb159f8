//! `/users/me/sessions`: the caller's sessions, listed and ended.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, http::header};
use service::auth::Caller;

use crate::dto::{ErrorBody, SessionOut, ValidationErrorBody};
use crate::error::ApiError;
use crate::extract::{Authed, IdPath};
use crate::state::AppState;

/// The caller's live sessions, the most recently used first; `current` marks the one the
/// token belongs to. Never a token.
#[utoipa::path(
    tag = "Sessions",
    operation_id = "list_sessions",
    responses(
        (status = 200, description = "The caller's sessions", body = Vec<SessionOut>),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/users/me/sessions")]
pub(super) async fn list_sessions(
    state: Data<AppState>,
    req: Authed,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, session_id }, ()) = req;
    let sessions = service::sessions::list(&state.db, user.id).await?;
    let body: Vec<SessionOut> = sessions
        .into_iter()
        .map(|s| SessionOut::new(s, session_id))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// Ends every session of the caller, as `POST /logout/all` does.
#[utoipa::path(
    tag = "Sessions",
    operation_id = "end_all_sessions",
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[delete("/users/me/sessions")]
pub(super) async fn end_all_sessions(
    state: Data<AppState>,
    req: Authed,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, ()) = req;
    service::sessions::end_all(&state.db, user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends one of the caller's sessions (a lost phone, say): its tokens are refused from the
/// next request on.
#[utoipa::path(
    tag = "Sessions",
    operation_id = "end_session",
    params(("id" = i64, Path, minimum = 1, description = "Session id")),
    responses(
        (status = 204, description = "Session ended"),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 404, description = "session with id: {id} was not found", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[delete("/users/me/sessions/{id}")]
pub(super) async fn end_session(
    state: Data<AppState>,
    req: Authed<IdPath>,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, IdPath(id)) = req;
    let ended = match i32::try_from(id) {
        Ok(sid) => service::sessions::end(&state.db, user.id, sid).await?,
        Err(_) => false,
    };
    if ended {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(service::Error::SessionNotFound(id).into())
    }
}
