//! What a user does to their own account once logged in: change the password, delete the
//! account. Each asks for the current password, checked as login checks it, throttled as
//! login is: a wrong one counts as a failed login.

use std::net::IpAddr;

use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use crate::Error;
use crate::auth::Auth;
use crate::auth::throttle::LoginThrottle;
use crate::domain::Password;
use crate::sessions::{self, TokenPair};
use crate::users::User;

/// Who asks, from where, proving it with which password.
pub struct Confirmation<'a> {
    pub user: &'a User,
    /// The password the caller typed.
    pub password: &'a str,
    /// The client's address, for throttling; `None` when unknown.
    pub client: Option<IpAddr>,
}

/// The stored hash, once `confirmation`'s password matches it.
///
/// # Errors
/// `TooManyAttempts` while the account or client is throttled (before any bcrypt work);
/// `InvalidCredentials` for a wrong password (counted); `InvalidToken` if the user is gone.
pub(crate) async fn confirm<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    throttle: &LoginThrottle,
    confirmation: &Confirmation<'_>,
) -> Result<String, Error> {
    let account = confirmation.user.email.to_lowercase();
    let reserved = throttle.reserve(db, &account, confirmation.client).await?;
    let hash = user::Entity::find_by_id(confirmation.user.id)
        .select_only()
        .column(user::Column::Password)
        .into_tuple::<String>()
        .one(db)
        .await?
        .ok_or(Error::InvalidToken)?;
    if auth
        .check_password(confirmation.password, Some(hash.clone()))
        .await?
    {
        throttle
            .succeeded(db, reserved, confirmation.user.id)
            .await?;
        Ok(hash)
    } else {
        // The reservation stays: it is this failure's count.
        Err(Error::InvalidCredentials)
    }
}

/// Changes the password, ends every session, revokes every token issued before and cancels
/// any pending password reset, then starts a new session for the caller.
///
/// The sessions end before the password changes, so that a failure between the two leaves the
/// user logged out with the old password, never logged in where they should not be; and
/// again after it, for a login with the old password that got in between.
///
/// # Errors
/// Those of confirming the password; `InvalidCredentials` too if the password changed
/// meanwhile; database errors.
pub async fn change_password<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    throttle: &LoginThrottle,
    confirmation: Confirmation<'_>,
    new_password: &Password,
    user_agent: Option<&str>,
) -> Result<TokenPair, Error> {
    let old_hash = confirm(db, auth, throttle, &confirmation).await?;
    let new_hash = auth.hash_password(new_password).await?;
    let id = confirmation.user.id;
    sessions::end_all(db, id).await?;
    let update = Query::update()
        .table(user::Entity)
        .value(user::Column::Password, new_hash.clone())
        .and_where(Expr::col(user::Column::Id).eq(id))
        .and_where(Expr::col(user::Column::Password).eq(old_hash))
        .to_owned();
    if db.execute(&update).await?.rows_affected() == 0 {
        return Err(Error::InvalidCredentials);
    }
    // Again, after: a login with the old password between the first end and the change may
    // have started a session.
    sessions::end_all(db, id).await?;
    crate::email::cancel_resets(db, id).await?;
    let start = sessions::Start {
        user_id: id,
        password_hash: &new_hash,
        user_agent,
        client: confirmation.client,
    };
    sessions::start(db, auth, start).await
}

/// Deletes the account with its posts, votes, sessions and tokens: one `DELETE`, whose
/// foreign keys cascade, so all of it goes or none. Ids are never handed out again
/// (`AUTOINCREMENT` on SQLite, a sequence on PostgreSQL), so no token of this user can ever
/// name another.
///
/// # Errors
/// Those of confirming the password; `InvalidCredentials` too if the password changed
/// meanwhile; database errors.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    throttle: &LoginThrottle,
    confirmation: Confirmation<'_>,
) -> Result<(), Error> {
    let hash = confirm(db, auth, throttle, &confirmation).await?;
    let deleted = db
        .execute(
            &user::Entity::delete_many()
                .filter(user::Column::Id.eq(confirmation.user.id))
                .filter(user::Column::Password.eq(hash))
                .into_query(),
        )
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(Error::InvalidCredentials);
    }
    Ok(())
}
