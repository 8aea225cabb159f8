//! `/posts/`: list, read, write.

use actix_web::guard::GuardContext;
use actix_web::web::{Data, Json};
use actix_web::{HttpResponse, delete, get, patch, post, put};
use service::auth::Caller;
use service::posts;

use crate::dto::{
    ErrorBody, PostCreate, PostOut, PostPatch, PostWithVotesOut, ValidationErrorBody,
};
use crate::error::ApiError;
use crate::extract::{Authed, IdAndBody, IdPath, IdempotencyKey, JsonBody, ListParams};
use crate::idempotent;
use crate::state::AppState;

/// Keeps `/posts/latest` out of the `/posts/{id}` routes. It is a path of its own, and OpenAPI
/// matches a concrete path before a templated one: `PUT /posts/latest` is 405 with
/// `Allow: GET` (the router's fallback), not a 422 for an `{id}` that is not a number.
fn not_latest(ctx: &GuardContext<'_>) -> bool {
    ctx.head().uri.path() != "/posts/latest"
}

/// Published posts and the caller's own drafts, newest first, with vote counts.
#[utoipa::path(
    tag = "Posts",
    operation_id = "list_posts",
    params(
        ("limit" = Option<i64>, Query, minimum = 0, maximum = 100, description = "Page size (default 10)"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Posts to skip (default 0)"),
        ("search" = Option<String>, Query, max_length = 200, pattern = "^[^\\u0000]*$",
            description = "Literal, case-insensitive substring of the title"),
    ),
    responses(
        (status = 200, description = "A page of posts", body = Vec<PostWithVotesOut>),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/posts/")]
pub(super) async fn list_posts(
    state: Data<AppState>,
    req: Authed<ListParams>,
) -> Result<Json<Vec<PostWithVotesOut>>, ApiError> {
    let Authed(Caller { user, .. }, ListParams(query)) = req;
    let page = posts::list(&state.db, user.id, &query).await?;
    Ok(Json(page.into_iter().map(Into::into).collect()))
}

/// The newest post the caller may see.
#[utoipa::path(
    tag = "Posts",
    operation_id = "latest_post",
    responses(
        (status = 200, description = "The newest visible post", body = PostWithVotesOut),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 404, description = "No visible post", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/posts/latest")]
pub(super) async fn latest_post(
    state: Data<AppState>,
    req: Authed,
) -> Result<Json<PostWithVotesOut>, ApiError> {
    let Authed(Caller { user, .. }, ()) = req;
    Ok(Json(posts::latest(&state.db, user.id).await?.into()))
}

/// Creates a post owned by the caller. With an `Idempotency-Key`, a retry creates nothing more:
/// it gets the first answer again.
#[utoipa::path(
    tag = "Posts",
    operation_id = "create_post",
    request_body = PostCreate,
    params(("Idempotency-Key" = Option<String>, Header,
        nullable = false,
        pattern = "^([!#-~]{1,255}|\"[!#-~]{1,255}\")$",
        description = "1 to 255 visible ASCII characters (bare, or quoted as the draft writes it). The first response to a key is kept for `IDEMPOTENCY_KEY_TTL_HOURS` and sent again, marked `Idempotent-Replayed: true`, to a repeat of the same request; the same key with another request is 422, and while its first request runs, 409.")),
    responses(
        (status = 201, description = "Created", body = PostOut,
            headers(("Idempotent-Replayed" = String, description = "`true` on a response replayed for a repeated Idempotency-Key"))),
        (status = 409, description = "a request with this Idempotency-Key is still in progress", body = ErrorBody),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[post("/posts/")]
pub(super) async fn create_post(
    state: Data<AppState>,
    req: Authed<JsonBody<PostCreate>>,
    key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, JsonBody(body)) = req;
    let meaning = format!("{:?} {:?} {}", body.title, body.content, body.published);
    idempotent::run(&state, user.id, key.0, ("POST /posts/", &meaning), async {
        let post = posts::create(&state.db, &user, body.into()).await?;
        Ok(HttpResponse::Created().json(PostOut::from(post)))
    })
    .await
}

/// One post and its vote count.
#[utoipa::path(
    tag = "Posts",
    operation_id = "get_post",
    params(("id" = i64, Path, minimum = 1, description = "Post id")),
    responses(
        (status = 200, description = "The post", body = PostWithVotesOut),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 404, description = "post with id: {id} was not found", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/posts/{id}", guard = "not_latest")]
pub(super) async fn get_post(
    state: Data<AppState>,
    req: Authed<IdPath>,
) -> Result<Json<PostWithVotesOut>, ApiError> {
    let Authed(Caller { user, .. }, IdPath(id)) = req;
    Ok(Json(posts::get(&state.db, user.id, id).await?.into()))
}

/// Replaces a post of the caller's; a left-out `published` becomes true.
#[utoipa::path(
    tag = "Posts",
    operation_id = "replace_post",
    params(("id" = i64, Path, minimum = 1, description = "Post id")),
    request_body = PostCreate,
    responses(
        (status = 200, description = "Replaced", body = PostOut),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 403, description = "Not authorized to perform requested action", body = ErrorBody),
        (status = 404, description = "post with id: {id} was not found", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[put("/posts/{id}", guard = "not_latest")]
pub(super) async fn replace_post(
    state: Data<AppState>,
    req: Authed<IdAndBody<PostCreate>>,
) -> Result<Json<PostOut>, ApiError> {
    let Authed(Caller { user, .. }, IdAndBody(id, body)) = req;
    let post = posts::update(&state.db, &user, id, body.into()).await?;
    Ok(Json(post.into()))
}

/// Changes some fields of a post of the caller's; `{}` changes nothing.
#[utoipa::path(
    tag = "Posts",
    operation_id = "patch_post",
    params(("id" = i64, Path, minimum = 1, description = "Post id")),
    request_body = PostPatch,
    responses(
        (status = 200, description = "Updated", body = PostOut),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 403, description = "Not authorized to perform requested action", body = ErrorBody),
        (status = 404, description = "post with id: {id} was not found", body = ErrorBody),
        (status = 413, description = "payload too large", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[patch("/posts/{id}", guard = "not_latest")]
pub(super) async fn patch_post(
    state: Data<AppState>,
    req: Authed<IdAndBody<PostPatch>>,
) -> Result<Json<PostOut>, ApiError> {
    let Authed(Caller { user, .. }, IdAndBody(id, body)) = req;
    let post = posts::update(&state.db, &user, id, body.into()).await?;
    Ok(Json(post.into()))
}

/// Deletes a post of the caller's, and its votes.
#[utoipa::path(
    tag = "Posts",
    operation_id = "delete_post",
    params(("id" = i64, Path, minimum = 1, description = "Post id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 403, description = "Not authorized to perform requested action", body = ErrorBody),
        (status = 404, description = "post with id: {id} was not found", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
        (status = 507, description = "insufficient storage: the database's disk is full", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[delete("/posts/{id}", guard = "not_latest")]
pub(super) async fn delete_post(
    state: Data<AppState>,
    req: Authed<IdPath>,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, IdPath(id)) = req;
    posts::delete(&state.db, &user, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
