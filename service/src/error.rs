//! The one error type of the service layer.

use sea_orm::DbErr;

use crate::db::{Failure, classify};

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
