//! Email verification: a token mailed to the address at registration (and after an email
//! change, or on request), which marks the address verified when presented, as long as it is
//! still the account's address.

use std::net::IpAddr;
use std::sync::Arc;

use entity::{account_state, user};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};

use super::throttles::refused_token;
use super::tokens::{self, Purpose, Whose};
use super::{AccountMail, MailThrottles, issue_in_background};
use crate::Error;
use crate::auth::{Auth, secret};
use crate::domain::{Email, Password};
use crate::users::{self, User, now};

/// Registers a user ([`users::register`]) and, while verification is required, mails a
/// verification token to the address, in the background.
///
/// # Errors
/// As [`users::register`]; `Internal` with no randomness for the token.
pub async fn register<C>(
    db: &C,
    auth: &Auth,
    account_mail: &Arc<AccountMail>,
    email: Email,
    password: Password,
) -> Result<User, Error>
where
    C: ConnectionTrait + Clone + Send + Sync + 'static,
{
    let user = users::register(db, auth, email, password).await?;
    if account_mail.verification {
        send_verification(db, account_mail, user.id)?;
    }
    Ok(user)
}

/// Mails a new verification token to the current address of `user_id`, in the background.
pub(super) fn send_verification<C>(
    db: &C,
    account_mail: &Arc<AccountMail>,
    user_id: i32,
) -> Result<(), Error>
where
    C: ConnectionTrait + Clone + Send + Sync + 'static,
{
    let secret = secret::generate()?;
    issue_in_background(
        db,
        account_mail,
        Purpose::EmailVerification,
        Whose::User(user_id),
        secret,
    );
    Ok(())
}

/// Asks for a new verification mail to `email`. The same answer, in the same time, whatever
/// the address: a token is mailed, in the background, only to an account with that address
/// that is not verified yet.
///
/// # Errors
/// `VerificationDisabled`; `TooManyRequests` while the address or the client is over the
/// mail throttle (every request counts); `Internal` with no randomness for the token; database
/// errors (of the throttle's count).
pub async fn resend_verification<C>(
    db: &C,
    account_mail: &Arc<AccountMail>,
    throttles: &MailThrottles,
    email: &Email,
    client: Option<IpAddr>,
) -> Result<(), Error>
where
    C: ConnectionTrait + Clone + Send + Sync + 'static,
{
    if !account_mail.verification {
        return Err(Error::VerificationDisabled);
    }
    throttles
        .admit_mail_request(db, email.as_str(), client)
        .await?;
    let secret = secret::generate()?;
    let whose = Whose::UnverifiedAddress(email.as_str().to_owned());
    issue_in_background(db, account_mail, Purpose::EmailVerification, whose, secret);
    Ok(())
}

/// Marks the address a verification token was sent to as verified, if the account still
/// has it. The token works once either way.
///
/// # Errors
/// `VerificationDisabled`; `TooManyRequests` while the client has presented too many refused
/// tokens; `InvalidAccountToken` for a token that is unknown, expired, used, or sent to an
/// address the account no longer has (counted against the client); database errors.
pub async fn verify_email<C: ConnectionTrait>(
    db: &C,
    account_mail: &AccountMail,
    throttles: &MailThrottles,
    token: &str,
    client: Option<IpAddr>,
) -> Result<(), Error> {
    if !account_mail.verification {
        return Err(Error::VerificationDisabled);
    }
    let attempt = throttles.admit_token(db, client).await?;
    let Some(holder) = tokens::claim(db, Purpose::EmailVerification, token).await? else {
        return Err(refused_token(attempt));
    };
    // INSERT INTO account_states (user_id, email_verified_at) SELECT id, $now FROM users
    // WHERE id = $1 AND email = $2 ON CONFLICT (user_id) DO UPDATE SET email_verified_at = ...
    let mark = Query::insert()
        .into_table(account_state::Entity)
        .columns([
            account_state::Column::UserId,
            account_state::Column::EmailVerifiedAt,
        ])
        .select_from(
            Query::select()
                .column(user::Column::Id)
                .expr(Expr::val(now()))
                .from(user::Entity)
                .and_where(Expr::col(user::Column::Id).eq(holder.user_id))
                .and_where(Expr::col(user::Column::Email).eq(holder.email))
                .to_owned(),
        )
        .map_err(|e| Error::Internal(format!("verification upsert: {e}")))?
        .on_conflict(
            OnConflict::column(account_state::Column::UserId)
                .update_column(account_state::Column::EmailVerifiedAt)
                .to_owned(),
        )
        .to_owned();
    let done = db.execute(&mark).await?;
    if done.rows_affected() == 0 {
        return Err(refused_token(attempt));
    }
    throttles.accepted_token(db, attempt).await
}
