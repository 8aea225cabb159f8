//! Start-up: migrate, connect, bind, build what the workers share, serve.
//!
//! [`app`] holds the `App` every worker runs (and the middleware order), [`middleware`] the
//! middleware of our own, [`fallback`] the answer when no route matches, and [`paths`] what
//! the OpenAPI document tells those two about paths.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use service::db::{self, ConnectError, DatabaseSettings, Db};

use crate::settings::{ServerSettings, Settings};

mod app;
mod fallback;
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
}

impl Application {
    /// Applies pending migrations unless `AUTO_MIGRATE=false`, connects to the database
    /// (retrying for `DATABASE_CONNECT_TIMEOUT_SECS`), and binds the port.
    ///
    /// # Errors
    /// Database unreachable, a migration failing, or the address unusable.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        if settings.auto_migrate {
            migrate(&settings.database).await?;
        }
        let pools: Arc<[Db]> = db::connect(&settings.database, settings.server.workers)
            .await?
            .into();
        let (listener, port) = bind(&settings.server)?;
        let shared = app::Shared::new(&settings, &pools)?;
        let server = serve(shared, listener, &settings.server)?;
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
    Ok(HttpServer::new(move || shared.app())
        .workers(server.workers)
        .shutdown_timeout(server.shutdown_timeout.as_secs())
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
