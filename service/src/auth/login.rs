//! The login use case: refuse a throttled attempt before any bcrypt work, check the password
//! (against a dummy hash when the email is unknown, so both failures look and take alike),
//! then issue a token and count the outcome.

use std::net::IpAddr;

use sea_orm::ConnectionTrait;

use super::throttle::LoginThrottle;
use super::{Auth, Token};
use crate::Error;
use crate::users;

/// A login attempt.
pub struct LoginAttempt<'a> {
    /// The email, in any case.
    pub username: &'a str,
    pub password: &'a str,
    /// The client's address, for throttling; `None` when unknown.
    pub client: Option<IpAddr>,
}

/// Logs in with an email (any case) and password.
///
/// # Errors
/// `TooManyAttempts` while the account or client is throttled (checked before any bcrypt
/// work); `InvalidCredentials` for an unknown email or a wrong password, alike in answer and
/// in time.
pub async fn login<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    throttle: &LoginThrottle,
    attempt: LoginAttempt<'_>,
) -> Result<Token, Error> {
    let account = attempt.username.trim().to_lowercase();
    if let Some(wait) = throttle.blocked_for(&account, attempt.client) {
        return Err(Error::TooManyAttempts {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        });
    }
    let found = users::find_credentials(db, &account).await?;
    let (user_id, hash) = match found {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    match (auth.check_password(attempt.password, hash).await?, user_id) {
        (true, Some(id)) => {
            throttle.succeeded(&account);
            auth.issue(id)
        }
        _ => {
            throttle.failed(&account, attempt.client);
            Err(Error::InvalidCredentials)
        }
    }
}
