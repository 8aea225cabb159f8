//! Votes: one per (user, post), decided by the database's primary key.

use entity::vote;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, SqlErr};

use crate::Error;
use crate::auth::{Claimed, Gate, confirm};
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
    if run(db, voter.id, post_id, dir, None).await? {
        Ok(outcome(dir))
    } else {
        Err(why_not(db, voter.id, post_id, dir).await?)
    }
}

/// [`vote()`] for `who`, the caller's check riding in the vote's statement (its gate): one
/// statement when the vote is made. When the statement touches nothing, the caller is
/// confirmed first, then the reason looked for as [`vote()`] does.
///
/// # Errors
/// `InvalidToken` (the caller may no longer act); then as [`vote()`].
pub async fn vote_as<C: ConnectionTrait>(
    db: &C,
    who: &Claimed,
    post_id: i64,
    dir: VoteDir,
) -> Result<VoteOutcome, Error> {
    let (Some(gate), Ok(_)) = (who.gate(), i32::try_from(post_id)) else {
        let caller = confirm(db, who).await?;
        return vote(db, &caller.user, post_id, dir).await;
    };
    if run(db, who.user_id, post_id, dir, Some(gate)).await? {
        return Ok(outcome(dir));
    }
    // The session was alive (confirmed), so the statement's own condition failed.
    confirm(db, who).await?;
    Err(why_not(db, who.user_id, post_id, dir).await?)
}

fn outcome(dir: VoteDir) -> VoteOutcome {
    match dir {
        VoteDir::Up => VoteOutcome::Added,
        VoteDir::Down => VoteOutcome::Removed,
    }
}

/// The vote's one statement, under `gate` if given: whether it added or removed the vote.
/// A second vote is `AlreadyVoted` (the primary key), a post deleted meanwhile `PostNotFound`.
async fn run<C: ConnectionTrait>(
    db: &C,
    voter: i32,
    post_id: i64,
    dir: VoteDir,
    gate: Option<Gate>,
) -> Result<bool, Error> {
    let not_found = || Error::PostNotFound(post_id);
    let key = i32::try_from(post_id).map_err(|_| not_found())?;
    let mut allowed = Condition::all().add(Expr::exists(posts::visible(voter, key)));
    if let Some(gate) = gate {
        allowed = allowed.add(gate.condition());
    }
    let touched = match dir {
        VoteDir::Up => {
            let insert = Query::insert()
                .into_table(vote::Entity)
                .columns([vote::Column::UserId, vote::Column::PostId])
                .select_from(
                    Query::select()
                        .exprs([Expr::val(voter), Expr::val(key)])
                        .cond_where(allowed)
                        .to_owned(),
                )
                .map_err(|e| Error::Internal(format!("vote insert: {e}")))?
                .to_owned();
            let done = db.execute(&insert).await.map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyVoted {
                    user_id: voter,
                    post_id,
                },
                // The post was deleted while this statement ran.
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => not_found(),
                _ => Error::from(e),
            })?;
            done.rows_affected()
        }
        VoteDir::Down => {
            vote::Entity::delete_many()
                .filter(vote::Column::UserId.eq(voter))
                .filter(vote::Column::PostId.eq(key))
                .filter(allowed)
                .exec(db)
                .await?
                .rows_affected
        }
    };
    Ok(touched > 0)
}

/// Why a vote's statement touched nothing for a caller who may act: the post is missing or
/// not visible to `voter`, or (removing) there is no vote to remove.
async fn why_not<C: ConnectionTrait>(
    db: &C,
    voter: i32,
    post_id: i64,
    dir: VoteDir,
) -> Result<Error, Error> {
    let not_found = Error::PostNotFound(post_id);
    let Ok(key) = i32::try_from(post_id) else {
        return Ok(not_found);
    };
    Ok(match dir {
        VoteDir::Up => not_found,
        VoteDir::Down if posts::is_visible(db, voter, key).await? => Error::VoteNotFound,
        VoteDir::Down => not_found,
    })
}
