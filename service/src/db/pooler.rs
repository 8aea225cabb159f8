//! A connection pooler between the server and PostgreSQL (PgBouncer, or a hosted database's
//! "pooled" address): the `DATABASE_PREPARED_STATEMENTS` setting, what start-up can prove
//! about a pooler, and how statements are sent without prepared statements.
//!
//! In **transaction** mode a pooler hands each transaction of a client connection to whichever
//! PostgreSQL backend is free. Two things then break:
//! - **named prepared statements** (sqlx prepares every statement as `sqlx_s_<n>` and keeps it
//!   per connection): the next transaction finds the name missing on another backend
//!   (`does not exist`), or taken by another client's statement (`already exists`; worse, a
//!   statement of the same name and parameter types but other SQL would run). PgBouncer 1.21+
//!   tracks them itself when `max_prepared_statements` is set; 1.18 (Debian 12) cannot.
//!   Unnamed statements are no cure alone: sqlx parses one (and syncs) before it binds and
//!   runs it, and a pooler may hand the two steps to two backends.
//! - **session settings**: `lock_timeout`, sent as a startup parameter, is refused by
//!   PgBouncer (`unsupported startup parameter: options`) or, with `ignore_startup_parameters =
//!   options`, dropped.
//!
//! So with prepared statements off each statement is sent as **one simple query**, its values
//! written into it (`inline`), after `SET LOCAL lock_timeout = ...`: the query's statements are
//! one implicit transaction, which a pooler keeps on one backend and the `SET LOCAL` lasts for.
//! One round trip, as a prepared statement takes. A statement `inline` cannot write out for
//! certain runs unnamed inside a transaction of its own instead (`BEGIN; SET LOCAL ...`,
//! parse, bind and run, `COMMIT`): four round trips, none of this server's statements needs it.
//!
//! What start-up can prove (each is a positive proof; finding none proves nothing):
//! - the `options` startup parameter is refused: PostgreSQL accepts it, so a pooler answers;
//! - `lock_timeout` sent at connect is not the one in force (`pg_settings.source` is not
//!   `client`): something between dropped it;
//! - a backend that served one of our connections serves another one's transaction while the
//!   first connection is still open: only a pooler in transaction (or statement) mode does that.
//!
//! When the setting is left unset, any of these switches prepared statements off, with one
//! warning line saying so.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _, Row as _};
use sea_orm::{DbErr, RuntimeErr};

/// `DATABASE_PREPARED_STATEMENTS` (or the URL's `prepared_statements` parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PreparedStatements {
    /// Unset: prepared, unless start-up proves a pooler in the way (see the module).
    #[default]
    Detect,
    /// `true`: prepared (named, cached per connection; one round trip per statement), whatever
    /// start-up finds. Behind a pooler in transaction mode this needs PgBouncer 1.21+ with
    /// `max_prepared_statements`.
    On,
    /// `false`: each statement unnamed, in a transaction of its own.
    Off,
}

/// The URL parameter that sets [`PreparedStatements`] beside `DATABASE_PREPARED_STATEMENTS`.
pub const URL_PARAMETER: &str = "prepared_statements";

impl PreparedStatements {
    /// Reads `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case; `None` for any other
    /// word.
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(Self::On),
            "false" | "0" | "no" | "off" => Some(Self::Off),
            _ => None,
        }
    }

    /// The value of the [`URL_PARAMETER`] in `url`, if it has one (`Err` holds the word that is
    /// not a yes or no).
    ///
    /// # Errors
    /// The parameter is there with a word [`parse`](Self::parse) does not read.
    pub fn in_url(url: &str) -> Result<Option<Self>, String> {
        let Ok(parsed) = url::Url::parse(url) else {
            return Ok(None);
        };
        parsed
            .query_pairs()
            .filter(|(k, _)| k == URL_PARAMETER)
            .last()
            .map(|(_, v)| Self::parse(&v).ok_or_else(|| v.into_owned()))
            .transpose()
    }
}

