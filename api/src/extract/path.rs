//! The `{id}` path segment: [`IdPath`], alone or with a JSON body ([`IdAndBody`]).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use service::domain::Id;

use super::json::{FromJson, JsonBody};
use crate::error::ApiError;

/// A positive 64-bit integer id from the path segment `{id}` (422 otherwise).
pub struct IdPath(pub i64);

impl FromRequest for IdPath {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.match_info().get("id").unwrap_or("");
        std::future::ready(
            super::int_then(raw, || super::loc("path", "id"), Id::parse)
                .map(|id| IdPath(id.get()))
                .map_err(ApiError::validation),
        )
    }
}

/// The `{id}` path segment and a JSON body, with every problem of both reported at once.
pub struct IdAndBody<T>(pub i64, pub T);

impl<T: FromJson + 'static> FromRequest for IdAndBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let id = IdPath::from_request(req, payload).into_inner();
        let body = JsonBody::<T>::from_request(req, payload);
        Box::pin(async move {
            match (id, body.await) {
                (Ok(IdPath(id)), Ok(JsonBody(body))) => Ok(IdAndBody(id, body)),
                (Err(ApiError::Validation(mut path)), Err(ApiError::Validation(body))) => {
                    path.extend(body);
                    Err(ApiError::Validation(path))
                }
                // A body that could not be read at all (413) outranks a bad id.
                (_, Err(e @ (ApiError::PayloadTooLarge | ApiError::BadPayload))) => Err(e),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        })
    }
}
