//! `/vote/`.

use actix_web::web::Data;
use actix_web::{HttpResponse, post};
use service::votes::{self, VoteOutcome};

use crate::dto::{ErrorBody, Message, ValidationErrorBody, VoteIn};
use crate::error::ApiError;
use crate::extract::{Claimed, IdempotencyKey, JsonBody};
use crate::idempotent;
use crate::state::AppState;

/// Adds (`dir: 1`) or removes (`dir: 0`) the caller's vote on a post. With an
/// `Idempotency-Key`, a retry gets the first answer again instead of a 409 or 404.
#[utoipa::path(
    tag = "Vote",
    operation_id = "vote",
    request_body = VoteIn,
    params(("Idempotency-Key" = Option<String>, Header,
        nullable = false,
        pattern = "^([!#-~]{1,255}|\"[!#-~]{1,255}\")$",
        description = "1 to 255 visible ASCII characters (bare, or quoted as the draft writes it). The first response to a key is kept for `IDEMPOTENCY_KEY_TTL_HOURS` and sent again, marked `Idempotent-Replayed: true`, to a repeat of the same request; the same key with another request is 422, and while its first request runs, 409.")),
    responses(
        (status = 201, description = "successfully added vote / successfully deleted vote", body = Message,
            headers(("Idempotent-Replayed" = String, description = "`true` on a response replayed for a repeated Idempotency-Key"))),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 404, description = "post with id: {id} was not found / vote does not exist", body = ErrorBody),
        (status = 409, description = "user {user_id} has already voted on post {post_id} / a request with this Idempotency-Key is still in progress", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[post("/vote/")]
pub(super) async fn vote(
    state: Data<AppState>,
    req: Claimed<(JsonBody<VoteIn>, IdempotencyKey)>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, (JsonBody(vote), key)) = req;
    let meaning = format!("{} {:?}", vote.post_id, vote.dir);
    idempotent::run(&state, &who, key.0, ("POST /vote/", &meaning), async {
        let message = match votes::vote_as(&state.db, &who, vote.post_id, vote.dir).await? {
            VoteOutcome::Added => "successfully added vote",
            VoteOutcome::Removed => "successfully deleted vote",
        };
        Ok(HttpResponse::Created().json(Message { message }))
    })
    .await
}
