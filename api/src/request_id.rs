//! `X-Request-Id`: every response carries one, the client's own when it sent a usable one
//! (1 to 128 visible ASCII characters), else a fresh UUID. The id is also put on the request,
//! so the access log line shows it, and is in scope (task-local) for every other log line
//! written while the request is handled.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use futures_util::future::LocalBoxFuture;

use crate::logging::REQUEST_ID;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-chosen id we keep.
const MAX_LEN: usize = 128;

/// The middleware, for `App::wrap_fn`.
///
/// It holds no clone of the request while the inner services run: routing needs the request
/// to be uniquely owned.
pub fn middleware<S, B>(
    mut req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<B>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let id = usable(req.headers().get(X_REQUEST_ID))
        .unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
    // Only visible ASCII reaches here, so this cannot fail; if it ever did, the response
    // would simply go without the header.
    let value = HeaderValue::from_str(&id).ok();
    if let Some(value) = &value {
        req.headers_mut().insert(X_REQUEST_ID, value.clone());
    }
    let id: Arc<str> = id.into();
    let call = REQUEST_ID.sync_scope(id.clone(), || srv.call(req));
    Box::pin(REQUEST_ID.scope(id, async move {
        match call.await {
            Ok(mut res) => {
                if let Some(value) = value {
                    res.headers_mut().insert(X_REQUEST_ID, value);
                }
                Ok(res)
            }
            // A middleware's error becomes its response later, in actix-web's dispatcher:
            // render it now, so that it too carries the id.
            Err(e) => {
                let mut res = e.error_response();
                if let Some(value) = value {
                    res.headers_mut().insert(X_REQUEST_ID, value);
                }
                Err(InternalError::from_response(e, res).into())
            }
        }
    }))
}

fn usable(value: Option<&HeaderValue>) -> Option<String> {
    let text = value?.to_str().ok()?;
    (!text.is_empty() && text.len() <= MAX_LEN && text.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_ascii_ids_are_kept() {
        let ok = |s: &str| usable(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(ok("abc-123").as_deref(), Some("abc-123"));
        assert_eq!(ok(&"a".repeat(128)).as_deref(), Some(&*"a".repeat(128)));
        assert_eq!(ok(&"a".repeat(129)), None);
        assert_eq!(ok("has space"), None);
        assert_eq!(ok(""), None);
        assert_eq!(usable(None), None);
    }
}
