//! The single-use tokens sent by mail, in `account_tokens`: one live token per user and
//! purpose, stored as its SHA-256 with the address it was sent to. Issuing one replaces the
//! previous (the upsert on the primary key); claiming one deletes it, so it works once.

use chrono::TimeDelta;
use entity::{account_state, account_token, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::Error;
use crate::auth::secret;
use crate::users::now;

/// What a token is for; each user has at most one live token of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    PasswordReset,
    EmailVerification,
}

impl Purpose {
    /// The value of `account_tokens.purpose`, and the word the log uses.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::EmailVerification => "email_verification",
        }
    }
}

/// Whose token to issue.
#[derive(Debug, Clone)]
pub(super) enum Whose {
    /// The account registered with this address (compared case-insensitively), if any.
    Address(String),
    /// That account, if its address is not verified yet.
    UnverifiedAddress(String),
    /// The account with this id.
    User(i32),
}

/// A token's user and the address it was (or is to be) sent to.
#[derive(Debug, FromQueryResult)]
pub(super) struct Holder {
    pub(super) user_id: i32,
    pub(super) email: String,
}

/// Stores `hash` as the live `purpose` token of the account `whose` names, replacing any
/// before it, valid for `ttl`; returns that account and its address, or `None` when there is
/// no such account. One statement (`INSERT ... SELECT ... ON CONFLICT DO UPDATE ...
/// RETURNING`) whether or not there is: the same work for a known address as for an unknown
/// one.
pub(super) async fn issue<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    whose: &Whose,
    hash: &str,
    ttl: TimeDelta,
) -> Result<Option<Holder>, Error> {
    let now = now();
    let mut select = Query::select();
    select
        .column((user::Entity, user::Column::Id))
        .expr(Expr::val(purpose.as_str()))
        .expr(Expr::val(hash))
        .column((user::Entity, user::Column::Email))
        .expr(Expr::val(now))
        .expr(Expr::val(now + ttl))
        .from(user::Entity);
    // Each arm has a WHERE, which SQLite needs to read `ON CONFLICT` after `INSERT ... SELECT`
    // as the upsert's and not as a join's.
    match whose {
        Whose::Address(email) => {
            select.and_where(lower_email_is(email));
        }
        Whose::UnverifiedAddress(email) => {
            select
                .left_join(
                    account_state::Entity,
                    Expr::col((account_state::Entity, account_state::Column::UserId))
                        .equals((user::Entity, user::Column::Id)),
                )
                .and_where(lower_email_is(email))
                .and_where(
                    Expr::col((
                        account_state::Entity,
                        account_state::Column::EmailVerifiedAt,
                    ))
                    .is_null(),
                );
        }
        Whose::User(id) => {
            select.and_where(Expr::col((user::Entity, user::Column::Id)).eq(*id));
        }
    }
    let insert = Query::insert()
        .into_table(account_token::Entity)
        .columns([
            account_token::Column::UserId,
            account_token::Column::Purpose,
            account_token::Column::TokenHash,
            account_token::Column::Email,
            account_token::Column::CreatedAt,
            account_token::Column::ExpiresAt,
        ])
        .select_from(select)
        .map_err(|e| Error::Internal(format!("account token insert: {e}")))?
        .on_conflict(
            OnConflict::columns([
                account_token::Column::UserId,
                account_token::Column::Purpose,
            ])
            .update_columns([
                account_token::Column::TokenHash,
                account_token::Column::Email,
                account_token::Column::CreatedAt,
                account_token::Column::ExpiresAt,
            ])
            .to_owned(),
        )
        .returning(
            Query::returning()
                .columns([account_token::Column::UserId, account_token::Column::Email]),
        )
        .to_owned();
    let row = db.query_one(&insert).await?;
    row.map(|r| Holder::from_query_result(&r, ""))
        .transpose()
        .map_err(Error::from)
}

/// `lower(users.email) = email`, which the unique index on `lower(email)` answers; it also
/// finds rows adopted from the course that were stored in mixed case.
fn lower_email_is(email: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col((user::Entity, user::Column::Email))))
        .eq(email.trim().to_lowercase())
}

/// Claims the live, unexpired `purpose` token the client `presented`: deletes it and returns
/// its holder, in one statement, so that of two requests presenting it only one gets it.
/// `None` for a token that is unknown, expired, used already or for another purpose.
pub(super) async fn claim<C: ConnectionTrait>(
    db: &C,
    purpose: Purpose,
    presented: &str,
) -> Result<Option<Holder>, Error> {
    let delete = Query::delete()
        .from_table(account_token::Entity)
        .and_where(Expr::col(account_token::Column::TokenHash).eq(secret::hash(presented)))
        .and_where(Expr::col(account_token::Column::Purpose).eq(purpose.as_str()))
        .and_where(Expr::col(account_token::Column::ExpiresAt).gt(now()))
        .returning(
            Query::returning()
                .columns([account_token::Column::UserId, account_token::Column::Email]),
        )
        .to_owned();
    let row = db.query_one(&delete).await?;
    row.map(|r| Holder::from_query_result(&r, ""))
        .transpose()
        .map_err(Error::from)
}

/// Deletes every token of `user_id` for `purpose`.
pub(super) async fn revoke<C: ConnectionTrait>(
    db: &C,
    user_id: i32,
    purpose: Purpose,
) -> Result<(), Error> {
    db.execute(
        &Query::delete()
            .from_table(account_token::Entity)
            .and_where(Expr::col(account_token::Column::UserId).eq(user_id))
            .and_where(Expr::col(account_token::Column::Purpose).eq(purpose.as_str()))
            .to_owned(),
    )
    .await?;
    Ok(())
}

/// Deletes every token of `user_id`: they were sent to an address the account no longer has.
pub(super) async fn revoke_all<C: ConnectionTrait>(db: &C, user_id: i32) -> Result<(), Error> {
    db.execute(
        &Query::delete()
            .from_table(account_token::Entity)
            .and_where(Expr::col(account_token::Column::UserId).eq(user_id))
            .to_owned(),
    )
    .await?;
    Ok(())
}
