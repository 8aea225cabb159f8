//! `/posts/`: list, read, write.

use actix_web::guard::GuardContext;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put};
use service::auth::Caller;
use service::posts::{self, PostWithVotes};

use crate::conditional::{self, ok_cached};
use crate::dto::{
    ErrorBody, PostCreate, PostOut, PostPatch, PostWithVotesOut, ValidationErrorBody,
};
use crate::error::ApiError;
use crate::extract::{Authed, Claimed, IdAndBody, IdPath, IdempotencyKey, JsonBody, ListParams};
use crate::idempotent;
use crate::state::AppState;

mod paging;

use paging::{link, wants_count};

/// Keeps `/posts/latest` out of the `/posts/{id}` routes. It is a path of its own, and OpenAPI
/// matches a concrete path before a templated one: `PUT /posts/latest` is 405 with
/// `Allow: GET` (the router's fallback), not a 422 for an `{id}` that is not a number.
fn not_latest(ctx: &GuardContext<'_>) -> bool {
    ctx.head().uri.path() != "/posts/latest"
}

/// Published posts and the caller's own drafts, newest first, with vote counts.
///
/// Page by `skip`, or follow the `Link` header's `next` and `prev` URLs, whose cursors page
/// by keyset: a page reached by cursor never repeats or skips a post, whatever is created or
/// deleted between pages.
#[utoipa::path(
    tag = "Posts",
    operation_id = "list_posts",
    params(
        ("limit" = Option<i64>, Query, minimum = 0, maximum = 100, description = "Page size (default 10)"),
        ("skip" = Option<i64>, Query, minimum = 0, description = "Posts to skip (default 0); not with `cursor`"),
        ("search" = Option<String>, Query, max_length = 200, pattern = "^[^\\u0000]*$",
            description = "Literal, case-insensitive substring of the title"),
        ("cursor" = Option<String>, Query,
            description = "Opaque: a cursor from this list's `Link` header (`rel=\"next\"` or `rel=\"prev\"`), with the same `search`. Not with `skip`; a cursor that is not the server's, or of another search, is 422."),
        ("Prefer" = Option<String>, Header,
            description = "`count=exact`: the total of visible posts matching the search in `X-Total-Count` (counted only when asked)"),
        ("If-None-Match" = Option<String>, Header,
            description = "ETags of copies the client holds (or `*`): 304 with no body when one is the page's"),
    ),
    responses(
        (status = 200, description = "A page of posts", body = Vec<PostWithVotesOut>,
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
                ("Link" = String, description = "RFC 8288: `<url>; rel=\"next\"` when more posts follow, `<url>; rel=\"prev\"` when a page comes before; URLs relative to the host, with the page's `limit` and `search` and a `cursor`"),
                ("X-Total-Count" = i64, description = "With `Prefer: count=exact` only: visible posts matching the search"),
                ("Preference-Applied" = String, description = "`count=exact` when it was"),
            )),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the page's",
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
        (status = 401, description = "Not authenticated / Could not validate credentials", body = ErrorBody),
        (status = 422, description = "Validation error", body = ValidationErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/posts/")]
pub(super) async fn list_posts(
    state: Data<AppState>,
    http: HttpRequest,
    req: Claimed<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, ListParams(query)) = req;
    let page = posts::list_as(&state.db, &who, &query).await?;
    let mut res = HttpResponse::Ok();
    let link = link(&state, http.path(), &query, &page);
    if let Some(link) = &link {
        res.insert_header((header::LINK, link.as_str()));
    }
    let total = if wants_count(&http) {
        Some(
            posts::count(&state.db, who.user_id, &query.search)
                .await?
                .to_string(),
        )
    } else {
        None
    };
    if let Some(total) = &total {
        res.insert_header(("X-Total-Count", total.as_str()))
            .insert_header(("Preference-Applied", "count=exact"));
    }
    let body: Vec<PostWithVotesOut> = page.posts.into_iter().map(Into::into).collect();
    // The links and the count are the client's to keep with the page: the tag covers them.
    let in_tag = [
        link.as_deref().unwrap_or_default(),
        total.as_deref().unwrap_or_default(),
    ];
    Ok(conditional::cached_json(
        &http,
        res,
        conditional::json_bytes(&body)?,
        &in_tag,
    ))
}

/// The strong ETag of `post`'s `GET /posts/{id}` representation.
fn tag_of(post: &PostWithVotes) -> Option<String> {
    conditional::json_bytes(&PostWithVotesOut::from(post.clone()))
        .ok()
        .map(|bytes| conditional::tag_of(&bytes))
}

/// Whether `post`'s representation has one of `tags` (strong comparison).
fn tagged(post: &PostWithVotes, tags: &[String]) -> bool {
    tag_of(post).is_some_and(|tag| tags.contains(&tag))
}

/// Writes `changes` to post `id` of the caller's, under the request's `If-Match` if it has one.
async fn write(
    state: &AppState,
    http: &HttpRequest,
    who: &service::auth::Claimed,
    id: i64,
    changes: posts::PostChanges,
) -> Result<HttpResponse, ApiError> {
    // Either way the tag is of the post as the write left it, from the write's own RETURNING.
    let written = match conditional::if_match(http) {
        None => posts::update_as(&state.db, who, id, changes).await?,
        Some(tags) => {
            let caller = service::auth::confirm(&state.db, who).await?;
            let expected = |post: &PostWithVotes| tagged(post, &tags);
            posts::update_if(&state.db, &caller.user, id, changes, &expected).await?
        }
    };
    let mut res = HttpResponse::Ok();
    if let Some(tag) = tag_of(&written) {
        res.insert_header((header::ETAG, tag));
    }
    Ok(res.json(PostOut::from(written.post)))
}

