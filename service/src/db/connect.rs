//! How the server connects: the settings, the pools it opens (per worker on PostgreSQL,
//! shared on SQLite), the per-connection policy (SQLite's pragmas, PostgreSQL's lock wait),
//! and retrying at start-up until the database answers (but not when it answers that it
//! will never let us in: a database that does not exist, a role refused).

use std::str::FromStr;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, RuntimeErr};

use super::postgres::{PING_AFTER_IDLE, PgPool};
use super::{Backend, Db};

/// How long a statement waits for a lock another connection holds before it fails as
/// "unavailable" instead of hanging: SQLite's busy timeout and PostgreSQL's `lock_timeout`
/// (unless the URL sets one, e.g. `?options=-c%20lock_timeout%3D10s`).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

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
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Why start-up could not get a database connection. Displays as one line naming the
/// database (host and port, and the URL or the database's name), never its password.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Still out of reach when `connect_timeout` ran out (or its URL is not one the driver
    /// accepts).
    #[error("cannot reach the database at {target}{server}: {source}")]
    Unreachable {
        /// The URL, password redacted.
        target: String,
        /// ` (host:port)` for PostgreSQL, with its defaults filled in; empty for SQLite.
        server: String,
        #[source]
        source: DbErr,
    },
    /// PostgreSQL answered that the database does not exist: waiting will not create it.
    #[error(
        "database \"{name}\" does not exist on the PostgreSQL server at {server}; create it \
         (createdb -h {host} -p {port} -U {user} {name}) or point DATABASE_URL at another"
    )]
    MissingDatabase {
        name: String,
        server: String,
        host: String,
        port: u16,
        user: String,
    },
    /// PostgreSQL refused the role (a wrong password, an unknown role, no `pg_hba.conf`
    /// entry): waiting will not change its mind.
    #[error(
        "the PostgreSQL server at {server} refused user \"{user}\": {reason} (check the user \
         and password in DATABASE_URL, or DATABASE_USERNAME and DATABASE_PASSWORD)"
    )]
    Refused {
        server: String,
        user: String,
        reason: String,
    },
}

impl DatabaseSettings {
    fn unreachable(&self, source: DbErr) -> ConnectError {
        ConnectError::Unreachable {
            target: redact(&self.url),
            server: if is_postgres(&self.url) {
                format!(" ({})", server(&self.url))
            } else {
                String::new()
            },
            source,
        }
    }

    /// The error to stop at at once, when `source` says that retrying cannot help.
    fn hopeless(&self, source: &DbErr) -> Option<ConnectError> {
        let DbErr::Conn(RuntimeErr::SqlxError(e)) = source else {
            return None;
        };
        let db = e.as_database_error()?;
        let code = db.code()?;
        // Connection exceptions (08), out of connections or memory (53), shutting down or
        // starting up (57P): a server that may soon let us in.
        if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") {
            return None;
        }
        let options = PgConnectOptions::from_str(&self.url).ok()?;
        let user = options.get_username().to_owned();
        match &*code {
            "3D000" => Some(ConnectError::MissingDatabase {
                name: options
                    .get_database()
                    .map_or_else(|| user.clone(), str::to_owned),
                server: server(&self.url),
                host: options.get_host().to_owned(),
                port: options.get_port(),
                user,
            }),
            "28P01" | "28000" => Some(ConnectError::Refused {
                server: server(&self.url),
                user,
                reason: db.message().to_owned(),
            }),
            _ => None,
        }
    }
}

/// `host:port` of a PostgreSQL URL (its defaults filled in), for messages; else the URL,
/// redacted.
fn server(url: &str) -> String {
    match PgConnectOptions::from_str(url) {
        Ok(o) if is_postgres(url) => match o.get_socket() {
            Some(socket) => format!("{}", socket.display()),
            None => format!("{}:{}", o.get_host(), o.get_port()),
        },
        _ => redact(url),
    }
}

