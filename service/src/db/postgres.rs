//! The PostgreSQL pool: sqlx connections pooled by deadpool rather than by sqlx's own pool.
//!
//! sqlx's pool pings a connection each time one is given back (and, by default, again each
//! time one is taken): every statement cost three round trips to the database instead of
//! one. Here a connection goes back to the pool as it is, and is pinged only when it has sat
//! idle long enough to have been dropped by a proxy or a failover. What the release ping was
//! for is kept where it matters:
//! - a connection whose statement failed for want of the connection (I/O, protocol,
//!   terminated backend, no answer within the statement timeout) is closed instead of being
//!   handed out again;
//! - a connection whose statement was abandoned half-way (the client hung up) is pinged at
//!   once, which reads what is left of its answer (and rolls back a transaction it left
//!   open), before anyone else gets it;
//! - connections are retired after [`MAX_LIFETIME`], as sqlx's pool does by default.
//!
//! Statements are sent as [`Sending`] says: prepared (named, cached per connection), or, for
//! a pooler in transaction mode, with their values written in as one simple query (`inline`),
//! or, where that cannot be done for certain, unnamed inside a transaction of their own
//! (`pooler` says why).

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgQueryResult, PgRow};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _, Executor as _};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, Statement, Values};
use sea_query_sqlx::SqlxValues;

use super::inline::inline;
use super::pooler::Sending;
use super::{DatabaseSettings, PoolStatus};

/// A connection idle for this long is pinged before it is handed out.
pub(super) const PING_AFTER_IDLE: Duration = Duration::from_secs(30);
/// A connection this old is closed and replaced when it next comes out of the pool.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A pool of PostgreSQL connections, and how long a statement on one may go unanswered.
#[derive(Clone)]
pub(super) struct PgPool {
    pool: managed::Pool<PgManager>,
    /// Past it the statement fails as an I/O error (so callers see the database as
    /// unavailable) and its connection is closed: the one bound on a network that went
    /// silent, or a proxy that hung, mid-statement.
    statement_timeout: Duration,
    sending: Sending,
}

impl PgPool {
    /// A pool of at most `max_connections`. It opens connections as statements need them, on
    /// the runtime of the task that needs one: a connection's socket then wakes that runtime,
    /// not another.
    ///
    /// # Errors
    /// The pool could not be built (`DbErr::Custom`).
    pub(super) fn new(
        options: PgConnectOptions,
        max_connections: usize,
        settings: &DatabaseSettings,
        sending: Sending,
    ) -> Result<Self, DbErr> {
        let manager = PgManager {
            options: options.disable_statement_logging(),
        };
        let pool = managed::Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.acquire_timeout))
            .recycle_timeout(Some(settings.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbErr::Custom(format!("cannot build the connection pool: {e}")))?;
        Ok(Self {
            pool,
            statement_timeout: settings.statement_timeout,
            sending,
        })
    }

    /// Runs `statement` on a pooled connection, bounded by the statement timeout: `Err` when
    /// no connection could be had, else the statement's own result. `statement` is told how
    /// to send (see [`fetch_all`], [`execute`], [`execute_sql`]).
    pub(super) async fn run<T>(
        &self,
        statement: impl AsyncFnOnce(&mut PgConnection, &Sending) -> Result<T, sqlx::Error>,
    ) -> Result<Result<T, sqlx::Error>, DbErr> {
        let mut checkout = Checkout::take(&self.pool, self.statement_timeout).await?;
        let Some(conn) = checkout.conn() else {
            return Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed));
        };
        let result = bounded(self.statement_timeout, statement(conn, &self.sending)).await;
        Ok(checkout.finish(result))
    }

    pub(super) fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            open: s.size,
            idle: s.available,
        }
    }

    /// Closes the idle connections (telling PostgreSQL so) and refuses new statements.
    pub(super) async fn close(&self) {
        self.pool.close();
        for idle in self.pool.retain(|_, _| false).removed {
            idle.conn.close().await.ok();
        }
    }
}

/// Every row `stmt` answers, sent as `sending` says.
pub(super) async fn fetch_all(
    conn: &mut PgConnection,
    stmt: Statement,
    sending: &Sending,
) -> Result<Vec<PgRow>, sqlx::Error> {
    match sending {
        Sending::Prepared => query(stmt, true).fetch_all(conn).await,
        Sending::Unprepared { lock_wait, begin } => match inline(&stmt) {
            Some(sql) => simple(lock_wait, &sql).fetch_all(conn).await,
            None => {
                in_transaction(conn, begin, async |c| query(stmt, false).fetch_all(c).await).await
            }
        },
    }
}

/// The first row `stmt` answers, sent as `sending` says. Inlined, every row is read, so that
/// an error after the rows (the implicit transaction failing to commit) fails the statement.
pub(super) async fn fetch_optional(
    conn: &mut PgConnection,
    stmt: Statement,
    sending: &Sending,
) -> Result<Option<PgRow>, sqlx::Error> {
    match sending {
        Sending::Prepared => query(stmt, true).fetch_optional(conn).await,
        Sending::Unprepared { .. } => Ok(fetch_all(conn, stmt, sending).await?.into_iter().next()),
    }
}

