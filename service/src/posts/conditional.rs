//! Writes under `If-Match`: a post changed or deleted only if it is still as the client last
//! saw it, decided by the database in the write's own statement (a compare-and-swap).

use entity::post;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait,
};

use super::claimed::{returned_with_votes, returning};
use super::{PostChanges, PostWithVotes, get, mine, query, why_not_mine};
use crate::Error;
use crate::users::User;

/// What a conditional write expects of the post as it is now: `true` to go ahead. The caller
/// decides (an HTTP layer compares entity tags of the post's representation).
pub type Expectation<'a> = &'a (dyn Fn(&PostWithVotes) -> bool + Sync);

/// [`update`], only if the post as it is now, with its owner and vote count, meets `expected`.
///
/// Decided by the database, with no window between the check and the write: the post is read
/// and checked, then written by one `UPDATE` whose `WHERE` also requires every part of what
/// was checked to be unchanged (title, content, published, the owner's email, the vote
/// count): a compare-and-swap. A writer that got in between makes it touch no row, which is
/// `PreconditionFailed`, as a failed check is.
///
/// Answers the post as the `UPDATE` left it, from its own `RETURNING` (owner and vote count
/// included), never from a later read: a read could see another writer's newer version, and
/// a client handed that version's tag would overwrite it unseen with its next `If-Match`.
///
/// # Errors
/// `Forbidden` (someone else's post), then `PreconditionFailed` (also for a post the owner
/// cannot see: missing, or deleted meanwhile).
pub async fn update_if<C: ConnectionTrait>(
    db: &C,
    owner: &User,
    id: i64,
    changes: PostChanges,
    expected: Expectation<'_>,
) -> Result<PostWithVotes, Error> {
    let current = checked(db, owner, id, expected).await?;
    let model = changes.into_model();
    if !model.is_changed() {
        return Ok(current);
    }
    let mut statement = post::Entity::update_many()
        .set(model)
        .filter(mine(current.post.id, owner.id))
        .filter(unchanged(&current))
        .into_query();
    statement.returning(returning(true));
    match db.query_one(&statement).await? {
        Some(row) => Ok(returned_with_votes(&row)?),
        None => Err(why_not_swapped(db, owner.id, id).await?),
    }
}

/// [`delete`], only if the post as it is now meets `expected`: the same compare-and-swap as
/// [`update_if`], with a `DELETE`.
///
/// # Errors
/// As [`update_if`].
pub async fn delete_if<C: ConnectionTrait>(
    db: &C,
    owner: &User,
    id: i64,
    expected: Expectation<'_>,
) -> Result<(), Error> {
    let current = checked(db, owner, id, expected).await?;
    let done = post::Entity::delete_many()
        .filter(mine(current.post.id, owner.id))
        .filter(unchanged(&current))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(why_not_swapped(db, owner.id, id).await?)
    }
}

/// Post `id` as `owner` sees it now, if it is theirs and meets `expected`. A post `owner`
/// cannot see has no current state to meet it (RFC 9110 §13.1.1: no current representation
/// matches a listed tag), so it is `PreconditionFailed` too: what concurrent conditional
/// deletes of one post get, all but the first.
async fn checked<C: ConnectionTrait>(
    db: &C,
    owner: &User,
    id: i64,
    expected: Expectation<'_>,
) -> Result<PostWithVotes, Error> {
    let current = match get(db, owner.id, id).await {
        Err(Error::PostNotFound(_)) => return Err(Error::PreconditionFailed),
        other => other?,
    };
    if current.post.owner_id != owner.id {
        return Err(Error::Forbidden);
    }
    if !expected(&current) {
        return Err(Error::PreconditionFailed);
    }
    Ok(current)
}

/// Every part of `current` that a client's tag covers and that can change, as a `WHERE`:
/// the post's own fields, its owner's email and its vote count.
fn unchanged(current: &PostWithVotes) -> Condition {
    let owner_email = Query::select()
        .expr(Expr::val(1))
        .from(entity::user::Entity)
        .and_where(
            Expr::col((entity::user::Entity, entity::user::Column::Id))
                .equals((post::Entity, post::Column::OwnerId)),
        )
        .and_where(
            Expr::col((entity::user::Entity, entity::user::Column::Email)).eq(current
                .post
                .owner
                .email
                .as_str()),
        )
        .to_owned();
    Condition::all()
        .add(post::Column::Title.eq(current.post.title.as_str()))
        .add(post::Column::Content.eq(current.post.content.as_str()))
        .add(post::Column::Published.eq(current.post.published))
        .add(Expr::exists(owner_email))
        .add(query::vote_count().eq(current.votes))
}

/// After a compare-and-swap touched nothing: the post was changed or deleted in between
/// (`PreconditionFailed`), unless it is someone else's now (`Forbidden`, which cannot happen
/// today: posts never change owner).
async fn why_not_swapped<C: ConnectionTrait>(db: &C, owner: i32, id: i64) -> Result<Error, Error> {
    Ok(match why_not_mine(db, owner, id).await? {
        Error::Forbidden => Error::Forbidden,
        _ => Error::PreconditionFailed,
    })
}
