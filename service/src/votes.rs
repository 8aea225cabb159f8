//! Votes: one per (user, post), decided by the database's primary key.

use entity::vote;
use sea_orm::sea_query::{DeleteStatement, Expr, InsertStatement, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait,
    SqlErr, Value,
};

use crate::Error;
use crate::auth::{Claimed, Gate, confirm};
use crate::db::memo::{BuildError, Memo, Memoized};
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
    let backend = db.get_database_backend();
    let touched = match dir {
        VoteDir::Up => {
            let insert = AddVote(Pair {
                voter,
                post: key,
                gate,
            })
            .statement(backend)?;
            let done = db
                .execute_raw(insert)
                .await
                .map_err(|e| match e.sql_err() {
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
            let delete = RemoveVote(Pair {
                voter,
                post: key,
                gate,
            })
            .statement(backend)?;
            db.execute_raw(delete).await?.rows_affected()
        }
    };
    Ok(touched > 0)
}

/// A vote's (voter, post) pair, and the caller's gate if the statement carries one.
#[derive(Clone, Copy)]
struct Pair {
    voter: i32,
    post: i32,
    gate: Option<Gate>,
}

impl Pair {
    /// The vote may be made: the post is visible to the voter (and the gate holds).
    fn allowed(self) -> Condition {
        let mut allowed = Condition::all().add(Expr::exists(posts::visible(self.voter, self.post)));
        if let Some(gate) = self.gate {
            allowed = allowed.add(gate.condition());
        }
        allowed
    }

    /// [`allowed`](Self::allowed)'s values, in its order.
    fn allowed_values(self) -> impl Iterator<Item = Value> {
        let visible = [1.into(), self.post.into(), true.into(), self.voter.into()];
        visible
            .into_iter()
            .chain(self.gate.into_iter().flat_map(Gate::values))
    }

    /// The values of a vote's statement, [`AddVote`]'s or [`RemoveVote`]'s alike: the pair,
    /// then [`allowed`](Self::allowed)'s.
    fn values(self) -> Vec<Value> {
        [self.voter.into(), self.post.into()]
            .into_iter()
            .chain(self.allowed_values())
            .collect()
    }

    /// One memo for each shape: with a gate, and without.
    fn shape(self, memos: &'static [Memo; 2]) -> &'static Memo {
        &memos[usize::from(self.gate.is_some())]
    }
}

/// `INSERT INTO votes (user_id, post_id) SELECT $1, $2 WHERE <allowed>`.
struct AddVote(Pair);

impl Memoized for AddVote {
    type Query = InsertStatement;

    fn memo(&self) -> &'static Memo {
        static MEMOS: [Memo; 2] = [const { Memo::new() }; 2];
        self.0.shape(&MEMOS)
    }

    fn build(&self, _: DbBackend) -> Result<InsertStatement, BuildError> {
        let Pair { voter, post, .. } = self.0;
        Ok(Query::insert()
            .into_table(vote::Entity)
            .columns([vote::Column::UserId, vote::Column::PostId])
            .select_from(
                Query::select()
                    .exprs([Expr::val(voter), Expr::val(post)])
                    .cond_where(self.0.allowed())
                    .to_owned(),
            )?
            .to_owned())
    }

    /// Guarded by `votes::tests::the_memoized_votes_are_the_built_ones`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        self.0.values()
    }
}

/// `DELETE FROM votes WHERE user_id = $1 AND post_id = $2 AND <allowed>`.
struct RemoveVote(Pair);

impl Memoized for RemoveVote {
    type Query = DeleteStatement;

    fn memo(&self) -> &'static Memo {
        static MEMOS: [Memo; 2] = [const { Memo::new() }; 2];
        self.0.shape(&MEMOS)
    }

    fn build(&self, _: DbBackend) -> Result<DeleteStatement, BuildError> {
        let Pair { voter, post, .. } = self.0;
        Ok(vote::Entity::delete_many()
            .filter(vote::Column::UserId.eq(voter))
            .filter(vote::Column::PostId.eq(post))
            .filter(self.0.allowed())
            .into_query())
    }

    /// Guarded by `votes::tests::the_memoized_votes_are_the_built_ones`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        self.0.values()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memoized_votes_are_the_built_ones() {
        let pairs = [
            Pair {
                voter: 3,
                post: 42,
                gate: None,
            },
            Pair {
                voter: 5,
                post: 7,
                gate: None,
            },
            Pair {
                voter: 3,
                post: 42,
                gate: Some(Gate::for_test(3, 11)),
            },
            Pair {
                voter: 5,
                post: 7,
                gate: Some(Gate::for_test(5, 12)),
            },
        ];
        let adds: Vec<AddVote> = pairs.into_iter().map(AddVote).collect();
        crate::db::memo::assert_memoized(&adds.iter().map(|q| q as _).collect::<Vec<_>>());
        let removes: Vec<RemoveVote> = pairs.into_iter().map(RemoveVote).collect();
        crate::db::memo::assert_memoized(&removes.iter().map(|q| q as _).collect::<Vec<_>>());
    }
}
