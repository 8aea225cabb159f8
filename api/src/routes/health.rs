//! `/`, `/health` and `/ready`.

use actix_web::web::{Data, Json};
use actix_web::{HttpResponse, get, http::header};

use crate::dto::{ErrorBody, Message, Status};
use crate::error::ApiError;
use crate::state::AppState;

/// Greets; proves the server answers.
#[utoipa::path(
    tag = "Root",
    operation_id = "root",
    responses((status = 200, description = "Hello", body = Message,
        example = json!({"message": "Hello World"})))
)]
#[get("/")]
pub(super) async fn root() -> Json<Message> {
    Json(Message {
        message: "Hello World",
    })
}

/// Liveness: the process is up. Touches no database.
#[utoipa::path(
    tag = "Health",
    operation_id = "health",
    responses((status = 200, description = "The process is up", body = Status))
)]
#[get("/health")]
pub(super) async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Status { status: "ok" })
}

/// Readiness: the database answers and can be written, and the server is not shutting down.
#[utoipa::path(
    tag = "Health",
    operation_id = "ready",
    responses(
        (status = 200, description = "The database answers and can be written", body = Status),
        (status = 503, description = "database unavailable (with Retry-After): it does not answer, or cannot be written (read-only; on SQLite, the file deleted, replaced or not writable); or shutting down: draining after SIGTERM", body = ErrorBody,
            headers(("Retry-After" = String, description = "Seconds to wait (database unavailable only)"))),
    )
)]
#[get("/ready")]
pub(super) async fn ready(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::ShuttingDown);
    }
    state.db.ready().await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Status { status: "ok" }))
}
