//! Logging: env_logger (`RUST_LOG`, default `info`), with the request id on every line logged
//! while a request is handled.
//!
//! The [`request_id`](crate::request_id) middleware runs each request inside a task-local
//! scope holding its id; the log format reads it from there, so handlers and the service
//! layer log without passing the id around.

use std::io::Write;

tokio::task_local! {
    /// The id of the request being handled by this task.
    pub(crate) static REQUEST_ID: std::sync::Arc<str>;
}

/// The target of actix-web's access log lines.
pub(crate) const ACCESS_LOG_TARGET: &str = "actix_web::middleware::logger";

/// Installs the logger once; later calls do nothing.
pub fn init() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            let style = buf.default_level_style(record.level());
            let timestamp = buf.timestamp();
            // The access log line ends with the id itself: it is written when the response
            // body is done, sometimes outside the request's scope.
            let id = if record.target() == ACCESS_LOG_TARGET {
                String::new()
            } else {
                REQUEST_ID
                    .try_with(|id| format!(" request_id={id}"))
                    .unwrap_or_default()
            };
            writeln!(
                buf,
                "[{timestamp} {style}{:<5}{style:#} {}{id}] {}",
                record.level(),
                record.target(),
                record.args()
            )
        })
        .try_init();
}
