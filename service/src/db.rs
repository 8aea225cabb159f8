//! The database handle every use case runs its statements on: a [`ConnectionTrait`], so the
//! use cases take `&impl ConnectionTrait` and work on it, on a SeaORM connection, or on a
//! transaction alike.
//!
//! On PostgreSQL the connections are sqlx's, pooled by deadpool rather than by sqlx's own
//! pool. sqlx's pool pings a connection each time one is given back (and, by default, again
//! each time one is taken): every statement cost three round trips to the database instead of
//! one, which held reads at under a third of what the database itself can serve (measured
//! with `bench/run.sh`, README "Benchmark"). Here a connection goes back to the pool as it is,
//! and is pinged only when it has sat idle long enough to have been dropped by a proxy or a
//! failover. What the release ping was for is kept where it matters:
//! - a connection whose statement failed for want of the connection (I/O, protocol,
//!   terminated backend, no answer within the statement timeout) is closed instead of being
//!   handed out again;
//! - a connection whose statement was abandoned half-way (the client hung up) is pinged,
//!   which reads what is left of its answer, before anyone else gets it;
//! - connections are retired after [`MAX_LIFETIME`], as sqlx's pool does by default.
//!
//! SQLite keeps SeaORM's pool: its connections live in this process, so a ping there costs
//! no network round trip.

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _, Executor as _};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    RuntimeErr, Statement, Values,
};
use sea_query_sqlx::SqlxValues;

/// A connection idle for this long is pinged before it is handed out.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(30);
/// A connection this old is closed and replaced when it next comes out of the pool.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// How the PostgreSQL pool is sized and how long it waits.
#[derive(Clone, Debug)]
pub struct PgPoolSettings {
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a statement waits for a connection (including opening one) before it fails
    /// with [`DbErr::ConnectionAcquire`].
    pub acquire_timeout: Duration,
    /// How long a statement may go unanswered. Past it the statement fails as an I/O error
    /// (so callers see the database as unavailable) and its connection is closed: the one
    /// bound on a network that went silent, or a proxy that hung, mid-statement.
    pub statement_timeout: Duration,
}

/// The database: a PostgreSQL pool of our own, or SeaORM's connection for anything else.
#[derive(Clone)]
pub struct Db(Backend);

#[derive(Clone)]
enum Backend {
    Postgres {
        pool: managed::Pool<PgManager>,
        statement_timeout: Duration,
    },
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
    /// A PostgreSQL pool. It opens connections as statements need them, on the runtime of
    /// the task that needs one: a connection's socket then wakes that runtime, not another.
    ///
    /// # Errors
    /// The pool could not be built (`DbErr::Custom`).
    pub fn postgres(options: PgConnectOptions, settings: &PgPoolSettings) -> Result<Self, DbErr> {
        let manager = PgManager {
            options: options.disable_statement_logging(),
        };
        let pool = managed::Pool::builder(manager)
            .max_size(settings.max_connections.max(1))
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.acquire_timeout))
            .recycle_timeout(Some(settings.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbErr::Custom(format!("cannot build the connection pool: {e}")))?;
        Ok(Self(Backend::Postgres {
            pool,
            statement_timeout: settings.statement_timeout,
        }))
    }

    /// Opens a connection and closes it again: the database is reachable.
    ///
    /// # Errors
    /// As for any statement: `DbErr::Conn` or `DbErr::ConnectionAcquire`.
    pub async fn check(&self) -> Result<(), DbErr> {
        match &self.0 {
            Backend::Postgres { pool, .. } => {
                let conn = pool.get().await.map_err(acquire_error)?;
                Object::take(conn).conn.close().await.ok();
                Ok(())
            }
            Backend::SeaOrm(db) => db.ping().await,
        }
    }

    /// The connections of the pool.
    pub fn status(&self) -> PoolStatus {
        match &self.0 {
            Backend::Postgres { pool, .. } => {
                let s = pool.status();
                PoolStatus {
                    open: s.size,
                    idle: s.available,
                }
            }
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
            Backend::Postgres { pool, .. } => {
                pool.close();
                for idle in pool.retain(|_, _| false).removed {
                    idle.conn.close().await.ok();
                }
            }
            Backend::SeaOrm(db) => {
                db.close_by_ref().await.ok();
            }
        }
    }
}

impl From<DatabaseConnection> for Db {
    fn from(db: DatabaseConnection) -> Self {
        Self(Backend::SeaOrm(db))
    }
}

/// A pooled connection, with what the last statement on it left behind.
struct PgConn {
    conn: PgConnection,
    state: ConnState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ConnState {
    /// The last statement ran to its end: ready for the next one.
    Ready,
    /// The last statement was abandoned half-way (its request was cancelled): its answer is
    /// still to be read, which a ping does.
    Abandoned,
    /// The last statement failed for want of the connection: close it.
    Broken,
}

/// Opens sqlx connections for the pool, and decides whether one coming out of it is still
/// fit: broken and old connections are replaced, abandoned and long-idle ones pinged first.
struct PgManager {
    options: PgConnectOptions,
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConn, sqlx::Error> {
        Ok(PgConn {
            conn: self.options.connect().await?,
            state: ConnState::Ready,
        })
    }

