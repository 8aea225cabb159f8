//! The one error type of the service layer.

use sea_orm::{DbErr, RuntimeErr};

/// Why a use case failed. Each variant notes the HTTP status the API gives it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: no such user.
    #[error("user with id: {0} was not found")]
    UserNotFound(i64),
    /// 404: no such post, or a draft of someone else's.
    #[error("post with id: {0} was not found")]
    PostNotFound(i64),
    /// 404: `/posts/latest` when no post is visible (`{id}` is the path's `latest`).
    #[error("post with id: latest was not found")]
    NoVisiblePost,
    /// 404: removing a vote that was never cast.
    #[error("vote does not exist")]
    VoteNotFound,
    /// 403: the post exists but belongs to someone else.
    #[error("Not authorized to perform requested action")]
    Forbidden,
    /// 409: the email is registered already (case-insensitively).
    #[error("email already registered")]
    EmailTaken,
    /// 409: this user has voted on this post already.
    #[error("user {user_id} has already voted on post {post_id}")]
    AlreadyVoted { user_id: i32, post_id: i64 },
    /// 403: unknown email or wrong password (deliberately indistinguishable).
    #[error("Invalid Credentials")]
    InvalidCredentials,
    /// 429: too many failed logins for this account or from this client; retry after the
    /// given number of seconds.
    #[error("too many login attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    /// 401: a bearer token that is malformed, forged, expired or names no user.
    #[error("Could not validate credentials")]
    InvalidToken,
    /// 503: the database cannot be reached right now (connection refused or lost, pool
    /// exhausted); worth retrying.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
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
        if is_unavailable(&err) {
            Error::Unavailable(err)
        } else {
            Error::Db(err)
        }
    }
}

/// Whether `err` means "the database is out of reach" rather than "this statement failed".
fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            use sea_orm::sqlx::Error as S;
            match &**e {
                S::Io(_) | S::Tls(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed => true,
                S::Protocol(_) => true,
                // PostgreSQL 57P01..57P03: the server is shutting down or terminated this
                // backend; 08xxx: connection exceptions; 55P03: a lock stayed held past
                // `lock_timeout`. SQLite 5/6 (SQLITE_BUSY/LOCKED, with their extended codes):
                // another writer held the file past the busy timeout. All mean "try again
                // shortly".
                S::Database(db) => db.code().is_some_and(|c| {
                    c.starts_with("57P")
                        || c.starts_with("08")
                        || c == "55P03"
                        || (db
                            .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                            .is_some()
                            && c.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)))
                }),
                _ => false,
            }
        }
        _ => false,
    }
}
