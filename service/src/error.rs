//! The one error type of the service layer.

use sea_orm::DbErr;

use crate::db::{Failure, classify};

/// Why a use case failed: what was missing, refused or broken, in the service's terms. The
/// database failures say whether trying again may help; how any of this is told to a client
/// is the caller's choice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No user has this id.
    #[error("no user with id {0}")]
    UserNotFound(i64),
    /// No post has this id, or it is a draft of someone else's.
    #[error("no post with id {0} visible to the caller")]
    PostNotFound(i64),
    /// The caller has no live session with this id.
    #[error("no session with id {0} of the caller")]
    SessionNotFound(i64),
    /// The newest post was asked for, and the caller may see none.
    #[error("no post visible to the caller")]
    NoVisiblePost,
    /// A conditional write (`If-Match`) whose post is no longer as the client last saw it:
    /// changed, voted on, or its owner's email changed since. Nothing was written.
    #[error("the post is not as the condition expects")]
    PreconditionFailed,
    /// A vote was to be removed that was never cast.
    #[error("no such vote to remove")]
    VoteNotFound,
    /// The post exists, but belongs to someone else.
    #[error("the post belongs to someone else")]
    Forbidden,
    /// The email is registered already (case-insensitively).
    #[error("the email is registered already")]
    EmailTaken,
    /// This user has voted on this post already.
    #[error("user {user_id} voted on post {post_id} already")]
    AlreadyVoted { user_id: i32, post_id: i64 },
    /// An `Idempotency-Key` already used with another request.
    #[error("idempotency key used with another request")]
    IdempotencyKeyReused,
    /// An `Idempotency-Key` whose first request is still running.
    #[error("idempotency key in use by a request still running")]
    IdempotencyKeyInProgress,
    /// Unknown email or wrong password (deliberately indistinguishable).
    #[error("unknown email or wrong password")]
    InvalidCredentials,
    /// Too many failed logins for this account or from this client; another attempt is
    /// refused for the given number of seconds. `limit` failures per `window_secs` is the
    /// policy that was reached.
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    TooManyAttempts {
        retry_after_secs: u64,
        limit: u32,
        window_secs: u64,
    },
    /// A refresh token that is unknown, expired, of an ended session, or used already
    /// (OAuth2's `invalid_grant`).
    #[error("refresh token refused")]
    InvalidGrant,
    /// Login to an account whose email is not verified, while verification is required.
    #[error("the email is not verified")]
    EmailNotVerified,
    /// A password-reset or email-verification token that is unknown, expired, used already,
    /// or was sent to an address the account no longer has.
    #[error("account token refused")]
    InvalidAccountToken,
    /// Too many mail requests (password recovery, verification resends) for this address or
    /// from this client (`policy` "mail"), or too many refused account tokens from this
    /// client ("token"); another is refused for the given number of seconds. `limit` per
    /// `window_secs` is the policy that was reached.
    #[error("too many {policy} requests; retry in {retry_after_secs} s")]
    TooManyRequests {
        policy: &'static str,
        retry_after_secs: u64,
        limit: u32,
        window_secs: u64,
    },
    /// Password recovery is turned off by configuration.
    #[error("password recovery is disabled")]
    RecoveryDisabled,
    /// Email verification is turned off by configuration.
    #[error("email verification is disabled")]
    VerificationDisabled,
    /// An access token that is malformed, forged, expired or names no user.
    #[error("token refused: malformed, forged, expired, or naming no user")]
    InvalidToken,
    /// The database cannot be reached right now (connection refused or lost, pool
    /// exhausted, a lock held too long); worth retrying shortly.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    /// The database has no room left to write (a full disk); worth retrying once space is
    /// freed, with no restart.
    #[error("database storage full")]
    StorageFull(#[source] DbErr),
    /// The database's storage cannot take the write (a read-only file or file system, an
    /// I/O error, a read-only standby); worth retrying once it is mended.
    #[error("database storage failure")]
    StorageFailure(#[source] DbErr),
    /// Any other database failure: the statement failed, and nothing in the error says that
    /// trying it again would help.
    #[error("database error")]
    Db(#[source] DbErr),
    /// A failure that is no one's input (a worker thread died, a token could not be
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

/// An error and all its sources, joined by `: `, for one log line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
