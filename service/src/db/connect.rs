//! How the server connects: the settings, the pools it opens (per worker on PostgreSQL,
//! shared on SQLite), the per-connection policy (SQLite's pragmas, PostgreSQL's lock wait),
//! whether statements are prepared (`pooler`), and retrying at start-up until the database
//! answers (but not when it answers that it will never let us in: a database that does not
//! exist, a role refused, a pooler refusing what we send: `connect_error` says which).

use std::str::FromStr;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, RuntimeErr};

use super::connect_error::{ConnectError, hopeless, redact, server, unreachable};
use super::pooler::{self, Findings, PreparedStatements, Sending};
use super::postgres::{PING_AFTER_IDLE, PgPool};
use super::{Backend, Db};

/// How long a statement waits for a lock another connection holds before it fails as
/// "unavailable" instead of hanging: SQLite's busy timeout and PostgreSQL's `lock_timeout`
/// (unless the URL sets one, e.g. `?options=-c%20lock_timeout%3D10s`).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// How long a migration waits for SQLite's write lock (its busy timeout) while another process
/// migrates or writes: far longer than any migration of ours takes, but bounded, so a file
/// that stays locked stops start-up with an error instead of hanging it.
pub const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(600);

/// The target of the start-up retry's log line: the one it has always had, which log
/// filters (`RUST_LOG`) and alerts may name.
const LOG_TARGET: &str = "api::startup";

/// Where the database is and how the server uses it.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `sqlite:...` or `postgres://...`.
    pub url: String,
    /// Most connections open at once (on PostgreSQL, all workers' pools together).
    pub max_connections: u32,
    /// How long a statement waits for a pooled connection before it fails as unavailable.
    pub acquire_timeout: Duration,
    /// How long a PostgreSQL statement may go unanswered before it fails as unavailable and
    /// its connection is closed (a silent network, a hung proxy).
    pub statement_timeout: Duration,
    /// How long start-up keeps retrying to reach the database before giving up.
    pub connect_timeout: Duration,
    /// Whether PostgreSQL statements are prepared (`DATABASE_PREPARED_STATEMENTS`, or the
    /// URL's `prepared_statements` parameter).
    pub prepared_statements: PreparedStatements,
    /// Where migrations connect when not to `url` (`DATABASE_MIGRATION_URL`): PostgreSQL
    /// itself, when `url` goes through a pooler in transaction mode.
    pub migration_url: Option<String>,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("prepared_statements", &self.prepared_statements)
            .field("migration_url", &self.migration_url.as_deref().map(redact))
            .finish()
    }
}

