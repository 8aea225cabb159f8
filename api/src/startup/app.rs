//! The `App` every worker runs, and what it is made from: the routes, the documentation
//! routes, the fallback, and the middleware in the order that decides which status wins and
//! what is logged and measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::{Condition, DefaultHeaders, Logger};
use actix_web::web::{self, Bytes, Data};
use actix_web::{App, Error, HttpResponse};
use actix_web_prom::PrometheusMetrics;
use futures_util::future::ready;
use service::Db;
use service::auth::Auth;
use service::email::{AccountMail, MailThrottles};
use service::mail::Mailer;
use service::throttle::LoginThrottle;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use super::StartError;
use super::fallback::Fallback;
use super::middleware::{CanonicalPath, JsonNotFound, RefuseOversizedBody};
use super::paths::{CanonicalPaths, RouteTable};
use crate::extract::BodyTimeout;
use crate::logging::ACCESS_LOG_TARGET;
use crate::settings::{CorsOrigins, Settings};
use crate::state::AppState;
use crate::{docs, metrics, request_id, routes};

/// What every worker's `App` is made from, made once; each worker gets a clone.
#[derive(Clone)]
pub(super) struct Shared {
    pools: Arc<[Db]>,
    /// Each worker takes the next pool as it starts.
    next_pool: Arc<AtomicUsize>,
    auth: Arc<Auth>,
    cursors: Arc<crate::cursor::CursorKey>,
    login_throttle: Arc<LoginThrottle>,
    account_mail: Arc<AccountMail>,
    mail_throttles: Arc<MailThrottles>,
    idempotency_ttl: chrono::TimeDelta,
    /// Set on SIGTERM while the server drains.
    pub(super) draining: Arc<AtomicBool>,
    metrics: PrometheusMetrics,
    /// The document, written once: `/openapi.json` serves these bytes, and Swagger UI and
    /// ReDoc load them from there (each worker holding its own copy of the document itself
    /// cost megabytes of memory).
    api_json: Bytes,
    routes: Arc<RouteTable>,
    canonical: Arc<CanonicalPaths>,
    cors: CorsOrigins,
    /// Whether `RUST_LOG` lets the access log's lines through.
    access_log: bool,
    /// `REQUEST_BODY_TIMEOUT_SECS`, for the extractors that read bodies.
    body_timeout: BodyTimeout,
}

impl Shared {
    /// The metrics (with gauges over `pools`), auth with its dummy hash made, the login
    /// throttle, the mailer and its throttles, and what the OpenAPI document says about paths.
    pub(super) fn new(settings: &Settings, pools: &Arc<[Db]>) -> Result<Self, StartError> {
        let metrics = metrics::middleware(pools, settings.database.max_connections)
            .map_err(StartError::Metrics)?;
        let auth = Arc::new(Auth::new(&settings.auth));
        auth.warm_up();
        let mailer = Mailer::new(&settings.mail.delivery).map_err(StartError::Mail)?;
        log::info!("{}", mail_line(settings));
        let api = docs::openapi();
        Ok(Self {
            pools: Arc::clone(pools),
            next_pool: Arc::new(AtomicUsize::new(0)),
            auth,
            cursors: Arc::new(crate::cursor::CursorKey::derive(&settings.auth.secret)),
            login_throttle: Arc::new(LoginThrottle::new(settings.throttle)),
            account_mail: Arc::new(AccountMail::new(&settings.mail.accounts, mailer)),
            mail_throttles: Arc::new(MailThrottles::new(
                settings.mail.throttle,
                settings.throttle,
            )),
            idempotency_ttl: chrono::TimeDelta::from_std(settings.idempotency_ttl)
                .unwrap_or(chrono::TimeDelta::hours(24)),
            draining: Arc::new(AtomicBool::new(false)),
            metrics,
            routes: Arc::new(RouteTable::new(&api)),
            canonical: Arc::new(CanonicalPaths::new(&api)),
            api_json: Bytes::from(api.to_json().map_err(StartError::Docs)?),
            cors: settings.cors.clone(),
            access_log: log::log_enabled!(target: ACCESS_LOG_TARGET, log::Level::Info),
            body_timeout: BodyTimeout(settings.server.body_timeout),
        })
    }

    /// Reads the bcrypt cost most stored hashes have, for the unknown-email check; on a
    /// database failure logs it and goes on with the configured cost (the first login after
    /// `TYPICAL_COST_TTL` reads it again).
    pub(super) async fn read_typical_hash_cost(&self) {
        if let Err(e) = self.auth.refresh_typical_cost(&self.pools[0], true).await {
            log::warn!(
                "cannot read the stored bcrypt costs ({e}); unknown emails are checked at the configured cost until a login reads them again"
            );
        }
    }

    /// This worker's state: its own pool, and what all workers share.
    fn worker_state(&self) -> Data<AppState> {
        let pool = self.next_pool.fetch_add(1, Ordering::Relaxed) % self.pools.len();
        Data::new(AppState {
            db: self.pools[pool].clone(),
            auth: Arc::clone(&self.auth),
            cursors: Arc::clone(&self.cursors),
            login_throttle: Arc::clone(&self.login_throttle),
            account_mail: Arc::clone(&self.account_mail),
            mail_throttles: Arc::clone(&self.mail_throttles),
            idempotency_ttl: self.idempotency_ttl,
            draining: Arc::clone(&self.draining),
        })
    }

