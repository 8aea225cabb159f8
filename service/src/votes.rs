//! Votes: one per (user, post), decided by the database's primary key.

use entity::vote;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr};

use crate::Error;
use crate::domain::VoteDir;
use crate::posts;
use crate::users::User;

/// What a vote request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteOutcome {
    Added,
    Removed,
}

/// Adds (`Up`) or removes (`Down`) `voter`'s vote on post `post_id`.
///
/// Adding is a plain insert: the primary key (user_id, post_id) refuses a second one, even
/// when two requests race. Removing is a plain delete.
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
    if !posts::is_visible(db, voter.id, key).await? {
        return Err(not_found());
    }
    match dir {
        VoteDir::Up => {
            let row = vote::ActiveModel {
                user_id: Set(voter.id),
                post_id: Set(key),
            };
            vote::Entity::insert(row)
                .exec_without_returning(db)
                .await
                .map_err(|e| match e.sql_err() {
                    Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyVoted {
                        user_id: voter.id,
                        post_id,
                    },
                    // The post was deleted after the visibility check.
                    Some(SqlErr::ForeignKeyConstraintViolation(_)) => not_found(),
                    _ => Error::from(e),
                })?;
            Ok(VoteOutcome::Added)
        }
        VoteDir::Down => {
            let done = vote::Entity::delete_many()
                .filter(vote::Column::UserId.eq(voter.id))
                .filter(vote::Column::PostId.eq(key))
                .exec(db)
                .await?;
            if done.rows_affected == 0 {
                Err(Error::VoteNotFound)
            } else {
                Ok(VoteOutcome::Removed)
            }
        }
    }
}
