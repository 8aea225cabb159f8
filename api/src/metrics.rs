//! `/metrics`, in Prometheus' text format: request counts and latency by route pattern,
//! method and status (actix-web-prom), and the database pool's connections and the statements
//! run on it (read at each scrape). Operational, so not in the public OpenAPI document.
//!
//! Route labels are the matched patterns (`/posts/{id}`), and every unmatched path counts as
//! `UNMATCHED`, so clients cannot grow the label set.

use std::sync::Arc;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntGauge, IntGaugeVec, Opts};
use service::Db;
use service::db::PoolStatus;

pub const PATH: &str = "/metrics";

/// The metrics middleware (it also answers `GET /metrics`), with the pool gauges registered.
///
/// # Errors
/// Registering a metric twice (a programming error), as a message.
pub fn middleware(pools: &Arc<[Db]>, max_connections: u32) -> Result<PrometheusMetrics, String> {
    let metrics = PrometheusMetricsBuilder::new("api")
        .endpoint(PATH)
        .mask_unmatched_patterns("UNMATCHED")
        .buckets(&[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ])
        .build()
        .map_err(|e| e.to_string())?;
    let pool = PoolCollector::new(Arc::clone(pools), max_connections).map_err(|e| e.to_string())?;
    metrics
        .registry
        .register(Box::new(pool))
        .map_err(|e| e.to_string())?;
    Ok(metrics)
}

/// Middleware, for `App::wrap_fn` just outside the metrics middleware: a request whose method
/// the API does not know is counted as `OTHER`. actix-web accepts any token as a method and
/// actix-web-prom labels series with it, so otherwise every made-up method would add series
/// for good. Routing answers such a request 405 (or 404) whatever it is called; the access
/// log, outside this middleware, keeps the method as sent.
pub fn bounded_method<S, B>(mut req: ServiceRequest, srv: &S) -> S::Future
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    if !KNOWN.contains(req.method()) {
        req.head_mut().method = other();
    }
    srv.call(req)
}

/// The method label of every method the API does not know.
fn other() -> Method {
    Method::from_bytes(b"OTHER").unwrap_or(Method::TRACE)
}

/// The pools' state (all workers' together), read when scraped.
struct PoolCollector {
    pools: Arc<[Db]>,
    connections: IntGaugeVec,
    max: IntGauge,
    /// Brought up to the pools' count at each scrape.
    statements: IntCounter,
    /// The pools' count the counter was last brought up to.
    statements_reported: std::sync::atomic::AtomicU64,
}

impl PoolCollector {
    fn new(pools: Arc<[Db]>, max_connections: u32) -> prometheus::Result<Self> {
        let connections = IntGaugeVec::new(
            Opts::new(
                "api_db_pool_connections",
                "Open database connections, by state (idle or in_use)",
            ),
            &["state"],
        )?;
        let max = IntGauge::new(
            "api_db_pool_max_connections",
            "Most connections the pool opens (DATABASE_MAX_CONNECTIONS)",
        )?;
        max.set(i64::from(max_connections));
        let statements = IntCounter::new(
            "api_db_statements_total",
            "Statements run on the database (each one round trip, but through a pooler without \
             prepared statements)",
        )?;
        Ok(Self {
            pools,
            connections,
            max,
            statements,
            statements_reported: std::sync::atomic::AtomicU64::new(0),
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.connections.desc();
        descs.extend(self.max.desc());
        descs.extend(self.statements.desc());
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let status: PoolStatus = self.pools.iter().map(Db::status).sum();
        let idle = i64::try_from(status.idle).unwrap_or(i64::MAX);
        let open = i64::try_from(status.open).unwrap_or(i64::MAX);
        self.connections.with_label_values(&["idle"]).set(idle);
        self.connections
            .with_label_values(&["in_use"])
            .set(open.saturating_sub(idle));
        // Scrapes at once each add only what is past the highest count reported.
        let statements: u64 = self.pools.iter().map(Db::statements).sum();
        let reported = self
            .statements_reported
            .fetch_max(statements, std::sync::atomic::Ordering::Relaxed);
        self.statements.inc_by(statements.saturating_sub(reported));
        let mut families = self.connections.collect();
        families.extend(self.max.collect());
        families.extend(self.statements.collect());
        families
    }
}
