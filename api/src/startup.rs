//! Start-up: connect, migrate, bind, serve.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle, Service, ServiceResponse};
use actix_web::http::{Method, StatusCode, Uri, header};
use actix_web::middleware::{
    Condition, DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, Logger,
};
use actix_web::web::{self, Data};
use actix_web::{App, HttpRequest, HttpServer, ResponseError};
use futures_util::future::{Either, ready};
use service::auth::Auth;
use service::db::{self, ConnectError, Db};
use service::throttle::LoginThrottle;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::docs::{self, RouteTable};
use crate::error::ApiError;
use crate::extract::{MAX_BODY, content_length};
use crate::logging::ACCESS_LOG_TARGET;
use crate::settings::{CorsOrigins, Settings};
use crate::state::AppState;
use crate::{metrics, request_id, routes};

/// Why the server could not start. Displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error("cannot apply migrations: {0}")]
    Migration(#[source] service::DbErr),
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    #[error("cannot write the OpenAPI document: {0}")]
    Docs(#[source] serde_json::Error),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    pools: Arc<[Db]>,
}

impl Application {
    /// Connects to the database (retrying for `DATABASE_CONNECT_TIMEOUT_SECS`), applies
    /// pending migrations unless `AUTO_MIGRATE=false`, and binds the port.
    ///
    /// # Errors
    /// Database unreachable, a migration failing, or the address unusable.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        if settings.auto_migrate {
            let conn = db::connect_for_migrations(&settings.database).await?;
            let migrated = migration::run(&conn, migration::Command::Up(None)).await;
            conn.close().await.ok();
            migrated.map_err(StartError::Migration)?;
        }
        let pools: Arc<[Db]> = db::connect(&settings.database, settings.server.workers)
            .await?
            .into();
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let bind_error = |source| StartError::Bind {
            address: address.clone(),
            source,
        };
        let listener = TcpListener::bind(&address).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();

        let metrics = metrics::middleware(&pools, settings.database.max_connections)
            .map_err(StartError::Metrics)?;
        let auth = Arc::new(Auth::new(&settings.auth));
        auth.warm_up();
        let login_throttle = Arc::new(LoginThrottle::new(settings.throttle));
        // Each worker takes the next pool as it starts.
        let next_pool = Arc::new(AtomicUsize::new(0));
        // The document, written once: /openapi.json serves these bytes, and Swagger UI and
        // ReDoc load them from there (each worker holding its own copy of the document
        // itself cost megabytes of memory).
        let api = docs::openapi();
        let table = RouteTable::new(&api);
        let api_json = web::Bytes::from(api.to_json().map_err(StartError::Docs)?);
        drop(api);
        let cors_origins = settings.cors.clone();
        let access_log = log::log_enabled!(target: ACCESS_LOG_TARGET, log::Level::Info);
        let worker_pools = Arc::clone(&pools);
        let server = HttpServer::new(move || {
            let table = table.clone();
            let pool = next_pool.fetch_add(1, Ordering::Relaxed) % worker_pools.len();
            let state = Data::new(AppState {
                db: worker_pools[pool].clone(),
                auth: Arc::clone(&auth),
                login_throttle: Arc::clone(&login_throttle),
            });
            App::new()
                .app_data(state)
                .default_service(web::to(move |req: HttpRequest| {
                    ready(fallback(&req, &table).error_response())
                }))
                .into_utoipa_app()
                .configure(routes::configure)
                .into_app()
                // A tail pattern, not a regex one (`{_:.*}`): actix-web-prom labels requests
                // with the pattern and cannot read a regex in it.
                .service(
                    SwaggerUi::new("/docs/{tail}*")
                        .config(SwaggerConfig::new([docs::OPENAPI_PATH])),
                )
                .route(docs::OPENAPI_PATH, {
                    let api_json = api_json.clone();
                    web::get().to(move || ready(docs::openapi_json(api_json.clone())))
                })
                .route(
                    "/docs",
                    web::get().to(|| async {
                        actix_web::HttpResponse::PermanentRedirect()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .route(docs::REDOC_PATH, web::get().to(docs::redoc_page))
                .route(docs::REDOC_BUNDLE_PATH, web::get().to(docs::redoc_bundle))
                .wrap_fn(|mut req, srv| {
                    // 413 before a byte of an oversized body is read, on every route.
                    if content_length(&req).is_some_and(|n| n > MAX_BODY as u64) {
                        let res = ApiError::PayloadTooLarge.error_response();
                        return Either::Left(ready(Ok(req
                            .into_response(res)
                            .map_into_right_body())));
                    }
                    if let Some(uri) = canonical_uri(req.uri()) {
                        req.match_info_mut().get_mut().update(&uri);
                        req.head_mut().uri = uri;
                    }
                    Either::Right(futures_util::FutureExt::map(srv.call(req), |r| {
                        r.map(ServiceResponse::map_into_left_body)
                    }))
                })
                .wrap(ErrorHandlers::new().handler(StatusCode::NOT_FOUND, json_not_found))
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
                .wrap(cors(&cors_origins))
                .wrap(metrics.clone())
                .wrap_fn(metrics::bounded_method)
                // Outside the metrics middleware, so that a scrape is logged as the 200 it is.
                // Left out when RUST_LOG filters its lines away: it would render every
                // request's line only for the logger to drop it.
                .wrap(Condition::new(
                    access_log,
                    Logger::new(r#"%{r}a "%r" %s %b %Dms request_id=%{x-request-id}i"#),
                ))
                .wrap_fn(request_id::middleware)
        })
        .workers(settings.server.workers)
        .shutdown_timeout(settings.server.shutdown_timeout.as_secs())
        .listen(listener)
        .map_err(bind_error)?
        .run();
        Ok(Self {
            port,
            server,
            pools,
        })
    }

    /// The port actually bound (useful with `PORT=0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped: SIGTERM stops gracefully, SIGINT/SIGQUIT at once. Then closes
    /// the database connections.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        for db in self.pools.iter() {
            db.close().await;
        }
        served
    }
}

/// Gives an empty-bodied 404 (Swagger UI's answer for a file it does not have) the contract's
/// JSON body; our own 404s already have one and pass through untouched.
fn json_not_found<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res.headers().contains_key(header::CONTENT_TYPE) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, _) = res.into_parts();
    let res = ServiceResponse::new(req, ApiError::NoRoute.error_response());
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}