/// The database handles requests use, once the database answers (retrying until
/// `connect_timeout` has passed). On PostgreSQL, one pool per worker (of `workers`),
/// splitting `max_connections` between them (at least one each): each worker's connections
/// are opened by, and wake, that worker alone; their statements prepared or not as
/// [`DatabaseSettings::prepared_statements`] says, or as start-up finds (`pooler`). On SQLite,
/// SeaORM's pool, shared.
///
/// # Errors
/// The database stayed unreachable, or its URL is not one PostgreSQL accepts.
pub async fn connect(settings: &DatabaseSettings, workers: usize) -> Result<Vec<Db>, ConnectError> {
    if !is_postgres(&settings.url) {
        let db = open(settings, &settings.url, Some(LOCK_WAIT), None).await?;
        let file = super::writable::SqliteFile::opened(&settings.url).map(std::sync::Arc::new);
        return Ok(vec![Db(
            Backend::SeaOrm(db),
            file,
            std::sync::Arc::default(),
        )]);
    }
    let plain = pg_options(&settings.url)?;
    let prepared = with_lock_wait(plain.clone(), LOCK_WAIT);
    let sending = retry(settings, &settings.url, async || {
        choose(settings, &plain, &prepared).await
    })
    .await?;
    let options = if sending.is_prepared() {
        prepared
    } else {
        plain
    };
    let pools = shares(settings.max_connections, workers)
        .map(|share| PgPool::new(options.clone(), share, settings, sending.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreachable(&settings.url, e))?;
    Ok(pools
        .into_iter()
        .map(|pool| Db(Backend::Postgres(pool), None, std::sync::Arc::default()))
        .collect())
}

/// How the pool sends statements: as the setting says, or, left unset, prepared unless
/// start-up proves a pooler in the way. Connects (and disconnects) at least once, so an
/// error here is the database's answer.
async fn choose(
    settings: &DatabaseSettings,
    plain: &PgConnectOptions,
    prepared: &PgConnectOptions,
) -> Result<Sending, DbErr> {
    let timeout = settings.acquire_timeout;
    // A `lock_timeout` of the URL's own `options` is left to the session.
    let unprepared = || Sending::unprepared((!sets_lock_timeout(plain)).then_some(LOCK_WAIT));
    match settings.prepared_statements {
        PreparedStatements::Off => {
            probe(plain, timeout).await?;
            Ok(unprepared())
        }
        PreparedStatements::On => {
            probe(prepared, timeout).await?;
            let found = pooler::detect(prepared, plain, true, timeout).await?;
            warn_prepared_behind_pooler(settings, found);
            Ok(Sending::Prepared)
        }
        PreparedStatements::Detect => {
            let found = pooler::detect(prepared, plain, true, timeout).await?;
            if !found.any() {
                return Ok(Sending::Prepared);
            }
            probe(plain, timeout).await?;
            log::warn!(
                target: LOG_TARGET,
                "the database at {} answers through a connection pooler ({}): statements go \
                 unnamed, each in a transaction of its own with lock_timeout set in it; set \
                 DATABASE_PREPARED_STATEMENTS=false to say so (or true behind PgBouncer 1.21+ \
                 with max_prepared_statements)",
                server(&settings.url),
                found.describe()
            );
            Ok(unprepared())
        }
    }
}

/// With prepared statements asked for, what start-up found that they (or the lock wait sent
/// at connect) may not survive.
fn warn_prepared_behind_pooler(settings: &DatabaseSettings, found: Findings) {
    if found.drops_options {
        log::warn!(
            target: LOG_TARGET,
            "lock_timeout sent at connect does not reach the database at {} (a pooler drops \
             it): statements wait for locks up to DATABASE_STATEMENT_TIMEOUT_SECS; set \
             DATABASE_PREPARED_STATEMENTS=false, or set lock_timeout on the role (ALTER ROLE \
             ... SET lock_timeout = '5s')",
            server(&settings.url)
        );
    }
    if found.shares_backends {
        log::warn!(
            target: LOG_TARGET,
            "the database at {} answers through a pooler in transaction mode while \
             DATABASE_PREPARED_STATEMENTS=true: that needs PgBouncer 1.21+ with \
             max_prepared_statements set",
            server(&settings.url)
        );
    }
}

/// A SeaORM connection for migrations (to `DATABASE_MIGRATION_URL` when set, else to the
/// database), retrying as [`connect()`] does. Its statements wait for locks as long as it
/// takes (on SQLite, up to [`MIGRATION_LOCK_WAIT`]): a replica starting while another one
/// migrates waits its turn for the migration lock, however long that takes. The SQL it runs
/// is logged at debug level (`RUST_LOG=sqlx=debug` shows it).
///
/// SeaORM prepares (names) every statement, so migrations cannot run through a pooler in
/// transaction mode: unless prepared statements are on by setting, start-up looks for one
/// first (`pooler::detect`) and refuses it.
///
/// # Errors
/// The database stayed unreachable, refused us for good, or is a pooler in transaction mode.
pub async fn connect_for_migrations(
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, ConnectError> {
    let url = settings.migration_url.as_deref().unwrap_or(&settings.url);
    if is_postgres(url) && settings.prepared_statements != PreparedStatements::On {
        let options = pg_options(url)?;
        let timeout = settings.acquire_timeout;
        let found = retry(settings, url, async || {
            pooler::detect(&options, &options, false, timeout).await
        })
        .await?;
        if found.shares_backends {
            return Err(ConnectError::ThroughPooler {
                server: server(url),
            });
        }
    }
    open(settings, url, None, Some(log::LevelFilter::Debug)).await
}

/// `total` connections split between the pools of `workers` (at least one each).
fn shares(total: u32, workers: usize) -> impl Iterator<Item = usize> {
    let workers = workers.max(1);
    let total = total as usize;
    (0..workers).map(move |i| (total / workers + usize::from(i < total % workers)).max(1))
}

pub(super) fn is_postgres(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "postgres" | "postgresql"))
}

/// The connect options of a PostgreSQL `url` (without our own URL parameter). No
/// `extra_float_digits` is sent: no column of ours is a float, and PgBouncer refuses it
/// unless told to ignore it.
fn pg_options(url: &str) -> Result<PgConnectOptions, ConnectError> {
    PgConnectOptions::from_str(&pooler::without_our_parameter(url))
        .map(|o| o.extra_float_digits(None))
        .map_err(|e| unreachable(url, DbErr::Conn(RuntimeErr::SqlxError(e.into()))))
}

