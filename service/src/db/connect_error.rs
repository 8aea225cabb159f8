//! Why start-up could not connect, as one line an operator can act on: [`ConnectError`], and
//! which of the driver's errors mean that retrying cannot help ([`hopeless`]).

use std::str::FromStr;

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{DbErr, RuntimeErr};

use super::connect::is_postgres;
use super::pooler;

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
    /// A pooler (PgBouncer) refused a startup parameter PostgreSQL accepts.
    #[error(
        "the database at {server} is a connection pooler that refused a startup parameter \
         ({reason}); set DATABASE_PREPARED_STATEMENTS=false (which sends none but the URL's \
         own `options`), or add `options` to its ignore_startup_parameters"
    )]
    StartupParameterRefused { server: String, reason: String },
    /// Migrations were to run through a pooler in transaction mode.
    #[error(
        "cannot migrate through the connection pooler at {server} (it hands one PostgreSQL \
         backend to several connections in turn: transaction mode, where a migration's \
         prepared statements would outlive it on the backend); point DATABASE_MIGRATION_URL at \
         PostgreSQL itself"
    )]
    ThroughPooler { server: String },
}

/// `url` stayed out of reach (or is not a URL the driver accepts).
pub(super) fn unreachable(url: &str, source: DbErr) -> ConnectError {
    ConnectError::Unreachable {
        target: redact(url),
        server: if is_postgres(url) {
            format!(" ({})", server(url))
        } else {
            String::new()
        },
        source,
    }
}

/// The error to stop at at once, when `source` (from connecting to `url`) says that retrying
/// cannot help.
pub(super) fn hopeless(url: &str, source: &DbErr) -> Option<ConnectError> {
    let DbErr::Conn(RuntimeErr::SqlxError(e)) = source else {
        return None;
    };
    let db = e.as_database_error()?;
    if pooler::refused_startup_parameter(e) {
        return Some(ConnectError::StartupParameterRefused {
            server: server(url),
            reason: db.message().to_owned(),
        });
    }
    let mut code = db.code()?;
    // PgBouncer tells every refusal as a protocol violation (08P01) with PostgreSQL's words:
    // a database that does not exist is as hopeless through it as without it.
    if code == "08P01" && pooler::says_database_missing(db.message()) {
        code = "3D000".into();
    }
    // Connection exceptions (08), out of connections or memory (53), shutting down or
    // starting up (57P): a server that may soon let us in.
    if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") {
        return None;
    }
    let options = PgConnectOptions::from_str(&pooler::without_our_parameter(url)).ok()?;
    let user = options.get_username().to_owned();
    match &*code {
        "3D000" => Some(ConnectError::MissingDatabase {
            name: options
                .get_database()
                .map_or_else(|| user.clone(), str::to_owned),
            server: server(url),
            host: options.get_host().to_owned(),
            port: options.get_port(),
            user,
        }),
        "28P01" | "28000" => Some(ConnectError::Refused {
            server: server(url),
            user,
            reason: db.message().to_owned(),
        }),
        _ => None,
    }
}

/// `host:port` of a PostgreSQL URL (its defaults filled in), for messages; else the URL,
/// redacted.
pub(super) fn server(url: &str) -> String {
    match PgConnectOptions::from_str(&pooler::without_our_parameter(url)) {
        Ok(o) if is_postgres(url) => match o.get_socket() {
            Some(socket) => format!("{}", socket.display()),
            None => format!("{}:{}", o.get_host(), o.get_port()),
        },
        _ => redact(url),
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
}
