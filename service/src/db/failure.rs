//! What a database error says about the database, when it says more than "this statement
//! failed": out of reach for now, out of room, or refusing writes. It is read from the
//! drivers' own codes (SQLite's result codes, PostgreSQL's SQLSTATEs) here and nowhere else;
//! `service::Error`'s `From<DbErr>` turns it into a variant.
//!
//! One kind is a configuration error rather than the database's state: a pooler in
//! transaction mode losing our prepared statements. It is told as unavailable (a retry may
//! land well), and the first one logs, once per process, the one line that says what to set.

use std::sync::Once;

use sea_orm::{DbErr, RuntimeErr};

/// What a failed statement says about the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Out of reach for now: try again shortly.
    Unavailable,
    /// No room left to write.
    StorageFull,
    /// The storage refuses writes.
    Storage,
}

/// What `err` says about the database; `None` when only the statement failed.
pub(crate) fn classify(err: &DbErr) -> Option<Failure> {
    use sea_orm::sqlx::Error as S;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Some(Failure::Unavailable),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match &**e {
                S::Io(_) | S::Tls(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed => {
                    Some(Failure::Unavailable)
                }
                S::Protocol(_) => Some(Failure::Unavailable),
                S::Database(db) => {
                    let code = db.code()?;
                    if db
                        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                        .is_some()
                    {
                        sqlite_failure(code.parse::<u32>().ok()? & 0xff)
                    } else if pooler_lost_statement(&code, db.message()) {
                        POOLER_HINT.call_once(|| log_pooler_hint(db.message()));
                        Some(Failure::Unavailable)
                    } else {
                        postgres_failure(&code)
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// By SQLite's primary result code (the low byte of the extended one).
fn sqlite_failure(primary: u32) -> Option<Failure> {
    match primary {
        // SQLITE_BUSY, SQLITE_LOCKED: another writer held the file past the busy timeout.
        5 | 6 => Some(Failure::Unavailable),
        // SQLITE_FULL: the disk (or the file system's quota) is full.
        13 => Some(Failure::StorageFull),
        // SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN: the file or its directory cannot be
        // written (permissions, a file system remounted read-only, a failing disk).
        8 | 10 | 14 => Some(Failure::Storage),
        _ => None,
    }
}

/// Logs the pooler's one line, once per process.
static POOLER_HINT: Once = Once::new();

/// Whether PostgreSQL's answer says that a prepared statement of ours was missing, or its name
/// taken, on the backend the statement ran on: a pooler in transaction mode moved us between
/// backends (duplicate_prepared_statement 42P05, invalid_sql_statement_name 26000, or a
/// protocol violation naming a prepared statement, such as a Bind that does not fit the
/// statement another client prepared under that name).
fn pooler_lost_statement(code: &str, message: &str) -> bool {
    matches!(code, "42P05" | "26000") || (code == "08P01" && message.contains("prepared statement"))
}

fn log_pooler_hint(message: &str) {
    log::error!(
        "PostgreSQL lost a prepared statement of ours ({message}): the database is reached \
         through a pooler in transaction mode that does not keep them; set \
         DATABASE_PREPARED_STATEMENTS=false, or max_prepared_statements in PgBouncer 1.21 or \
         later (until then such requests get 503)"
    );
}

/// By PostgreSQL's SQLSTATE.
fn postgres_failure(code: &str) -> Option<Failure> {
    match code {
        // disk_full
        "53100" => Some(Failure::StorageFull),
        // io_error; read_only_sql_transaction (a standby after a failover)
        "58030" | "25006" => Some(Failure::Storage),
        // 57P01..57P03: the server is shutting down or terminated this backend; 08xxx:
        // connection exceptions; 53xxx: out of memory or connections; 55P03: a lock stayed
        // held past `lock_timeout`; 40P01 and 40001: chosen as a deadlock's victim, or a
        // serialization failure (the statement lost a race, and a retry runs it afresh). All
        // mean "try again shortly".
        c if c.starts_with("57P") || c.starts_with("08") || c.starts_with("53") => {
            Some(Failure::Unavailable)
        }
        "55P03" | "40P01" | "40001" => Some(Failure::Unavailable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_by_primary_code() {
        // SQLITE_FULL, SQLITE_IOERR_WRITE (10 | 3 << 8), SQLITE_READONLY_DBMOVED (8 | 4 << 8),
        // SQLITE_BUSY_SNAPSHOT (5 | 2 << 8), SQLITE_CONSTRAINT_UNIQUE (19 | 8 << 8).
        let by_extended = |code: u32| sqlite_failure(code & 0xff);
        assert_eq!(by_extended(13), Some(Failure::StorageFull));
        assert_eq!(by_extended(778), Some(Failure::Storage));
        assert_eq!(by_extended(1032), Some(Failure::Storage));
        assert_eq!(by_extended(517), Some(Failure::Unavailable));
        assert_eq!(by_extended(2067), None);
    }

    #[test]
    fn postgres_codes_by_sqlstate() {
        assert_eq!(postgres_failure("53100"), Some(Failure::StorageFull));
        assert_eq!(postgres_failure("58030"), Some(Failure::Storage));
        assert_eq!(postgres_failure("25006"), Some(Failure::Storage));
        for unavailable in [
            "53200", "53300", "57P01", "08006", "55P03", "40P01", "40001",
        ] {
            assert_eq!(postgres_failure(unavailable), Some(Failure::Unavailable));
        }
        for statement in ["23505", "23503", "42P01"] {
            assert_eq!(postgres_failure(statement), None);
        }
    }

    #[test]
    fn a_pooler_losing_prepared_statements_is_recognised() {
        for (code, message) in [
            ("42P05", r#"prepared statement "sqlx_s_1" already exists"#),
            ("26000", r#"prepared statement "sqlx_s_3" does not exist"#),
            ("26000", "unnamed prepared statement does not exist"),
            (
                "08P01",
                r#"bind message supplies 2 parameters, but prepared statement "sqlx_s_2" requires 1"#,
            ),
        ] {
            assert!(pooler_lost_statement(code, message), "{code} {message}");
        }
        assert!(!pooler_lost_statement("08P01", "invalid message format"));
        assert!(!pooler_lost_statement("23505", "duplicate key value"));
    }
}
