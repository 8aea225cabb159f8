//! The caller, from the bearer token: [`Authed`], confirmed by the database before the
//! handler runs, and [`Claimed`], the token's word, for the routes whose one statement checks
//! the caller itself.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use service::auth::Caller;

use crate::error::ApiError;
use crate::state::AppState;

/// The caller, authenticated by a bearer token (its user, and its session still alive), and
/// then `T` extracted from the rest of the request. Authentication, the user's look-up
/// included, is awaited before `T` is even looked at, so a request with no token is 401
/// however bad its path, query or body (the contract's order: 401, then 422, 404, 403).
pub struct Authed<T = ()>(pub Caller, pub T);

impl<T> FromRequest for Authed<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            // 401 first: authentication_is_checked_before_anything_else_about_the_request.
            let state = state(&req)?;
            let claimed = claimed(&req, state)?;
            let caller = service::auth::confirm(&state.db, &claimed)
                .await
                .map_err(ApiError::from)?;
            let rest = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Authed(caller, rest))
        })
    }
}

/// A caller as a verified bearer token claims it, and then `T` extracted from the rest of the
/// request; whether its user and session still exist is left to the statement that does the
/// route's work (`service::auth::Claimed`), so that the request is one round trip. The order
/// of the contract holds: a token that does not verify is 401 before `T` is looked at, and
/// when `T` is refused (422) the database is asked first whether the caller may act at all
/// (401 if not). The service functions that take a `Claimed` answer 401 before their 404 or
/// 403 the same way.
pub struct Claimed<T = ()>(pub service::auth::Claimed, pub T);

impl<T> FromRequest for Claimed<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = state(&req)?;
            let claimed = claimed(&req, state)?;
            match T::from_request(&req, &mut payload).await {
                Ok(rest) => Ok(Claimed(claimed, rest)),
                Err(refused) => {
                    service::auth::confirm(&state.db, &claimed)
                        .await
                        .map_err(ApiError::from)?;
                    Err(refused.into())
                }
            }
        })
    }
}

fn state(req: &HttpRequest) -> Result<&Data<AppState>, ApiError> {
    req.app_data::<Data<AppState>>()
        .ok_or_else(|| service::Error::Internal("application state missing".into()).into())
}

/// What the `Authorization: Bearer <token>` credentials claim, if the token verifies.
fn claimed(req: &HttpRequest, state: &AppState) -> Result<service::auth::Claimed, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::NotAuthenticated)?;
    // As FastAPI's OAuth2PasswordBearer: the scheme is case-insensitive; "Bearer" with
    // nothing after it is a bad token, not a missing one.
    let (scheme, token) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::NotAuthenticated);
    }
    Ok(service::auth::Claimed::from_token(
        &state.auth,
        token.trim(),
    )?)
}