/// `url` without the [`URL_PARAMETER`], which is ours, not the driver's (sqlx would warn
/// about it).
pub(super) fn without_our_parameter(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if !parsed.query_pairs().any(|(k, _)| k == URL_PARAMETER) {
        return url.to_owned();
    }
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != URL_PARAMETER)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// How the pool sends statements.
#[derive(Clone, Debug)]
pub(super) enum Sending {
    /// Prepared once per connection (named, cached by sqlx): one round trip per statement.
    Prepared,
    /// No statement prepared: each one with its values written in (`inline`), after
    /// `lock_wait` (the lock wait as `SET LOCAL`, and `; `), as one simple query: one round
    /// trip. A statement that cannot be written out so runs unnamed in a transaction of its
    /// own that starts with `begin` (`BEGIN`, and the same `SET LOCAL`): four round trips.
    Unprepared {
        lock_wait: Arc<str>,
        begin: Arc<str>,
    },
}

impl Sending {
    /// Unprepared, each statement waiting at most `lock_wait` for a lock (`None`: as the
    /// session says, e.g. a `lock_timeout` the URL's `options` set).
    pub(super) fn unprepared(lock_wait: Option<Duration>) -> Self {
        let set = lock_wait
            .map(|wait| format!("SET LOCAL lock_timeout = '{}ms'", wait.as_millis()))
            .unwrap_or_default();
        let (lock_wait, begin) = if set.is_empty() {
            (String::new(), "BEGIN".to_owned())
        } else {
            (format!("{set}; "), format!("BEGIN; {set}"))
        };
        Self::Unprepared {
            lock_wait: lock_wait.into(),
            begin: begin.into(),
        }
    }

    pub(super) fn is_prepared(&self) -> bool {
        matches!(self, Self::Prepared)
    }
}

/// What start-up proved about the way to the database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Findings {
    /// The `options` startup parameter was refused.
    pub(super) refuses_options: bool,
    /// `lock_timeout` sent at connect did not arrive.
    pub(super) drops_options: bool,
    /// One backend served two of our connections in turn.
    pub(super) shares_backends: bool,
}

impl Findings {
    pub(super) fn any(self) -> bool {
        self.refuses_options || self.drops_options || self.shares_backends
    }

    /// What was found, for a log line.
    pub(super) fn describe(self) -> String {
        let mut found = Vec::new();
        if self.refuses_options {
            found.push("it refuses the `options` startup parameter");
        }
        if self.drops_options {
            found.push("lock_timeout sent at connect did not arrive");
        }
        if self.shares_backends {
            found.push("it hands one backend to several connections in turn (transaction mode)");
        }
        found.join("; ")
    }
}

/// Whether `e` is a pooler refusing a startup parameter PostgreSQL itself accepts (PgBouncer:
/// `unsupported startup parameter: options`).
pub(super) fn refused_startup_parameter(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|db| db.message().starts_with("unsupported startup parameter"))
}

/// Whether `message` is PostgreSQL's `database "<name>" does not exist` (which PgBouncer
/// passes on under its own code, 08P01).
pub(super) fn says_database_missing(message: &str) -> bool {
    message.starts_with("database \"") && message.ends_with("\" does not exist")
}

/// Looks for a pooler in the way, through two connections: opened with `prepared` (the
/// server's connect options with `lock_timeout`, checked to arrive when `check_options`), or
/// with `plain` (none) once `prepared` is refused. Every wait is bounded by `timeout`.
///
/// # Errors
/// A connection or a statement failed (other than by refusing a startup parameter).
pub(super) async fn detect(
    prepared: &PgConnectOptions,
    plain: &PgConnectOptions,
    check_options: bool,
    timeout: Duration,
) -> Result<Findings, DbErr> {
    let mut found = Findings::default();
    let options = match bounded(timeout, prepared.connect()).await {
        Ok(conn) => {
            conn.close().await.ok();
            prepared
        }
        Err(e) if refused_startup_parameter(&e) => {
            found.refuses_options = true;
            plain
        }
        Err(e) => return Err(conn_err(e)),
    };
    let mut first = bounded(timeout, options.connect())
        .await
        .map_err(conn_err)?;
    let looked = async {
        let row = simple(
            &mut first,
            "SELECT pg_backend_pid(), \
             (SELECT source FROM pg_settings WHERE name = 'lock_timeout')",
            timeout,
        )
        .await?;
        let pid: i32 = row.try_get(0)?;
        let source: String = row.try_get(1)?;
        found.drops_options = check_options && !found.refuses_options && source != "client";
        let mut second = bounded(timeout, options.connect()).await?;
        let shares = shares_backends(&mut first, &mut second, pid, timeout).await;
        second.close().await.ok();
        found.shares_backends = shares?;
        Ok(found)
    }
    .await
    .map_err(conn_err);
    first.close().await.ok();
    looked
}

