//! The default service: the answer to a request no route matched. 405 with `Allow` when the
//! path exists under another method, else the contract's JSON 404.

use std::sync::Arc;

use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse, always_ready};
use actix_web::http::Method;
use actix_web::{Error, ResponseError};
use futures_util::future::{Ready, ready};

use super::paths::RouteTable;
use crate::error::ApiError;

/// Its own factory: each worker's copy shares the one route table.
#[derive(Clone)]
pub(super) struct Fallback(pub(super) Arc<RouteTable>);

impl ServiceFactory<ServiceRequest> for Fallback {
    type Response = ServiceResponse;
    type Error = Error;
    type Config = ();
    type Service = Self;
    type InitError = ();
    type Future = Ready<Result<Self, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        ready(Ok(self.clone()))
    }
}

impl Service<ServiceRequest> for Fallback {
    type Response = ServiceResponse;
    type Error = Error;
    type Future = Ready<Result<ServiceResponse, Error>>;

    always_ready!();

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let error = match self.0.allowed(req.path()) {
            Some(allow) if req.method() != Method::OPTIONS || !allow.is_empty() => {
                ApiError::MethodNotAllowed(allow.to_owned())
            }
            _ => ApiError::NoRoute,
        };
        ready(Ok(req.into_response(error.error_response())))
    }
}