    async fn recycle(&self, conn: &mut PgConn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if conn.state == ConnState::Broken {
            return Err(RecycleError::message("broken"));
        }
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("past its lifetime"));
        }
        if conn.state == ConnState::Abandoned || metrics.last_used() >= PING_AFTER_IDLE {
            conn.conn.ping().await?;
            conn.state = ConnState::Ready;
        }
        Ok(())
    }
}

/// A pooled connection checked out for one statement. Dropped before [`Checkout::finish`],
/// the statement was abandoned: the connection goes back marked so.
struct Checkout {
    conn: Object<PgManager>,
    finished: bool,
}

impl Checkout {
    async fn take(pool: &managed::Pool<PgManager>) -> Result<Self, DbErr> {
        let conn = pool.get().await.map_err(acquire_error)?;
        Ok(Self {
            conn,
            finished: false,
        })
    }

    fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn.conn
    }

    /// The statement is over; `result` says whether the connection survived it.
    fn finish<T>(mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.finished = true;
        if result.as_ref().is_err_and(breaks_connection) {
            self.conn.state = ConnState::Broken;
        }
        result
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.state = ConnState::Abandoned;
        }
    }
}

/// Whether an error leaves the connection unusable (as opposed to failing one statement).
fn breaks_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        // 57P01..57P03: the backend was terminated or the server is going down; 08xxx: the
        // connection itself failed.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

/// Pool errors as SeaORM reports them, so callers see one set of errors whatever the pool.
fn acquire_error(e: PoolError<sqlx::Error>) -> DbErr {
    match e {
        PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        PoolError::Backend(e) => DbErr::Conn(RuntimeErr::SqlxError(e.into())),
        PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
        }
    }
}

/// `statement`, failing as an I/O error (the connection is lost as far as we can tell) when
/// it has no answer within `timeout`.
async fn bounded<T>(
    timeout: Duration,
    statement: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    tokio::time::timeout(timeout, statement)
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer from the database within {timeout:?}"),
            )))
        })
}

fn query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// Runs `statement` on a connection of `pool`, bounded by `timeout`: `Err` when no connection
/// could be had, else the statement's own result.
async fn on_connection<T>(
    pool: &managed::Pool<PgManager>,
    timeout: Duration,
    statement: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
) -> Result<Result<T, sqlx::Error>, DbErr> {
    let mut checkout = Checkout::take(pool).await?;
    let result = bounded(timeout, statement(checkout.conn())).await;
    Ok(checkout.finish(result))
}

fn exec_error(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e.into()))
}

fn query_error(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match &self.0 {
            Backend::Postgres { .. } => DbBackend::Postgres,
            Backend::SeaOrm(db) => db.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Backend::Postgres {
                pool,
                statement_timeout,
            } => on_connection(pool, *statement_timeout, async |c| {
                query(&stmt).execute(c).await
            })
            .await?
            .map(Into::into)
            .map_err(exec_error),
            Backend::SeaOrm(db) => db.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Backend::Postgres {
                pool,
                statement_timeout,
            } => on_connection(pool, *statement_timeout, async |c| {
                c.execute(sqlx::AssertSqlSafe(sql)).await
            })
            .await?
            .map(Into::into)
            .map_err(exec_error),
            Backend::SeaOrm(db) => db.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.0 {
            Backend::Postgres {
                pool,
                statement_timeout,
            } => on_connection(pool, *statement_timeout, async |c| {
                query(&stmt).fetch_optional(c).await
            })
            .await?
            .map(|row| row.map(Into::into))
            .map_err(query_error),
            // SQLite commits a statement outside a transaction when it is stepped to its end.
            // sqlx's `fetch_one` stops at the first row and resets the statement, which
            // commits it there and drops the commit's error (a full disk, a read-only file):
            // an `INSERT ... RETURNING` would give back a row that was rolled back. Reading
            // every row steps it to its end, so a failed commit fails the statement. Guarded
            // by `api/tests/full_disk.rs`.
            Backend::SeaOrm(db) if db.get_database_backend() == DbBackend::Sqlite => {
                Ok(db.query_all_raw(stmt).await?.into_iter().next())
            }
            Backend::SeaOrm(db) => db.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.0 {
            Backend::Postgres {
                pool,
                statement_timeout,
            } => on_connection(pool, *statement_timeout, async |c| {
                query(&stmt).fetch_all(c).await
            })
            .await?
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_error),
            Backend::SeaOrm(db) => db.query_all_raw(stmt).await,
        }
    }
}
