//! The middleware start-up adds of its own, as types whose futures have names (a `Ready`, the
//! inner future, or the inner future mapped by a plain `fn`): they run on every request, and
//! unlike `middleware::from_fn` none of them boxes anything per request. Where each goes in
//! the stack, and why, is written at [`super::app`].

use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::{StatusCode, header};
use actix_web::{Error, ResponseError};
use futures_util::FutureExt;
use futures_util::future::{Either, Map, Ready, ready};

use super::paths::CanonicalPaths;
use crate::error::ApiError;
use crate::extract::{MAX_BODY, content_length};

type Answer<B> = Result<ServiceResponse<B>, Error>;

/// The inner future with its body widened to make room for a response of our own.
type Widened<F, B> = Map<F, fn(Answer<B>) -> Answer<EitherBody<B>>>;

/// 413 before a byte of an oversized body is read, on every route, from `Content-Length`.
pub(super) struct RefuseOversizedBody;

pub(super) struct RefuseOversizedBodyService<S> {
    service: S,
}

impl<S, B> Transform<S, ServiceRequest> for RefuseOversizedBody
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RefuseOversizedBodyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RefuseOversizedBodyService { service }))
    }
}

impl<S, B> Service<ServiceRequest> for RefuseOversizedBodyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Either<Ready<Answer<EitherBody<B>>>, Widened<S::Future, B>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if content_length(&req).is_some_and(|n| n > MAX_BODY as u64) {
            let res = ApiError::PayloadTooLarge.error_response();
            return Either::Left(ready(Ok(req.into_response(res).map_into_right_body())));
        }
        Either::Right(self.service.call(req).map(passed_through as fn(_) -> _))
    }
}

fn passed_through<B>(answer: Answer<B>) -> Answer<EitherBody<B>> {
    answer.map(ServiceResponse::map_into_left_body)
}

/// Rewrites an API path to its canonical spelling (see [`CanonicalPaths`]) before the router
/// reads it, so `/posts` and `/posts/1/` get the answers of `/posts/` and `/posts/1`, with no
/// redirect.
pub(super) struct CanonicalPath(pub(super) Arc<CanonicalPaths>);

pub(super) struct CanonicalPathService<S> {
    service: S,
    paths: Arc<CanonicalPaths>,
}

impl<S, B> Transform<S, ServiceRequest> for CanonicalPath
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = CanonicalPathService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let paths = Arc::clone(&self.0);
        ready(Ok(CanonicalPathService { service, paths }))
    }
}

impl<S, B> Service<ServiceRequest> for CanonicalPathService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        if let Some(uri) = self.paths.canonical(req.uri()) {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
        self.service.call(req)
    }
}

/// Gives an empty-bodied 404 (Swagger UI's answer for a file it does not have) the contract's
/// JSON body; our own 404s already have one and pass through untouched.
pub(super) struct JsonNotFound;

pub(super) struct JsonNotFoundService<S> {
    service: S,
}

impl<S, B> Transform<S, ServiceRequest> for JsonNotFound
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = JsonNotFoundService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(JsonNotFoundService { service }))
    }
}

impl<S, B> Service<ServiceRequest> for JsonNotFoundService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Widened<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.service.call(req).map(json_not_found as fn(_) -> _)
    }
}

fn json_not_found<B>(answer: Answer<B>) -> Answer<EitherBody<B>> {
    let res = answer?;
    if res.status() != StatusCode::NOT_FOUND || res.headers().contains_key(header::CONTENT_TYPE) {
        return Ok(res.map_into_left_body());
    }
    let (req, _) = res.into_parts();
    let res = ServiceResponse::new(req, ApiError::NoRoute.error_response());
    Ok(res.map_into_right_body())
}