/// Whether the URL's own `options` set `lock_timeout` (e.g.
/// `?options=-c%20lock_timeout%3D10s`).
fn sets_lock_timeout(options: &PgConnectOptions) -> bool {
    options
        .get_options()
        .is_some_and(|s| s.contains("lock_timeout"))
}

/// `lock_timeout` as a connection parameter, unless the URL sets one.
fn with_lock_wait(options: PgConnectOptions, wait: Duration) -> PgConnectOptions {
    if sets_lock_timeout(&options) {
        return options;
    }
    options.options([("lock_timeout", format!("{}ms", wait.as_millis()))])
}

/// Opens a SeaORM pool on `url` whose statements wait at most `lock_wait` for a lock
/// (`None`: as long as it takes on PostgreSQL, [`MIGRATION_LOCK_WAIT`] on SQLite), retrying
/// until `connect_timeout` has passed, and logging its statements at `sql_log` (`None`: not
/// at all).
async fn open(
    settings: &DatabaseSettings,
    url: &str,
    lock_wait: Option<Duration>,
    sql_log: Option<log::LevelFilter>,
) -> Result<DatabaseConnection, ConnectError> {
    let mut options = ConnectOptions::new(pooler::without_our_parameter(url));
    options
        .max_connections(settings.max_connections)
        .min_connections(1)
        // A connection in steady use is not pinged on each checkout (a round trip per
        // statement); one idle long enough to have been dropped is.
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .sqlx_logging(sql_log.is_some())
        .sqlx_logging_level(sql_log.unwrap_or(log::LevelFilter::Off))
        .map_sqlx_sqlite_opts(move |o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            // WAL lets readers and a writer work at once; writers queue for up to the busy
            // timeout instead of failing with SQLITE_BUSY.
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(lock_wait.unwrap_or(MIGRATION_LOCK_WAIT))
                .foreign_keys(true)
        })
        .map_sqlx_postgres_opts(move |o| {
            let o = o.extra_float_digits(None);
            match lock_wait {
                Some(wait) => with_lock_wait(o, wait),
                None => o,
            }
        });
    if is_postgres(url) {
        // sqlx's pool retries a refused connection itself until its own timeout and then
        // reports only "pool timed out": a single connection first says what is wrong.
        let probe_options = pg_options(url)?;
        retry(settings, url, async || {
            probe(&probe_options, settings.acquire_timeout).await
        })
        .await?;
    }
    retry(settings, url, async || {
        Database::connect(options.clone()).await
    })
    .await
}

/// Opens one PostgreSQL connection (waiting at most `timeout`) and closes it again: the
/// database is there and lets us in.
async fn probe(options: &PgConnectOptions, timeout: Duration) -> Result<(), DbErr> {
    let conn = tokio::time::timeout(timeout, options.connect())
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            )))
        })
        .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
    conn.close().await.ok();
    Ok(())
}

/// Runs `connect` until it succeeds or `connect_timeout` has passed; stops at once when the
/// database's answer says that trying again cannot help.
async fn retry<T>(
    settings: &DatabaseSettings,
    url: &str,
    connect: impl AsyncFn() -> Result<T, DbErr>,
) -> Result<T, ConnectError> {
    let deadline = Instant::now() + settings.connect_timeout;
    loop {
        match connect().await {
            Ok(db) => return Ok(db),
            Err(source) => {
                if let Some(hopeless) = hopeless(url, &source) {
                    return Err(hopeless);
                }
                if Instant::now() >= deadline {
                    return Err(unreachable(url, source));
                }
                log::warn!(
                    target: LOG_TARGET,
                    "database at {} not reachable yet ({source}); retrying",
                    server(url)
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_split_between_workers_at_least_one_each() {
        let split = |total, workers| shares(total, workers).collect::<Vec<_>>();
        assert_eq!(split(10, 4), [3, 3, 2, 2]);
        assert_eq!(split(10, 1), [10]);
        assert_eq!(split(2, 4), [1, 1, 1, 1]);
        assert_eq!(split(3, 0), [3]);
    }

    #[test]
    fn the_lock_wait_is_sent_unless_the_url_sets_one() {
        let options = |url| with_lock_wait(PgConnectOptions::from_str(url).unwrap(), LOCK_WAIT);
        assert_eq!(
            options("postgres://h/db").get_options(),
            Some("-c lock_timeout=5000ms")
        );
        let own = "postgres://h/db?options=-c%20lock_timeout%3D10s";
        assert_eq!(options(own).get_options(), Some("-c lock_timeout=10s"));
    }
}