/// Whether `second`, inside a transaction, gets the backend `first` had (`pid`) for its last
/// statement: a few tries, as a pooler may hand it another idle backend.
async fn shares_backends(
    first: &mut PgConnection,
    second: &mut PgConnection,
    mut pid: i32,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    for _ in 0..3 {
        let row = simple(second, "BEGIN; SELECT pg_backend_pid()", timeout).await?;
        let taken: i32 = row.try_get(0)?;
        bounded(timeout, sqlx::raw_sql("ROLLBACK").execute(&mut *second)).await?;
        if taken == pid {
            return Ok(true);
        }
        pid = simple(first, "SELECT pg_backend_pid()", timeout)
            .await?
            .try_get(0)?;
    }
    Ok(false)
}

/// The first row of `sql`, sent as one simple query (no statement is prepared).
async fn simple(
    conn: &mut PgConnection,
    sql: &'static str,
    timeout: Duration,
) -> Result<PgRow, sqlx::Error> {
    bounded(timeout, sqlx::raw_sql(sql).fetch_all(conn))
        .await?
        .into_iter()
        .next()
        .ok_or(sqlx::Error::RowNotFound)
}

async fn bounded<T>(
    timeout: Duration,
    step: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    tokio::time::timeout(timeout, step)
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            )))
        })
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_reads_yes_and_no() {
        assert_eq!(
            PreparedStatements::parse(" FALSE "),
            Some(PreparedStatements::Off)
        );
        assert_eq!(
            PreparedStatements::parse("on"),
            Some(PreparedStatements::On)
        );
        assert_eq!(PreparedStatements::parse("maybe"), None);
    }

    #[test]
    fn the_url_parameter_is_read_and_taken_out() {
        let url = "postgres://u:p@h:6432/db?sslmode=disable&prepared_statements=false";
        assert_eq!(
            PreparedStatements::in_url(url),
            Ok(Some(PreparedStatements::Off))
        );
        assert_eq!(
            without_our_parameter(url),
            "postgres://u:p@h:6432/db?sslmode=disable"
        );
        let only = "postgres://h/db?prepared_statements=true";
        assert_eq!(
            PreparedStatements::in_url(only),
            Ok(Some(PreparedStatements::On))
        );
        assert_eq!(without_our_parameter(only), "postgres://h/db");
        let none = "postgres://h/db?options=-c%20lock_timeout%3D10s";
        assert_eq!(PreparedStatements::in_url(none), Ok(None));
        assert_eq!(without_our_parameter(none), none);
        assert_eq!(
            PreparedStatements::in_url("postgres://h/db?prepared_statements=sometimes"),
            Err("sometimes".to_owned())
        );
    }

    #[test]
    fn a_missing_database_is_recognised_in_a_poolers_words() {
        assert!(says_database_missing(
            r#"database "posts_x" does not exist"#
        ));
        assert!(!says_database_missing("server conn crashed?"));
    }

    #[test]
    fn unprepared_statements_set_the_lock_wait_in_their_own_message() {
        let Sending::Unprepared { lock_wait, begin } =
            Sending::unprepared(Some(Duration::from_secs(5)))
        else {
            panic!("unprepared");
        };
        assert_eq!(&*lock_wait, "SET LOCAL lock_timeout = '5000ms'; ");
        assert_eq!(&*begin, "BEGIN; SET LOCAL lock_timeout = '5000ms'");
        let Sending::Unprepared { lock_wait, begin } = Sending::unprepared(None) else {
            panic!("unprepared");
        };
        assert_eq!((&*lock_wait, &*begin), ("", "BEGIN"));
    }
}
