//! Password recovery: a reset token mailed to the account's address, then a new password
//! for whoever presents it, once.

use std::net::IpAddr;
use std::sync::Arc;

use entity::user;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};

use super::throttles::refused_token;
use super::tokens::{self, Purpose, Whose};
use super::{AccountMail, MailThrottles, issue_in_background};
use crate::Error;
use crate::auth::{Auth, secret};
use crate::domain::{Email, Password};
use crate::sessions;

/// Asks for a reset mail to `email`. The same answer, in the same time, whether or not an
/// account has that address: the token is stored and mailed in the background, replacing any
/// earlier one, and only when there is such an account.
///
/// # Errors
/// `RecoveryDisabled`; `TooManyRequests` while the address or the client is over the mail
/// throttle (every request counts); `Internal` with no randomness for the token; database
/// errors (of the throttle's count).
pub async fn request_reset<C>(
    db: &C,
    account_mail: &Arc<AccountMail>,
    throttles: &MailThrottles,
    email: &Email,
    client: Option<IpAddr>,
) -> Result<(), Error>
where
    C: ConnectionTrait + Clone + Send + Sync + 'static,
{
    if !account_mail.recovery {
        return Err(Error::RecoveryDisabled);
    }
    throttles
        .admit_mail_request(db, email.as_str(), client)
        .await?;
    let secret = secret::generate()?;
    let whose = Whose::Address(email.as_str().to_owned());
    issue_in_background(db, account_mail, Purpose::PasswordReset, whose, secret);
    Ok(())
}

/// Cancels the reset tokens mailed to `user_id`: its password was changed by its owner, and
/// a reset link still in a mailbox must not undo that.
///
/// # Errors
/// Database errors.
pub async fn cancel_resets<C: ConnectionTrait>(db: &C, user_id: i32) -> Result<(), Error> {
    tokens::revoke(db, user_id, Purpose::PasswordReset).await
}

/// Sets a new password for the account whose reset token is `token`, which works once, and
/// ends every session of that account and every access token issued before.
///
/// The sessions are ended before the password changes, so that a failure in between leaves
/// them ended, never alive; and once more after it, so that a login made with the old
/// password in between (by whoever the reset is meant to lock out) is ended too.
///
/// # Errors
/// `RecoveryDisabled`; `TooManyRequests` while the client has presented too many refused
/// tokens; `InvalidAccountToken` for a token that is unknown, expired or used (counted
/// against the client); `Internal` if hashing fails; database errors.
pub async fn reset_password<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    account_mail: &AccountMail,
    throttles: &MailThrottles,
    token: &str,
    new_password: &Password,
    client: Option<IpAddr>,
) -> Result<(), Error> {
    if !account_mail.recovery {
        return Err(Error::RecoveryDisabled);
    }
    let attempt = throttles.admit_token(db, client).await?;
    let Some(holder) = tokens::claim(db, Purpose::PasswordReset, token).await? else {
        return Err(refused_token(attempt));
    };
    throttles.accepted_token(db, attempt).await?;
    let hash = auth.hash_password(new_password).await?;
    sessions::end_all(db, holder.user_id).await?;
    db.execute(
        &Query::update()
            .table(user::Entity)
            .value(user::Column::Password, hash)
            .and_where(Expr::col(user::Column::Id).eq(holder.user_id))
            .to_owned(),
    )
    .await?;
    sessions::end_all(db, holder.user_id).await
}