/// 405 with `Allow` when the path exists under another method, else 404.
fn fallback(req: &HttpRequest, table: &RouteTable) -> ApiError {
    match table.allowed(req.path()) {
        Some(allow) if req.method() != Method::OPTIONS || !allow.is_empty() => {
            ApiError::MethodNotAllowed(allow.to_owned())
        }
        _ => ApiError::NoRoute,
    }
}

/// The canonical spelling of an API path: collections with a trailing slash (`/posts/`),
/// everything else without (`/posts/1`, `/login`). `None` when it is canonical already or not
/// an API path (the docs routes have spellings of their own).
fn canonical_uri(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    // `/docs/` is Swagger UI's own spelling (`/docs` redirects there): not ours to change.
    if !matches!(
        first,
        "users" | "posts" | "vote" | "login" | "health" | "ready" | "redoc" | "openapi.json"
    ) {
        return None;
    }
    let trimmed = path.trim_end_matches('/');
    let canonical = if matches!(trimmed, "/users" | "/posts" | "/vote") {
        format!("{trimmed}/")
    } else {
        trimmed.to_owned()
    };
    if canonical == path {
        return None;
    }
    let with_query = match uri.query() {
        Some(q) => format!("{canonical}?{q}"),
        None => canonical,
    };
    with_query.parse().ok()
}

fn cors(origins: &CorsOrigins) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(3600)
        // A foreign origin gets no CORS headers (the browser blocks it), not an error page.
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::Any => cors.allow_any_origin().send_wildcard(),
        CorsOrigins::Only(list) => list.iter().fold(cors, |c, o| c.allowed_origin(o)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths() {
        let c = |p: &str| canonical_uri(&p.parse().unwrap()).map(|u| u.to_string());
        assert_eq!(c("/posts").as_deref(), Some("/posts/"));
        assert_eq!(c("/posts?limit=1").as_deref(), Some("/posts/?limit=1"));
        assert_eq!(c("/posts/"), None);
        assert_eq!(c("/posts/1/").as_deref(), Some("/posts/1"));
        assert_eq!(c("/login/").as_deref(), Some("/login"));
        assert_eq!(c("/vote").as_deref(), Some("/vote/"));
        assert_eq!(c("/docs/"), None);
        assert_eq!(c("/redoc/").as_deref(), Some("/redoc"));
        assert_eq!(c("/openapi.json/").as_deref(), Some("/openapi.json"));
        assert_eq!(c("/"), None);
    }
}
