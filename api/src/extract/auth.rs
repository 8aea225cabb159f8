//! The caller, from the bearer token: [`Authed`].

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use service::auth::Caller;

use crate::error::ApiError;
use crate::state::AppState;

/// The caller, authenticated by a bearer token (its user, and its session still alive), and
/// then `T` extracted from the rest of the request. Authentication, the user's look-up included, is awaited before `T` is even looked
/// at, so a request with no token is 401 however bad its path, query or body (the contract's
/// order: 401, then 422, 404, 403).
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
            let caller = authenticate(&req).await?;
            let rest = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Authed(caller, rest))
        })
    }
}

/// The `Authorization: Bearer <token>` credentials' caller.
async fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
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
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or_else(|| service::Error::Internal("application state missing".into()))?;
    Ok(service::auth::authenticate(&state.db, &state.auth, token.trim()).await?)
}
