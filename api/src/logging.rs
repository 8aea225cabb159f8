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
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
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
            .build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(ClientFaultsDemoted(logger))).is_ok() {
        log::set_max_level(max);
    }
}

/// The target of actix-http's HTTP/1 connection handling.
const DISPATCHER_TARGET: &str = "actix_http::h1::dispatcher";

/// What actix-http's dispatcher logs at ERROR when a connection ends in error (`stream error:
/// ...`), for the errors a client causes: a malformed or oversized request head (answered
/// 400 or 431), a head or a shutdown too slow, a connection reset. Logged at WARN instead,
/// so that one client cannot flood error alerting. Its other errors (a response body
/// failing, a service error) stay errors.
const CLIENT_FAULTS: [&str; 5] = [
    "stream error: request parse error",
    "stream error: request did not complete within",
    "stream error: connection shutdown timeout",
    "stream error: I/O error",
    "stream error: handler dropped payload",
];

/// env_logger, with the client's faults that actix-http logs at ERROR moved to WARN.
struct ClientFaultsDemoted(env_logger::Logger);

impl ClientFaultsDemoted {
    fn is_client_fault(record: &log::Record<'_>) -> Option<String> {
        if record.level() != log::Level::Error || !record.target().starts_with(DISPATCHER_TARGET) {
            return None;
        }
        let text = record.args().to_string();
        CLIENT_FAULTS
            .iter()
            .any(|fault| text.starts_with(fault))
            .then_some(text)
    }
}

impl log::Log for ClientFaultsDemoted {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        let Some(text) = Self::is_client_fault(record) else {
            self.0.log(record);
            return;
        };
        let args = format_args!("{text}");
        let demoted = log::Record::builder()
            .level(log::Level::Warn)
            .target(record.target())
            .module_path(record.module_path())
            .file(record.file())
            .line(record.line())
            .args(args)
            .build();
        if self.0.enabled(demoted.metadata()) {
            self.0.log(&demoted);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}