/// The database handles requests use, once the database answers (retrying until
/// `connect_timeout` has passed). On PostgreSQL, one pool per worker (of `workers`),
/// splitting `max_connections` between them (at least one each): each worker's connections
/// are opened by, and wake, that worker alone. On SQLite, SeaORM's pool, shared.
///
/// # Errors
/// The database stayed unreachable, or its URL is not one PostgreSQL accepts.
pub async fn connect(settings: &DatabaseSettings, workers: usize) -> Result<Vec<Db>, ConnectError> {
    if !is_postgres(&settings.url) {
        let db = open(settings, Some(LOCK_WAIT), None).await?;
        let file = super::writable::SqliteFile::opened(&settings.url).map(std::sync::Arc::new);
        return Ok(vec![Db(Backend::SeaOrm(db), file)]);
    }
    let options = PgConnectOptions::from_str(&settings.url)
        .map(|o| with_lock_wait(o, LOCK_WAIT))
        .map_err(|e| settings.unreachable(DbErr::Conn(RuntimeErr::SqlxError(e.into()))))?;
    let pools = shares(settings.max_connections, workers)
        .map(|share| PgPool::new(options.clone(), share, settings))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| settings.unreachable(e))?;
    retry(settings, async || {
        probe(&options, settings.acquire_timeout).await
    })
    .await?;
    Ok(pools
        .into_iter()
        .map(|pool| Db(Backend::Postgres(pool), None))
        .collect())
}

/// A SeaORM connection for migrations, retrying as [`connect()`] does. Its statements wait
/// for locks as long as it takes: a replica starting while another one migrates waits its
/// turn for the migration lock (an advisory lock), however long that takes. The SQL it runs
/// is logged at debug level (`RUST_LOG=sqlx=debug` shows it).
///
/// # Errors
/// The database stayed unreachable, or refused us for good.
pub async fn connect_for_migrations(
    settings: &DatabaseSettings,
) -> Result<DatabaseConnection, ConnectError> {
    open(settings, None, Some(log::LevelFilter::Debug)).await
}

/// `total` connections split between the pools of `workers` (at least one each).
fn shares(total: u32, workers: usize) -> impl Iterator<Item = usize> {
    let workers = workers.max(1);
    let total = total as usize;
    (0..workers).map(move |i| (total / workers + usize::from(i < total % workers)).max(1))
}

fn is_postgres(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "postgres" | "postgresql"))
}

/// `lock_timeout` as a connection parameter, unless the URL sets one (e.g.
/// `?options=-c%20lock_timeout%3D10s`).
fn with_lock_wait(options: PgConnectOptions, wait: Duration) -> PgConnectOptions {
    if options
        .get_options()
        .is_some_and(|s| s.contains("lock_timeout"))
    {
        return options;
    }
    options.options([("lock_timeout", format!("{}ms", wait.as_millis()))])
}

/// Opens a SeaORM pool whose PostgreSQL statements wait at most `lock_wait` for a lock
/// (`None`: as long as it takes), retrying until `connect_timeout` has passed, and logging
/// its statements at `sql_log` (`None`: not at all).
async fn open(
    settings: &DatabaseSettings,
    lock_wait: Option<Duration>,
    sql_log: Option<log::LevelFilter>,
) -> Result<DatabaseConnection, ConnectError> {
    let mut options = ConnectOptions::new(settings.url.clone());
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
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            // WAL lets readers and a writer work at once; writers queue for up to the busy
            // timeout instead of failing with SQLITE_BUSY.
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(LOCK_WAIT)
                .foreign_keys(true)
        })
        .map_sqlx_postgres_opts(move |o| match lock_wait {
            Some(wait) => with_lock_wait(o, wait),
            None => o,
        });
    if is_postgres(&settings.url) {
        // sqlx's pool retries a refused connection itself until its own timeout and then
        // reports only "pool timed out": a single connection first says what is wrong.
        let probe_options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| settings.unreachable(DbErr::Conn(RuntimeErr::SqlxError(e.into()))))?;
        retry(settings, async || {
            probe(&probe_options, settings.acquire_timeout).await
        })
        .await?;
    }
    retry(settings, async || Database::connect(options.clone()).await).await
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
    connect: impl AsyncFn() -> Result<T, DbErr>,
) -> Result<T, ConnectError> {
    let deadline = Instant::now() + settings.connect_timeout;
    loop {
        match connect().await {
            Ok(db) => return Ok(db),
            Err(source) => {
                if let Some(hopeless) = settings.hopeless(&source) {
                    return Err(hopeless);
                }
                if Instant::now() >= deadline {
                    return Err(settings.unreachable(source));
                }
                log::warn!(
                    target: LOG_TARGET,
                    "database at {} not reachable yet ({source}); retrying",
                    server(&settings.url)
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://posts.db"), "sqlite://posts.db");
    }

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