/// `stmt` run for what it does, sent as `sending` says.
pub(super) async fn execute(
    conn: &mut PgConnection,
    stmt: Statement,
    sending: &Sending,
) -> Result<PgQueryResult, sqlx::Error> {
    match sending {
        Sending::Prepared => query(stmt, true).execute(conn).await,
        Sending::Unprepared { lock_wait, begin } => match inline(&stmt) {
            Some(sql) => simple(lock_wait, &sql).execute(conn).await,
            None => {
                in_transaction(conn, begin, async |c| query(stmt, false).execute(c).await).await
            }
        },
    }
}

/// `sql` (with no parameters) as one simple query; without prepared statements, after the
/// lock wait's `SET LOCAL`.
pub(super) async fn execute_sql(
    conn: &mut PgConnection,
    sql: &str,
    sending: &Sending,
) -> Result<PgQueryResult, sqlx::Error> {
    match sending {
        Sending::Prepared => conn.execute(sqlx::AssertSqlSafe(sql)).await,
        Sending::Unprepared { lock_wait, .. } => simple(lock_wait, sql).execute(conn).await,
    }
}

/// `sql` as one simple query, after `lock_wait` (`SET LOCAL lock_timeout = ...; `, or
/// nothing): the query's statements are one implicit transaction, which the `SET LOCAL`
/// lasts for, and which a pooler in transaction mode keeps on one backend.
fn simple(lock_wait: &str, sql: &str) -> sqlx::RawSql {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{lock_wait}{sql}")))
}

/// `statement` in a transaction of its own that `begin` starts: a pooler in transaction mode
/// keeps one backend from the `BEGIN` to the `COMMIT`, so an unnamed statement is parsed,
/// bound and run on the same one. A failed statement is rolled back at once (its locks go
/// with it) unless the connection is lost anyway.
async fn in_transaction<T>(
    conn: &mut PgConnection,
    begin: &Arc<str>,
    statement: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    let mut txn = conn
        .begin_with(sqlx::AssertSqlSafe(Arc::clone(begin)))
        .await?;
    match statement(&mut *txn).await {
        Ok(out) => {
            txn.commit().await?;
            Ok(out)
        }
        Err(e) => {
            if !breaks_connection(&e) {
                // If this fails too, dropping the transaction queues the rollback for the
                // connection's next use.
                txn.rollback().await.ok();
            }
            Err(e)
        }
    }
}

/// `stmt` as sqlx runs it: prepared (named, and kept by the connection) when `persistent`,
/// else unnamed. Taking the statement by value hands its SQL and values to sqlx as they are,
/// without copying them.
fn query(
    stmt: Statement,
    persistent: bool,
) -> sqlx::query::Query<'static, sqlx::Postgres, SqlxValues> {
    let values = stmt.values.unwrap_or_else(|| Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values)).persistent(persistent)
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
        // Boxed: sqlx's connect is a large future, and deadpool nests this one in timeouts
        // that each keep a copy; inline, the nest was part of every statement's future and
        // was copied on each request (see "Futures kept small" in the README). A connection
        // is opened rarely; the box costs one allocation then.
        Ok(PgConn {
            conn: Box::pin(self.options.connect()).await?,
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
/// the statement was abandoned: the connection is pinged at once, on a task of its own (which
/// reads what was left of its answer, and sends the rollback of a transaction left open),
/// and goes back to the pool marked by how that went.
/// Guarded by `faults::clients_hanging_up_leak_no_connection_and_write_no_half_row`.
struct Checkout {
    conn: Option<Object<PgManager>>,
    /// How long the ping of an abandoned connection may take before it counts as broken.
    ping_timeout: Duration,
}

impl Checkout {
    async fn take(pool: &managed::Pool<PgManager>, ping_timeout: Duration) -> Result<Self, DbErr> {
        let conn = pool.get().await.map_err(acquire_error)?;
        Ok(Self {
            conn: Some(conn),
            ping_timeout,
        })
    }

    /// The connection (always there: only `finish` and `drop` take it out, and both end the
    /// checkout).
    fn conn(&mut self) -> Option<&mut PgConnection> {
        self.conn.as_mut().map(|c| &mut c.conn)
    }

    /// The statement is over; `result` says whether the connection survived it.
    fn finish<T>(mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let Some(mut conn) = self.conn.take()
            && result.as_ref().is_err_and(breaks_connection)
        {
            conn.state = ConnState::Broken;
        }
        result
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        conn.state = ConnState::Abandoned;
        // Without a runtime (never, in the server) it goes back marked, and is pinged when
        // next taken out.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let timeout = self.ping_timeout;
            runtime.spawn(async move {
                conn.state = match tokio::time::timeout(timeout, conn.conn.ping()).await {
                    Ok(Ok(())) => ConnState::Ready,
                    _ => ConnState::Broken,
                };
            });
        }
    }
}

/// Whether an error leaves the connection unusable (as opposed to failing one statement).
/// Guarded by `faults::terminated_database_connections_give_503_then_recover`.
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
/// Guarded by `faults::database_out_of_reach_while_serving_gives_503_then_recovers`.
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
