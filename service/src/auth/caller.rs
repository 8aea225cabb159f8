//! Who is calling: the bearer token checked, then its user, and its session or revocation
//! time, looked up in one statement — or, on the routes that do one piece of work, checked
//! inside that work's own statement ([`Claimed`], [`Gate`]), so that the request is one round
//! trip.

use chrono::{DateTime, FixedOffset};
use entity::{account_state, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use super::{Auth, Verified};
use crate::Error;
use crate::db::memo::{BuildError, Memo, Memoized};
use crate::users::User;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: User,
    /// The session the token belongs to; `None` for a token minted the course's way.
    pub session_id: Option<i32>,
}

/// Who a token that verifies says the caller is, before the database has confirmed that its
/// user and session still exist: the work of a request is done for [`user_id`](Self::user_id)
/// under the token's [`gate`](Self::gate), and only a statement that comes back empty asks
/// the database who it was ([`confirm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    pub user_id: i32,
    session_id: Option<i32>,
    issued_at: i64,
}

impl Claimed {
    /// What `token` claims, if it verifies.
    ///
    /// # Errors
    /// `InvalidToken` for a token that does not verify, or whose ids are out of range.
    pub fn from_token(auth: &Auth, token: &str) -> Result<Self, Error> {
        Self::try_from(auth.verify(token)?)
    }

    /// The check a statement doing this caller's work makes of it, when one `EXISTS` can: a
    /// session token's session alive. `None` for a token minted the course's way, whose
    /// revocation time is compared in [`confirm`].
    pub(crate) fn gate(&self) -> Option<Gate> {
        self.session_id.map(|session_id| Gate {
            user_id: self.user_id,
            session_id,
        })
    }
}

impl TryFrom<Verified> for Claimed {
    type Error = Error;

    fn try_from(v: Verified) -> Result<Self, Error> {
        let id = |n: i64| i32::try_from(n).map_err(|_| Error::InvalidToken);
        Ok(Self {
            user_id: id(v.user_id)?,
            session_id: v.session_id.map(id).transpose()?,
            issued_at: v.issued_at,
        })
    }
}

/// `EXISTS (SELECT 1 FROM sessions WHERE sessions.id = $session AND sessions.user_id = $user)`:
/// the caller's session alive, as a condition of the statement that does the caller's work.
/// A session's row is deleted when it ends (logout, password change or reset, "log out
/// everywhere") and with its user (foreign-key cascade), so this is what the session caller's
/// look-up checks; a statement under it that comes back empty, or touches no row, says only
/// that the gate or the work's own condition failed, and [`confirm`] tells which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gate {
    user_id: i32,
    session_id: i32,
}

impl Gate {
    pub(crate) fn condition(self) -> SimpleExpr {
        Expr::exists(
            Query::select()
                .expr(Expr::cust("1"))
                .from(session::Entity)
                .and_where(Expr::col((session::Entity, session::Column::Id)).eq(self.session_id))
                .and_where(Expr::col((session::Entity, session::Column::UserId)).eq(self.user_id))
                .to_owned(),
        )
    }

    /// [`condition`](Self::condition)'s values, in its order.
    pub(crate) fn values(self) -> [Value; 2] {
        [self.session_id.into(), self.user_id.into()]
    }

    /// A gate for the memoized statements' unit tests.
    #[cfg(test)]
    pub(crate) fn for_test(user_id: i32, session_id: i32) -> Self {
        Self {
            user_id,
            session_id,
        }
    }
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
    confirm(db, &Claimed::from_token(auth, token)?).await
}

/// The caller `claimed` names, if it still may act (as [`authenticate`]).
///
/// # Errors
/// `InvalidToken` for a user or session that is gone or revoked; database errors.
pub async fn confirm<C: ConnectionTrait>(db: &C, claimed: &Claimed) -> Result<Caller, Error> {
    let user_id = claimed.user_id;
    let backend = db.get_database_backend();
    match claimed.session_id {
        Some(sid) => {
            let statement = SessionCaller { user_id, sid }.statement(backend)?;
            let user = User::find_by_statement(statement).one(db).await?;
            let user = user.ok_or(Error::InvalidToken)?;
            Ok(Caller {
                user,
                session_id: Some(sid),
            })
        }
        None => {
            let statement = CourseCaller { user_id }.statement(backend)?;
            let row = CourseCallerRow::find_by_statement(statement)
                .one(db)
                .await?;
            let row = row.ok_or(Error::InvalidToken)?;
            // Seconds on both sides: a token issued in the second of the revocation is refused.
            if row
                .tokens_revoked_at
                .is_some_and(|at| claimed.issued_at <= at.timestamp())
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
    type Query = SelectStatement;

    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> Result<SelectStatement, BuildError> {
        Ok(user_columns(&mut Query::select())
            .inner_join(
                session::Entity,
                Expr::col((session::Entity, session::Column::UserId))
                    .equals((user::Entity, user::Column::Id)),
            )
            .and_where(Expr::col((user::Entity, user::Column::Id)).eq(self.user_id))
            .and_where(Expr::col((session::Entity, session::Column::Id)).eq(self.sid))
            .limit(1)
            .to_owned())
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
    type Query = SelectStatement;

    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> Result<SelectStatement, BuildError> {
        Ok(user_columns(&mut Query::select())
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
            .to_owned())
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
