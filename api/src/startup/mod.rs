//! Start-up: migrate, connect, bind, build what the workers share, serve.
//!
//! [`app`] holds the `App` every worker runs (and the middleware order), [`middleware`] the
//! middleware of our own, [`fallback`] the answer when no route matches, and [`paths`] what
//! the OpenAPI document tells those two about paths.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use service::db::{self, ConnectError, DatabaseSettings, Db};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::settings::{ServerSettings, Settings};

mod app;
mod fallback;
mod limits;
mod middleware;
mod paths;

/// Why the server could not start. Displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error("cannot apply migrations: {0}")]
    Migration(#[source] service::DbErr),
    #[error("cannot set up mail: {0}")]
    Mail(#[source] service::Error),
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
    /// Set on SIGTERM while the server drains.
    draining: Arc<AtomicBool>,
    drain: Duration,
}

impl Application {
    /// Applies pending migrations unless `AUTO_MIGRATE=false`, connects to the database
    /// (retrying for `DATABASE_CONNECT_TIMEOUT_SECS`), and binds the port.
    ///
    /// # Errors
    /// Database unreachable, a migration failing, or the address unusable.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        limits::raise_open_files_limit();
        if settings.auto_migrate {
            migrate(&settings.database).await?;
        }
        let pools: Arc<[Db]> = db::connect(&settings.database, settings.server.workers)
            .await?
            .into();
        let (listener, port) = bind(&settings.server)?;
        let shared = app::Shared::new(&settings, &pools)?;
        shared.read_typical_hash_cost().await;
        let draining = Arc::clone(&shared.draining);
        let server = serve(shared, listener, &settings.server)?;
        Ok(Self {
            port,
            server,
            pools,
            draining,
            drain: settings.server.drain,
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

    /// Serves until a signal stops it, then closes the database connections. SIGINT and
    /// SIGQUIT stop at once. SIGTERM stops gracefully: first, for `SHUTDOWN_DRAIN_SECS`, the
    /// server goes on serving while `/ready` answers 503 and every response closes its
    /// connection, so that a load balancer takes it out; then it stops accepting and gives the
    /// requests in flight `SHUTDOWN_TIMEOUT_SECS`. SIGHUP, SIGUSR1, SIGUSR2 and SIGALRM, whose
    /// default action would end the process, are logged and ignored. Logs "listening on port
    /// ..." once the signals are caught.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let (draining, drain) = (Arc::clone(&self.draining), self.drain);
        // Listened to before serving: from here on no signal of these ends the process
        // unheard.
        match Signals::listen() {
            Ok(signals) => {
                log::info!("listening on port {}; docs at /docs", self.port);
                actix_web::rt::spawn(async move {
                    stop_on_signal(signals, &handle, &draining, drain).await;
                });
            }
            Err(e) => {
                log::error!("cannot listen for signals ({e}); stopping");
                handle.stop(false).await;
            }
        }
        self.run_until_stopped().await
    }

    /// Serves until stopped through [`handle`](Self::handle) (signals are not listened to:
    /// see [`run_until_signalled`](Self::run_until_signalled)), then closes the database
    /// connections.
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

/// The signals the server listens to: those that stop it, and the stray ones it ignores.
struct Signals {
    term: Signal,
    int: Signal,
    quit: Signal,
    hup: Signal,
    usr1: Signal,
    usr2: Signal,
    alrm: Signal,
}

impl Signals {
    /// Installs a handler for each (a signal caught is no longer fatal).
    fn listen() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            hup: signal(SignalKind::hangup())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
            alrm: signal(SignalKind::alarm())?,
        })
    }

    /// Waits for a stopping signal, logging and ignoring the stray ones on the way; true for
    /// SIGTERM (graceful).
    async fn stopping(&mut self) -> bool {
        loop {
            tokio::select! {
                _ = self.term.recv() => return true,
                _ = self.int.recv() => return false,
                _ = self.quit.recv() => return false,
                _ = self.hup.recv() => log::info!(
                    "SIGHUP received: ignored (configuration is read once, at start; restart to change it)"
                ),
                _ = self.usr1.recv() => ignored("SIGUSR1"),
                _ = self.usr2.recv() => ignored("SIGUSR2"),
                _ = self.alrm.recv() => ignored("SIGALRM"),
            }
        }
    }

    /// Waits `drain` unless SIGINT or SIGQUIT cuts it short (then true); stray signals and
    /// another SIGTERM are logged and ignored.
    async fn drained(&mut self, drain: Duration) -> bool {
        let deadline = tokio::time::sleep(drain);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return false,
                _ = self.int.recv() => return true,
                _ = self.quit.recv() => return true,
                _ = self.term.recv() => ignored("SIGTERM (already draining)"),
                _ = self.hup.recv() => ignored("SIGHUP"),
                _ = self.usr1.recv() => ignored("SIGUSR1"),
                _ = self.usr2.recv() => ignored("SIGUSR2"),
                _ = self.alrm.recv() => ignored("SIGALRM"),
            }
        }
    }
}

fn ignored(name: &str) {
    log::info!("{name} received: ignored");
}

/// Waits for SIGTERM, SIGINT or SIGQUIT and stops the server as [`Application::run_until_signalled`]
/// says.
async fn stop_on_signal(
    mut signals: Signals,
    handle: &ServerHandle,
    draining: &AtomicBool,
    drain: Duration,
) {
    if !signals.stopping().await {
        log::info!("stopping now (SIGINT or SIGQUIT)");
        handle.stop(false).await;
        return;
    }
    if !drain.is_zero() {
        draining.store(true, Ordering::Relaxed);
        log::info!(
            "SIGTERM: draining for {} s (/ready answers 503; connections close after each response)",
            drain.as_secs()
        );
        if signals.drained(drain).await {
            handle.stop(false).await;
            return;
        }
    }
    log::info!("SIGTERM: no longer accepting; finishing the requests in flight");
    handle.stop(true).await;
}

/// Applies pending migrations on a connection of their own, closed afterwards.
async fn migrate(database: &DatabaseSettings) -> Result<(), StartError> {
    let conn = db::connect_for_migrations(database).await?;
    let migrated = migration::run(&conn, migration::Command::Up(None)).await;
    conn.close().await.ok();
    migrated.map_err(StartError::Migration)
}

/// Binds `HOST:PORT`; returns the listener and the port actually bound.
fn bind(server: &ServerSettings) -> Result<(TcpListener, u16), StartError> {
    let listener = TcpListener::bind(address(server)).map_err(bind_error(server))?;
    let port = listener.local_addr().map_err(bind_error(server))?.port();
    Ok((listener, port))
}

/// Starts the workers on `listener`; they serve once the server is awaited.
fn serve(
    shared: app::Shared,
    listener: TcpListener,
    server: &ServerSettings,
) -> Result<Server, StartError> {
    let write_timeout = server.write_timeout;
    // actix calls this once on each worker's thread, as the worker starts.
    let app = move || {
        limits::shorten_this_workers_slice();
        shared.app()
    };
    Ok(HttpServer::new(app)
        .workers(server.workers)
        .on_connect(move |connection, _| limits::set_write_timeout(connection, write_timeout))
        .shutdown_timeout(server.shutdown_timeout.as_secs())
        // Ours: see `Application::run_until_signalled`.
        .disable_signals()
        .listen(listener)
        .map_err(bind_error(server))?
        .run())
}

fn address(server: &ServerSettings) -> String {
    format!("{}:{}", server.host, server.port)
}

fn bind_error(server: &ServerSettings) -> impl Fn(std::io::Error) -> StartError + '_ {
    move |source| StartError::Bind {
        address: address(server),
        source,
    }
}
