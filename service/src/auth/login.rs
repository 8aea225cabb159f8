//! The login use case: count the attempt, refusing a throttled one, before any bcrypt work;
//! check the password (against a dummy hash when the email is unknown, so both failures look
//! and take alike); then, on success, give the count back and start a session.

use std::net::IpAddr;

use sea_orm::ConnectionTrait;

use super::Auth;
use super::throttle::LoginThrottle;
use crate::Error;
use crate::sessions::{self, TokenPair};
use crate::users;

/// A login attempt.
pub struct LoginAttempt<'a> {
    /// The email, in any case.
    pub username: &'a str,
    pub password: &'a str,
    /// The client's address, for throttling; `None` when unknown.
    pub client: Option<IpAddr>,
    /// The client's `User-Agent`, kept with the session.
    pub user_agent: Option<&'a str>,
}

/// Logs in with an email (any case) and password, starting a session.
///
/// # Errors
/// `TooManyAttempts` while the account or client is throttled (checked before any bcrypt
/// work); `InvalidCredentials` for an unknown email or a wrong password, alike in answer and
/// in time; `EmailNotVerified` for the right password of an unverified account while
/// verification is required.
pub async fn login<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    throttle: &LoginThrottle,
    attempt: LoginAttempt<'_>,
) -> Result<TokenPair, Error> {
    let account = attempt.username.trim().to_lowercase();
    let reserved = throttle.reserve(db, &account, attempt.client).await?;
    // Every path, so that reading it (once per TYPICAL_COST_TTL) tells nothing apart.
    auth.refresh_typical_cost(db, false).await?;
    let found = users::find_credentials(db, &account).await?;
    let (user, hash) = match found {
        Some(c) => (
            Some((
                c.id,
                c.email_verified_at.is_some(),
                auth.needs_rehash(&c.password),
            )),
            Some(c.password),
        ),
        None => (None, None),
    };
    match (
        auth.check_password(attempt.password, hash.clone()).await?,
        user,
        hash,
    ) {
        (true, Some((id, verified, rehash)), Some(mut hash)) => {
            throttle.succeeded(db, reserved, id).await?;
            // A hash of another cost (adopted, or made before BCRYPT_COST changed) is made
            // anew at the configured one: the stored costs converge on it.
            if rehash {
                let new = auth.rehash(attempt.password).await?;
                if users::set_password_hash(db, id, &hash, &new).await? {
                    hash = new;
                }
            }
            if auth.requires_verified_email() && !verified {
                return Err(Error::EmailNotVerified);
            }
            // Only while the password is still the one just checked: a change that got in
            // meanwhile (its owner locking this login out) leaves no session started.
            let start = sessions::Start {
                user_id: id,
                password_hash: &hash,
                user_agent: attempt.user_agent,
                client: attempt.client,
            };
            sessions::start(db, auth, start).await
        }
        // The reservation stays: it is this failure's count.
        _ => Err(Error::InvalidCredentials),
    }
}
