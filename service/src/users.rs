//! Users: registration and look-ups.

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use entity::{account_state, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, QueryTrait, SqlErr, Value,
};

use crate::Error;
use crate::auth::Auth;
use crate::db::memo::{BuildError, Memo, Memoized};
use crate::domain::{Email, Password};

/// A user as others may see it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub created_at: DateTime<FixedOffset>,
}

/// Now, at the microsecond precision both databases keep.
pub(crate) fn now() -> DateTime<FixedOffset> {
    Utc::now().trunc_subsecs(6).fixed_offset()
}

/// Registers a user; the database decides whether the email is taken.
///
/// # Errors
/// `EmailTaken` if the email is registered already, in any case.
pub async fn register<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    email: Email,
    password: Password,
) -> Result<User, Error> {
    let hash = auth.hash_password(&password).await?;
    let model = user::ActiveModel {
        email: Set(email.as_str().to_owned()),
        password: Set(hash),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::EmailTaken,
        _ => Error::from(e),
    })?;
    Ok(User {
        id: model.id,
        email: model.email,
        created_at: model.created_at,
    })
}

/// The user with this id.
///
/// # Errors
/// `UserNotFound`.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<User, Error> {
    find(db, id).await?.ok_or(Error::UserNotFound(id))
}

/// The user a token names, or `None` if there is none (any more).
///
/// # Errors
/// Database errors only.
pub async fn find<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<User>, Error> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(None);
    };
    let statement = FindUser { id }.statement(db.get_database_backend())?;
    Ok(User::find_by_statement(statement).one(db).await?)
}

/// `SELECT id, email, created_at FROM users WHERE id = $1 LIMIT 1`: the token's user, on
/// every authenticated request.
struct FindUser {
    id: i32,
}

impl Memoized for FindUser {
    type Query = SelectStatement;

    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> Result<SelectStatement, BuildError> {
        Ok(user::Entity::find_by_id(self.id)
            .select_only()
            .columns([
                user::Column::Id,
                user::Column::Email,
                user::Column::CreatedAt,
            ])
            .limit(1)
            .into_query())
    }

    /// Guarded by `users::tests::the_memoized_user_lookup_is_the_built_one`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        vec![self.id.into(), 1u64.into()]
    }
}

/// What login needs of the user with an email: id, password hash, and whether the email is
/// verified.
#[derive(Debug, FromQueryResult)]
pub(crate) struct Credentials {
    pub(crate) id: i32,
    pub(crate) password: String,
    pub(crate) email_verified_at: Option<DateTime<FixedOffset>>,
}

/// The credentials of the user with this email, compared case-insensitively.
pub(crate) async fn find_credentials<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<Credentials>, Error> {
    let email = email.trim().to_lowercase();
    let select = Query::select()
        .columns([
            (user::Entity, user::Column::Id),
            (user::Entity, user::Column::Password),
        ])
        .column((
            account_state::Entity,
            account_state::Column::EmailVerifiedAt,
        ))
        .from(user::Entity)
        .left_join(
            account_state::Entity,
            Expr::col((account_state::Entity, account_state::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        // Matches the unique index on lower(email), which also covers rows adopted from the
        // course that were stored in mixed case.
        .and_where(
            Expr::expr(Func::lower(Expr::col((user::Entity, user::Column::Email)))).eq(email),
        )
        .limit(1)
        .to_owned();
    let statement = db.get_database_backend().build(&select);
    Ok(Credentials::find_by_statement(statement).one(db).await?)
}

/// Replaces a user's password hash `old` by `new` (the same password at another cost: a
/// login rehashes a hash of another cost than the configured one), unless the hash is no
/// longer `old`: a password change that got in meanwhile must not be undone by the old
/// password's rehash. Whether it was replaced.
pub(crate) async fn set_password_hash<C: ConnectionTrait>(
    db: &C,
    id: i32,
    old: &str,
    new: &str,
) -> Result<bool, Error> {
    let done = user::Entity::update_many()
        .col_expr(user::Column::Password, Expr::value(new))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Password.eq(old))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The bcrypt cost most stored password hashes have (`$2b$12$...`: the two digits after the
/// second `$`), or `None` with no users. One scan of the users table.
pub(crate) async fn typical_hash_cost<C: ConnectionTrait>(db: &C) -> Result<Option<u32>, Error> {
    #[derive(FromQueryResult)]
    struct Cost {
        cost: String,
    }
    // Literal SQL, the same on both backends: bound parameters inside SUBSTR would neither
    // match PostgreSQL's `substr(text, integer, integer)` nor let it see that the grouped and
    // the selected expression are one.
    let statement = sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT SUBSTR(password, 5, 2) AS cost FROM users \
         GROUP BY SUBSTR(password, 5, 2) ORDER BY COUNT(*) DESC, cost DESC LIMIT 1",
    );
    let found = Cost::find_by_statement(statement).one(db).await?;
    Ok(found.and_then(|c| c.cost.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memoized_user_lookup_is_the_built_one() {
        crate::db::memo::assert_memoized(&[&FindUser { id: 42 }, &FindUser { id: 7 }]);
    }
}