/// The newest post the caller may see.
#[utoipa::path(
    tag = "Posts",
    operation_id = "latest_post",
    params(("If-None-Match" = Option<String>, Header,
        description = "ETags of copies the client holds (or `*`): 304 with no body when one is the current one")),
    responses(
        (status = 200, description = "The newest visible post", body = PostWithVotesOut,
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
        (status = 404, description = "post with id: latest was not found: no visible post", body = ErrorBody),
        (status = 503, description = "database unavailable", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
#[get("/posts/latest")]
pub(super) async fn latest_post(
    state: Data<AppState>,
    http: HttpRequest,
    req: Authed,
) -> Result<HttpResponse, ApiError> {
    let Authed(Caller { user, .. }, ()) = req;
    let post = PostWithVotesOut::from(posts::latest(&state.db, user.id).await?);
    ok_cached(&http, &post)
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
    req: Claimed<(JsonBody<PostCreate>, IdempotencyKey)>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, (JsonBody(body), key)) = req;
    let meaning = format!("{:?} {:?} {}", body.title, body.content, body.published);
    idempotent::run(&state, &who, key.0, ("POST /posts/", &meaning), async {
        let post = posts::create_as(&state.db, &who, body.into()).await?;
        Ok(HttpResponse::Created().json(PostOut::from(post)))
    })
    .await
}

/// One post and its vote count.
#[utoipa::path(
    tag = "Posts",
    operation_id = "get_post",
    params(
        ("id" = i64, Path, minimum = 1, description = "Post id"),
        ("If-None-Match" = Option<String>, Header,
            description = "ETags of copies the client holds (or `*`): 304 with no body when one is the current one"),
    ),
    responses(
        (status = 200, description = "The post", body = PostWithVotesOut,
            headers(
                ("ETag" = String, description = "Strong tag of the body: what `If-Match` names to change or delete this version of the post"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current one",
            headers(
                ("ETag" = String, description = "Strong tag of the body"),
                ("Cache-Control" = String, description = "`private, no-cache`"),
            )),
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
    http: HttpRequest,
    req: Claimed<IdPath>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, IdPath(id)) = req;
    let post = PostWithVotesOut::from(posts::get_as(&state.db, &who, id).await?);
    ok_cached(&http, &post)
}

/// Replaces a post of the caller's; a left-out `published` becomes true.
#[utoipa::path(
    tag = "Posts",
    operation_id = "replace_post",
    params(
        ("id" = i64, Path, minimum = 1, description = "Post id"),
        ("If-Match" = Option<String>, Header,
            description = "ETags of `GET /posts/{id}` (strong comparison): unless the post is still one of them, nothing is done and the answer is 412. `*` or no header: unconditional."),
    ),
    request_body = PostCreate,
    responses(
        (status = 200, description = "Replaced", body = PostOut,
            headers(("ETag" = String, description = "Strong tag of the post's `GET /posts/{id}` representation after the write"))),
        (status = 412, description = "the post has changed since the If-Match tag was made", body = ErrorBody),
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
    http: HttpRequest,
    req: Claimed<IdAndBody<PostCreate>>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, IdAndBody(id, body)) = req;
    write(&state, &http, &who, id, body.into()).await
}

/// Changes some fields of a post of the caller's; `{}` changes nothing.
#[utoipa::path(
    tag = "Posts",
    operation_id = "patch_post",
    params(
        ("id" = i64, Path, minimum = 1, description = "Post id"),
        ("If-Match" = Option<String>, Header,
            description = "ETags of `GET /posts/{id}` (strong comparison): unless the post is still one of them, nothing is done and the answer is 412. `*` or no header: unconditional."),
    ),
    request_body = PostPatch,
    responses(
        (status = 200, description = "Updated", body = PostOut,
            headers(("ETag" = String, description = "Strong tag of the post's `GET /posts/{id}` representation after the write"))),
        (status = 412, description = "the post has changed since the If-Match tag was made", body = ErrorBody),
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
    http: HttpRequest,
    req: Claimed<IdAndBody<PostPatch>>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, IdAndBody(id, body)) = req;
    write(&state, &http, &who, id, body.into()).await
}

/// Deletes a post of the caller's, and its votes.
#[utoipa::path(
    tag = "Posts",
    operation_id = "delete_post",
    params(
        ("id" = i64, Path, minimum = 1, description = "Post id"),
        ("If-Match" = Option<String>, Header,
            description = "ETags of `GET /posts/{id}` (strong comparison): unless the post is still one of them, nothing is done and the answer is 412. `*` or no header: unconditional."),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "the post has changed since the If-Match tag was made", body = ErrorBody),
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
    http: HttpRequest,
    req: Claimed<IdPath>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(who, IdPath(id)) = req;
    match conditional::if_match(&http) {
        None => posts::delete_as(&state.db, &who, id).await?,
        Some(tags) => {
            let caller = service::auth::confirm(&state.db, &who).await?;
            let expected = |post: &PostWithVotes| tagged(post, &tags);
            posts::delete_if(&state.db, &caller.user, id, &expected).await?;
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