    /// One worker's `App`.
    ///
    /// The middleware, from the outside in; the order decides which status wins and what is
    /// logged and measured:
    /// 1. the request id, outermost: every response carries it, even one a middleware failed
    ///    with, and every log line written below can name it, the access log's included;
    /// 2. the access log, outside the metrics (which answer `/metrics` themselves) so that a
    ///    scrape is logged as the 200 it is, and outside 3. so that it shows the method as
    ///    sent. Left out when `RUST_LOG` filters its lines away: it would render every
    ///    request's line only for the logger to drop it;
    /// 3. the method bounding, just outside the metrics, so that they label a made-up method
    ///    `OTHER`;
    /// 4. the metrics, counting every answer below: preflights, 405s, 404s and 413s too;
    /// 5. CORS and 6. `nosniff` and the Content-Security-Policy, which add headers to every answer below: outside 7., which
    ///    makes its response anew;
    /// 7. the JSON 404, outside the router, whose Swagger UI service answers 404 with no body;
    /// 8. the 413 and 9. the canonical path, innermost, so that they run before routing: the
    ///    413 refuses an oversized body whatever the path, and the router reads the path as
    ///    spelled canonically.
    pub(super) fn app(
        &self,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody + use<>>,
            Error = Error,
            InitError = (),
        > + use<>,
    > {
        App::new()
            .app_data(self.worker_state())
            .app_data(self.body_timeout)
            .default_service(Fallback(Arc::clone(&self.routes)))
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            // A tail pattern, not a regex one (`{_:.*}`): actix-web-prom labels requests with
            // the pattern and cannot read a regex in it.
            .service(SwaggerUi::new("/docs/{tail}*").config(
                // The Authorize dialog's token survives a reload of the page.
                SwaggerConfig::new([docs::OPENAPI_PATH]).persist_authorization(true),
            ))
            .route(docs::OPENAPI_PATH, {
                let api_json = self.api_json.clone();
                web::get().to(move || ready(docs::openapi_json(api_json.clone())))
            })
            .route("/docs", web::get().to(swagger_ui_redirect))
            .route(docs::REDOC_PATH, web::get().to(docs::redoc_page))
            .route(docs::REDOC_BUNDLE_PATH, web::get().to(docs::redoc_bundle))
            .wrap(CanonicalPath(Arc::clone(&self.canonical)))
            .wrap(RefuseOversizedBody)
            .wrap(JsonNotFound)
            .wrap(
                DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((
                        header::CONTENT_SECURITY_POLICY,
                        docs::CONTENT_SECURITY_POLICY,
                    )),
            )
            .wrap(cors(&self.cors))
            .wrap(self.metrics.clone())
            .wrap_fn(metrics::bounded_method)
            .wrap(Condition::new(
                self.access_log,
                Logger::new(r#"%{r}a "%r" %s %b %Dms request_id=%{x-request-id}i"#),
            ))
            // While the server drains (after SIGTERM), every response closes its connection: a
            // load balancer's kept-alive connections go, so none is left to fail when the
            // server stops accepting. Unboxed: one atomic load a request.
            .wrap_fn({
                let draining = Arc::clone(&self.draining);
                move |req, srv| {
                    let call = srv.call(req);
                    let draining = Arc::clone(&draining);
                    async move {
                        let mut res = call.await?;
                        if draining.load(Ordering::Relaxed) {
                            res.response_mut()
                                .head_mut()
                                .set_connection_type(ConnectionType::Close);
                        }
                        Ok(res)
                    }
                }
            })
            .wrap_fn(request_id::middleware)
    }
}

/// The start-up line saying where mail goes: the SMTP server (never its credentials), or, with
/// no `SMTP_URL`, the outbox directory, where each message is an `.eml` file. The outbox
/// stands in for the log the issue first suggested: messages carry tokens, which never reach
/// a log line.
fn mail_line(settings: &Settings) -> String {
    let accounts = &settings.mail.accounts;
    let sends = match (
        accounts.password_recovery,
        accounts.require_email_verification,
    ) {
        (true, true) => "password recovery and email verification",
        (true, false) => "password recovery",
        (false, true) => "email verification",
        (false, false) => "nothing (PASSWORD_RECOVERY=false, no email verification)",
    };
    match settings.mail.delivery.outbox_dir() {
        Some(dir) => format!(
            "mail: no SMTP_URL, so each message ({sends}) is written as an .eml file into {} \
             (development only)",
            dir.display()
        ),
        None => format!(
            "mail: {sends} sent through the {}",
            settings.mail.delivery.describe()
        ),
    }
}

/// `/docs` → `/docs/`, the address Swagger UI's page expects.
async fn swagger_ui_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

fn cors(origins: &CorsOrigins) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("prefer"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        // Response headers a browser script may read beyond the CORS-safelisted ones.
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-total-count"),
            header::HeaderName::from_static("preference-applied"),
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(3600)
        // A foreign origin gets no CORS headers (the browser blocks it), not an error page.
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::Any => cors.allow_any_origin().send_wildcard(),
        CorsOrigins::Only(list) => list.iter().fold(cors, |c, o| c.allowed_origin(o)),
    }
}
