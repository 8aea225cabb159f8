//! Running a request under its `Idempotency-Key`: the first response is kept (in the
//! database, by `service::idempotency`) and a repeat of the same request gets it again, marked
//! `Idempotent-Replayed: true`, without running. Responses worth replaying are kept: 2xx and
//! 4xx, which say what the request did or why it never will. A 5xx is not: the key is released
//! so that the client's retry runs again.

use std::future::Future;

use actix_web::body::{MessageBody, to_bytes};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use service::auth::Claimed;
use service::idempotency::{self, Reservation};

use crate::error::ApiError;
use crate::state::AppState;

/// The header that marks a replayed response.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// Runs `request` for the caller `who` claims to be under `key` (if the client sent one), the
/// request being `route` with `meaning` (what it asks, to tell another request under the same
/// key apart). A key is kept under its user, so with one the caller is confirmed first.
///
/// # Errors
/// 401 for a caller who may no longer act (with a key), 422 for a key used with another
/// request, 409 while its first request still runs, and the database's failures; the
/// request's own errors are its response.
pub async fn run<F>(
    state: &AppState,
    who: &Claimed,
    key: Option<String>,
    (route, meaning): (&str, &str),
    request: F,
) -> Result<HttpResponse, ApiError>
where
    F: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = key else {
        return request.await;
    };
    service::auth::confirm(&state.db, who).await?;
    let user_id = who.user_id;
    let fingerprint = idempotency::fingerprint(route, meaning);
    let ttl = state.idempotency_ttl;
    match idempotency::reserve(&state.db, user_id, &key, &fingerprint, ttl).await? {
        Reservation::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .insert_header((REPLAYED, "true"))
                .body(body))
        }
        Reservation::Fresh => {
            let response = request.await.unwrap_or_else(|e| e.error_response());
            let status = response.status();
            if status.is_server_error() {
                if let Err(e) = idempotency::release(&state.db, user_id, &key).await {
                    log::warn!("could not release an idempotency key after a {status}: {e}");
                }
                return Ok(response);
            }
            let (head, body) = response.into_parts();
            let bytes = to_bytes(body.boxed())
                .await
                .map_err(|e| service::Error::Internal(format!("response body: {e}")))?;
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) =
                idempotency::complete(&state.db, user_id, &key, status.as_u16(), &text).await
            {
                // The work is done: answer it. A retry within the lease gets 409, after it
                // runs again.
                log::warn!("could not keep an idempotent response: {e}");
            }
            Ok(head.set_body(bytes).map_into_boxed_body())
        }
    }
}
