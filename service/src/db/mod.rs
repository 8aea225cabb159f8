//! Everything about talking to the database: how the server connects ([`connect()`], and
//! [`connect_for_migrations`]), the pools, running statements ([`Db`], a
//! [`ConnectionTrait`]), SQL built once per backend (`memo`), and what a database error says
//! about the database (`failure`). The use cases build their queries and run them on a `Db`
//! through `ConnectionTrait`; nothing outside this module opens a connection, sizes a pool or
//! reads a driver's error codes.
//!
//! On PostgreSQL statements run on a pool of our own (`postgres` says why not sqlx's),
//! prepared, or behind a pooler in transaction mode unnamed in a transaction each (`pooler`).
//! SQLite keeps SeaORM's pool: its connections live in this process, so a ping there costs no
//! network round trip.
//!
//! [`ConnectionTrait`]: sea_orm::ConnectionTrait

mod connect;
mod connect_error;
mod failure;
mod inline;
pub(crate) mod memo;
mod pooler;
mod postgres;
mod statements;
mod writable;

use sea_orm::{DatabaseConnection, DbBackend};

pub use connect::{
    DatabaseSettings, LOCK_WAIT, MIGRATION_LOCK_WAIT, connect, connect_for_migrations,
};
pub use connect_error::{ConnectError, redact};
pub(crate) use failure::{Failure, classify};
pub use pooler::{PreparedStatements, URL_PARAMETER};

use crate::Error;
use postgres::PgPool;

/// The database: a PostgreSQL pool of our own, or SeaORM's connection for anything else.
/// Statements run on it through [`sea_orm::ConnectionTrait`]. On SQLite, also the file opened,
/// for [`Db::ready`]; and how many statements were run on it, for [`Db::statements`].
#[derive(Clone)]
pub struct Db(
    Backend,
    Option<std::sync::Arc<writable::SqliteFile>>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
);

#[derive(Clone)]
enum Backend {
    Postgres(PgPool),
    SeaOrm(DatabaseConnection),
}

/// Connections in the pool, by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open connections, idle or in use.
    pub open: usize,
    /// Open connections waiting in the pool.
    pub idle: usize,
}

impl std::iter::Sum for PoolStatus {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| Self {
            open: a.open + b.open,
            idle: a.idle + b.idle,
        })
    }
}

impl Db {
    /// Runs `SELECT 1`: a round trip to the database on a pooled connection, as any request's
    /// statement would make.
    ///
    /// # Errors
    /// `Unavailable`, whatever the failure: a database that cannot answer that is not ready.
    pub async fn ping(&self) -> Result<(), Error> {
        sea_orm::ConnectionTrait::execute_unprepared(self, "SELECT 1")
            .await
            .map(drop)
            .map_err(Error::Unavailable)
    }

    /// Whether the database can be written, for readiness. PostgreSQL: one round trip
    /// asking whether transactions are read-only (a hot standby, or
    /// `default_transaction_read_only`), instead of [`ping`](Self::ping)'s `SELECT 1`.
    /// SQLite: a round trip, then whether the file opened is still the one at its path and
    /// still writable (see `writable`).
    ///
    /// # Errors
    /// `Unavailable` when the database does not answer or cannot be written.
    pub async fn ready(&self) -> Result<(), Error> {
        use sea_orm::ConnectionTrait as _;
        let backend = self.get_database_backend();
        if backend != DbBackend::Postgres {
            self.ping().await?;
            return match self.1.as_deref().and_then(writable::SqliteFile::unwritable) {
                Some(why) => Err(Error::Unavailable(sea_orm::DbErr::Custom(why))),
                None => Ok(()),
            };
        }
        let row = self
            .query_one_raw(sea_orm::Statement::from_string(
                backend,
                "SELECT current_setting('transaction_read_only') AS read_only",
            ))
            .await
            .map_err(Error::Unavailable)?;
        let read_only = row
            .and_then(|r| r.try_get::<String>("", "read_only").ok())
            .unwrap_or_default();
        if read_only == "off" {
            Ok(())
        } else {
            Err(Error::Unavailable(sea_orm::DbErr::Custom(
                "the database is read-only (transaction_read_only is on)".into(),
            )))
        }
    }

    /// How many statements have been run on this pool: each is a round trip to the database
    /// (through a pooler without prepared statements, one that cannot be written out with its
    /// values takes a transaction of its own, so more).
    pub fn statements(&self) -> u64 {
        self.2.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The connections of the pool.
    pub fn status(&self) -> PoolStatus {
        match &self.0 {
            Backend::Postgres(pool) => pool.status(),
            Backend::SeaOrm(db) => match db.get_database_backend() {
                DbBackend::Sqlite => {
                    let pool = db.get_sqlite_connection_pool();
                    PoolStatus {
                        open: pool.size() as usize,
                        idle: pool.num_idle(),
                    }
                }
                _ => PoolStatus { open: 0, idle: 0 },
            },
        }
    }

    /// Closes the idle connections (telling PostgreSQL so) and refuses new statements.
    pub async fn close(&self) {
        match &self.0 {
            Backend::Postgres(pool) => pool.close().await,
            Backend::SeaOrm(db) => {
                db.close_by_ref().await.ok();
            }
        }
    }
}
