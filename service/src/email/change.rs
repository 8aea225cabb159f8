//! Changing the account's email, confirmed with the current password.

use std::sync::Arc;

use entity::{account_state, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, SqlErr};

use super::verification::send_verification;
use super::{AccountMail, tokens};
use crate::Error;
use crate::accounts::{Confirmation, confirm};
use crate::auth::Auth;
use crate::domain::Email;
use crate::throttle::LoginThrottle;
use crate::users::User;

/// An email change: the new address, confirmed by the caller's current password.
pub struct EmailChange<'a> {
    pub email: Email,
    pub confirmation: Confirmation<'a>,
}

/// Changes the caller's email to `change.email`, once the current password is confirmed (as
/// [`crate::accounts`] confirms it: throttled as login is, a wrong one counted).
///
/// A new address is not verified: its verified mark goes first (before the address changes,
/// so that a failure in between leaves the account unverified, never a new address
/// verified), the tokens mailed to the old address are revoked, and while verification is
/// required a verification token is mailed to the new one, in the background. The same
/// address in another case only changes how it is spelled.
///
/// # Errors
/// `TooManyAttempts` while throttled; `InvalidCredentials` for a wrong password;
/// `EmailTaken` if another account has the address; `InvalidToken` if the caller's account is
/// gone; `Internal` if hashing fails; database errors.
pub async fn change_email<C>(
    db: &C,
    auth: &Auth,
    account_mail: &Arc<AccountMail>,
    login_throttle: &LoginThrottle,
    change: EmailChange<'_>,
) -> Result<User, Error>
where
    C: ConnectionTrait + Clone + Send + Sync + 'static,
{
    confirm(db, auth, login_throttle, &change.confirmation).await?;
    let id = change.confirmation.user.id;
    let new = change.email.as_str();
    let same_address = change.confirmation.user.email.to_lowercase() == new;
    if !same_address {
        unverify_unless_taken(db, id, new).await?;
    }
    let user = set_email(db, id, new).await?;
    if !same_address {
        tokens::revoke_all(db, id).await?;
        if account_mail.verification {
            send_verification(db, account_mail, id)?;
        }
    }
    Ok(user)
}

/// `UPDATE account_states SET email_verified_at = NULL WHERE user_id = $1 AND NOT EXISTS
/// (SELECT 1 FROM users WHERE lower(email) = $2 AND id <> $1)`: the verified mark goes, unless
/// another account has the address (then the change is refused with 409 and nothing about
/// this account changes). A race for the address between the two statements can leave the
/// loser unverified, which a resend mends; never the reverse.
async fn unverify_unless_taken<C: ConnectionTrait>(
    db: &C,
    user_id: i32,
    email: &str,
) -> Result<(), Error> {
    let taken = Query::select()
        .expr(Expr::val(1))
        .from(user::Entity)
        .and_where(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(email))
        .and_where(Expr::col(user::Column::Id).ne(user_id))
        .to_owned();
    let update = Query::update()
        .table(account_state::Entity)
        .value(
            account_state::Column::EmailVerifiedAt,
            Expr::value(Option::<chrono::DateTime<chrono::FixedOffset>>::None),
        )
        .and_where(Expr::col(account_state::Column::UserId).eq(user_id))
        .and_where(Expr::exists(taken).not())
        .to_owned();
    db.execute(&update).await?;
    Ok(())
}

/// `UPDATE users SET email = $1 WHERE id = $2 RETURNING id, email, created_at`; the unique
/// index on `lower(email)` decides whether the address is taken.
async fn set_email<C: ConnectionTrait>(db: &C, user_id: i32, email: &str) -> Result<User, Error> {
    let update = Query::update()
        .table(user::Entity)
        .value(user::Column::Email, email)
        .and_where(Expr::col(user::Column::Id).eq(user_id))
        .returning(Query::returning().columns([
            user::Column::Id,
            user::Column::Email,
            user::Column::CreatedAt,
        ]))
        .to_owned();
    let row = db.query_one(&update).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::EmailTaken,
        _ => Error::from(e),
    })?;
    let row = row.ok_or(Error::InvalidToken)?;
    Ok(User::from_query_result(&row, "")?)
}
