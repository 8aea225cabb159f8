//! Who is calling: the bearer token checked, then its user, and its session or revocation
//! time, looked up in one statement — the one every authenticated request already made.

use chrono::{DateTime, FixedOffset};
use entity::{account_state, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use super::Auth;
use crate::Error;
use crate::db::memo::{Memo, Memoized};
use crate::users::User;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: User,
    /// The session the token belongs to; `None` for a token minted the course's way.
    pub session_id: Option<i32>,
}

/// The caller a bearer token names, if it still may act: a token of a session needs that
/// session alive (not logged out, not ended by a password change, reset, or "log out
/// everywhere"); a token without one (the course's kind) needs to be issued after the user's
/// tokens were last revoked. One statement either way.
///
/// # Errors
/// `InvalidToken` for a token that does not verify, or names a user or session that is gone
/// or revoked; database errors.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    token: &str,
) -> Result<Caller, Error> {
    let claims = auth.verify(token)?;
    let user_id = i32::try_from(claims.user_id).map_err(|_| Error::InvalidToken)?;
    let backend = db.get_database_backend();
    match claims.session_id {
        Some(sid) => {
            let sid = i32::try_from(sid).map_err(|_| Error::InvalidToken)?;
            let statement = SessionCaller { user_id, sid }.statement(backend);
            let user = User::find_by_statement(statement).one(db).await?;
            let user = user.ok_or(Error::InvalidToken)?;
            Ok(Caller {
                user,
                session_id: Some(sid),
            })
        }
        None => {
            let statement = CourseCaller { user_id }.statement(backend);
            let row = CourseCallerRow::find_by_statement(statement)
                .one(db)
                .await?;
            let row = row.ok_or(Error::InvalidToken)?;
            // Seconds on both sides: a token issued in the second of the revocation is refused.
            if row
                .tokens_revoked_at
                .is_some_and(|at| claims.issued_at <= at.timestamp())
            {
                return Err(Error::InvalidToken);
            }
            Ok(Caller {
                user: User {
                    id: row.id,
                    email: row.email,
                    created_at: row.created_at,
                },
                session_id: None,
            })
        }
    }
}

fn user_columns(select: &mut SelectStatement) -> &mut SelectStatement {
    select
        .columns([
            (user::Entity, user::Column::Id),
            (user::Entity, user::Column::Email),
            (user::Entity, user::Column::CreatedAt),
        ])
        .from(user::Entity)
}

/// `SELECT users.id, email, created_at FROM users JOIN sessions ON sessions.user_id = users.id
/// WHERE users.id = $1 AND sessions.id = $2 LIMIT 1`: a session token's user, while the
/// session lasts.
struct SessionCaller {
    user_id: i32,
    sid: i32,
}

impl Memoized for SessionCaller {
    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> SelectStatement {
        user_columns(&mut Query::select())
            .inner_join(
                session::Entity,
                Expr::col((session::Entity, session::Column::UserId))
                    .equals((user::Entity, user::Column::Id)),
            )
            .and_where(Expr::col((user::Entity, user::Column::Id)).eq(self.user_id))
            .and_where(Expr::col((session::Entity, session::Column::Id)).eq(self.sid))
            .limit(1)
            .to_owned()
    }

    /// Guarded by `caller::tests::the_memoized_caller_lookups_are_the_built_ones`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        vec![self.user_id.into(), self.sid.into(), 1u64.into()]
    }
}

/// A course-style token's user and when that user's tokens were last revoked.
#[derive(FromQueryResult)]
struct CourseCallerRow {
    id: i32,
    email: String,
    created_at: DateTime<FixedOffset>,
    tokens_revoked_at: Option<DateTime<FixedOffset>>,
}

/// `SELECT users.id, email, created_at, tokens_revoked_at FROM users LEFT JOIN account_states
/// ON account_states.user_id = users.id WHERE users.id = $1 LIMIT 1`.
struct CourseCaller {
    user_id: i32,
}

impl Memoized for CourseCaller {
    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> SelectStatement {
        user_columns(&mut Query::select())
            .column((
                account_state::Entity,
                account_state::Column::TokensRevokedAt,
            ))
            .left_join(
                account_state::Entity,
                Expr::col((account_state::Entity, account_state::Column::UserId))
                    .equals((user::Entity, user::Column::Id)),
            )
            .and_where(Expr::col((user::Entity, user::Column::Id)).eq(self.user_id))
            .limit(1)
            .to_owned()
    }

    /// Guarded by `caller::tests::the_memoized_caller_lookups_are_the_built_ones`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        vec![self.user_id.into(), 1u64.into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memoized_caller_lookups_are_the_built_ones() {
        crate::db::memo::assert_memoized(&[
            &SessionCaller { user_id: 4, sid: 9 },
            &SessionCaller { user_id: 7, sid: 2 },
            &CourseCaller { user_id: 42 },
            &CourseCaller { user_id: 7 },
        ]);
    }
}
