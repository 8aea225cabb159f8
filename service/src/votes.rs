//! Votes: one per (user, post), decided by the database's primary key.

use entity::vote;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr};

use crate::Error;
use crate::domain::VoteDir;
use crate::posts;
use crate::users::User;

/// What [`vote()`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteOutcome {
    Added,
    Removed,
}

/// Adds (`Up`) or removes (`Down`) `voter`'s vote on post `post_id`.
///
/// One statement each way, which also checks that `voter` may see the post: adding inserts
/// only if it is visible, and the primary key (user_id, post_id) refuses a second vote, even
/// when two requests race; removing deletes only from a visible post. Only when nothing was
/// removed does a second look tell a missing post from a missing vote.
///
/// # Errors
/// `PostNotFound` first (missing, or someone else's draft); then `AlreadyVoted` or
/// `VoteNotFound`.
pub async fn vote<C: ConnectionTrait>(
    db: &C,
    voter: &User,
    post_id: i64,
    dir: VoteDir,
) -> Result<VoteOutcome, Error> {
    let not_found = || Error::PostNotFound(post_id);
    let key = i32::try_from(post_id).map_err(|_| not_found())?;
    let visible = Expr::exists(posts::visible(voter.id, key));
    match dir {
        VoteDir::Up => {
            let insert = Query::insert()
                .into_table(vote::Entity)
                .columns([vote::Column::UserId, vote::Column::PostId])
                .select_from(
                    Query::select()
                        .exprs([Expr::val(voter.id), Expr::val(key)])
                        .and_where(visible)
                        .to_owned(),
                )
                .map_err(|e| Error::Internal(format!("vote insert: {e}")))?
                .to_owned();
            let done = db.execute(&insert).await.map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyVoted {
                    user_id: voter.id,
                    post_id,
                },
                // The post was deleted while this statement ran.
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => not_found(),
                _ => Error::from(e),
            })?;
            if done.rows_affected() == 0 {
                return Err(not_found());
            }
            Ok(VoteOutcome::Added)
        }
        VoteDir::Down => {
            let done = vote::Entity::delete_many()
                .filter(vote::Column::UserId.eq(voter.id))
                .filter(vote::Column::PostId.eq(key))
                .filter(visible)
                .exec(db)
                .await?;
            if done.rows_affected > 0 {
                Ok(VoteOutcome::Removed)
            } else if posts::is_visible(db, voter.id, key).await? {
                Err(Error::VoteNotFound)
            } else {
                Err(not_found())
            }
        }
    }
}
