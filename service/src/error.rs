//! The one error type of the service layer.

use sea_orm::{DbErr, RuntimeErr};

/// Why a use case failed. Each variant notes the HTTP status the API gives it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: no such user.
    #[error("no user with id {0}")]
    UserNotFound(i64),
    /// 404: no such post, or a draft of someone else's.
    #[error("no post with id {0} visible to the caller")]
    PostNotFound(i64),
    /// 404: `/posts/latest` when no post is visible (`{id}` is the path's `latest`).
    #[error("no post visible to the caller")]
    NoVisiblePost,
    /// 404: removing a vote that was never cast.
    #[error("no such vote to remove")]
    VoteNotFound,
    /// 403: the post exists but belongs to someone else.
    #[error("the post belongs to someone else")]
    Forbidden,
    /// 409: the email is registered already (case-insensitively).
    #[error("the email is registered already")]
    EmailTaken,
    /// 409: this user has voted on this post already.
    #[error("user {user_id} voted on post {post_id} already")]
    AlreadyVoted { user_id: i32, post_id: i64 },
    /// 403: unknown email or wrong password (deliberately indistinguishable).
    #[error("unknown email or wrong password")]
    InvalidCredentials,
    /// 429: too many failed logins for this account or from this client; retry after the
    /// given number of seconds.
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// 401: a bearer token that is malformed, forged, expired or names no user.
    #[error("token refused: malformed, forged, expired, or naming no user")]
    InvalidToken,
    /// 503: the database cannot be reached right now (connection refused or lost, pool
    /// exhausted); worth retrying.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    /// 507: the database has no room left to write (a full disk); worth retrying once
    /// space is freed, with no restart.
    #[error("database storage full")]
    StorageFull(#[source] DbErr),
    /// 503: the database's storage cannot take the write (a read-only file or file system,
    /// an I/O error, a read-only standby); worth retrying once it is mended.
    #[error("database storage failure")]
    StorageFailure(#[source] DbErr),
    /// 500: any other database failure.
    #[error("database error")]
    Db(#[source] DbErr),
    /// 500: a failure that is no one's input (a worker thread died, a token could not be
    /// signed).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match classify(&err) {
            Some(Failure::Unavailable) => Error::Unavailable(err),
            Some(Failure::StorageFull) => Error::StorageFull(err),
            Some(Failure::Storage) => Error::StorageFailure(err),
            None => Error::Db(err),
        }
    }
}

/// What a database error says about the database, when it says more than "this statement
/// failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Out of reach for now: try again shortly.
    Unavailable,
    /// No room left to write.
    StorageFull,
    /// The storage refuses writes.
    Storage,
}

fn classify(err: &DbErr) -> Option<Failure> {
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

/// By PostgreSQL's SQLSTATE.
fn postgres_failure(code: &str) -> Option<Failure> {
    match code {
        // disk_full
        "53100" => Some(Failure::StorageFull),
        // io_error; read_only_sql_transaction (a standby after a failover)
        "58030" | "25006" => Some(Failure::Storage),
        // 57P01..57P03: the server is shutting down or terminated this backend; 08xxx:
        // connection exceptions; 53xxx: out of memory or connections; 55P03: a lock stayed
        // held past `lock_timeout`. All mean "try again shortly".
        c if c.starts_with("57P") || c.starts_with("08") || c.starts_with("53") => {
            Some(Failure::Unavailable)
        }
        "55P03" => Some(Failure::Unavailable),
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
        for unavailable in ["53200", "53300", "57P01", "08006", "55P03"] {
            assert_eq!(postgres_failure(unavailable), Some(Failure::Unavailable));
        }
        for statement in ["23505", "23503", "42P01"] {
            assert_eq!(postgres_failure(statement), None);
        }
    }
}
