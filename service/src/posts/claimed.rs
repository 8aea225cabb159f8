//! The post routes' use cases run for a [`Claimed`] caller: the caller's check rides in the
//! statement that does the work (its [`Gate`](crate::auth::Gate)), so the request is one round
//! trip. Only a statement that comes back empty asks the database who the caller is
//! ([`confirm`]): that tells a caller who may no longer act (`InvalidToken`, a 401) from the
//! work's own empty answer. A token minted the course's way has no gate (its revocation time
//! is compared in Rust): it is confirmed first, then the work is done, as before.
//!
//! An empty answer under a gate with the caller confirmed afterwards is the work's own: a
//! session that was alive at the confirmation was alive at the statement too (a session that
//! ends is deleted, and ids are never reused).

use chrono::{DateTime, FixedOffset};
use entity::{post, user};
use sea_orm::sea_query::{
    Expr, ExprTrait, InsertStatement, Query, ReturningClause, SubQueryStatement, UpdateStatement,
};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryResult, QueryTrait,
    Value,
};

use super::query::{GetPost, Row, vote_count};
use super::{
    ListQuery, NewPost, Page, Post, PostChanges, PostWithVotes, create, delete, fetch_page, get,
    mine, update, why_not_mine,
};
use crate::Error;
use crate::auth::{Claimed, Gate, confirm};
use crate::db::memo::{BuildError, Memo, Memoized};
use crate::users::{User, now};

/// [`get`](super::get) for `who`: one statement when the post is there.
///
/// # Errors
/// `InvalidToken` (the caller may no longer act), then `PostNotFound`.
pub async fn get_as<C: ConnectionTrait>(
    db: &C,
    who: &Claimed,
    id: i64,
) -> Result<PostWithVotes, Error> {
    if let (Some(gate), Ok(key)) = (who.gate(), i32::try_from(id)) {
        let statement = GetPost {
            viewer: who.user_id,
            id: key,
            gate: Some(gate),
        }
        .statement(db.get_database_backend())?;
        if let Some(row) = Row::find_by_statement(statement).one(db).await? {
            return Ok(row.into());
        }
        confirm(db, who).await?;
        return Err(Error::PostNotFound(id));
    }
    let caller = confirm(db, who).await?;
    get(db, caller.user.id, id).await
}

/// [`list`](super::list) for `who`: one statement when the page has posts.
///
/// # Errors
/// `InvalidToken` (the caller may no longer act); database errors.
pub async fn list_as<C: ConnectionTrait>(
    db: &C,
    who: &Claimed,
    query: &ListQuery,
) -> Result<Page, Error> {
    if let Some(gate) = who.gate() {
        let page = fetch_page(db, who.user_id, query, Some(gate)).await?;
        if page.posts.is_empty() {
            confirm(db, who).await?;
        }
        return Ok(page);
    }
    let caller = confirm(db, who).await?;
    fetch_page(db, caller.user.id, query, None).await
}

/// [`create`](super::create) for `who`: one `INSERT ... SELECT ... WHERE <gate> RETURNING`,
/// which also answers the owner's email and creation time.
///
/// # Errors
/// `InvalidToken` (the caller may no longer act); database errors.
pub async fn create_as<C: ConnectionTrait>(
    db: &C,
    who: &Claimed,
    new: NewPost,
) -> Result<Post, Error> {
    let Some(gate) = who.gate() else {
        let caller = confirm(db, who).await?;
        return create(db, &caller.user, new).await;
    };
    let insert = CreatePost {
        title: new.title.as_str(),
        content: new.content.as_str(),
        published: new.published,
        created_at: now(),
        owner: who.user_id,
        gate,
    }
    .statement(db.get_database_backend())?;
    match db.query_one_raw(insert).await? {
        Some(row) => Ok(returned(&row)?),
        None => {
            confirm(db, who).await?;
            Err(Error::Internal(
                "a post insert under a live session inserted nothing".into(),
            ))
        }
    }
}

/// [`create_as`]'s statement: `INSERT INTO posts (...) SELECT $1, ..., $5 WHERE <gate>
/// RETURNING <the post and its owner>`.
struct CreatePost<'a> {
    title: &'a str,
    content: &'a str,
    published: bool,
    created_at: DateTime<FixedOffset>,
    owner: i32,
    gate: Gate,
}

impl Memoized for CreatePost<'_> {
    type Query = InsertStatement;

    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> Result<InsertStatement, BuildError> {
        let values = Query::select()
            .exprs([
                Expr::val(self.title),
                Expr::val(self.content),
                Expr::val(self.published),
                Expr::val(self.created_at),
                Expr::val(self.owner),
            ])
            .and_where(self.gate.condition())
            .to_owned();
        Ok(Query::insert()
            .into_table(post::Entity)
            .columns([
                post::Column::Title,
                post::Column::Content,
                post::Column::Published,
                post::Column::CreatedAt,
                post::Column::OwnerId,
            ])
            .select_from(values)?
            .returning(returning(false))
            .to_owned())
    }

    /// Guarded by `posts::claimed::tests::the_memoized_writes_are_the_built_ones`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        let mut values = Vec::with_capacity(7);
        values.extend([
            self.title.into(),
            self.content.into(),
            self.published.into(),
            self.created_at.into(),
            self.owner.into(),
        ]);
        values.extend(self.gate.values());
        values
    }
}

/// [`update`](super::update) for `who`, without a condition on the post's current state:
/// one `UPDATE ... WHERE id = ? AND owner_id = ? AND <gate> RETURNING`, which also answers
/// the owner and the vote count, so that the post's tag needs no other statement. Changing
/// nothing (`{}`) reads the post the way [`update`](super::update) does, after confirming the
/// caller.
///
/// # Errors
/// `InvalidToken` (the caller may no longer act), then `PostNotFound` (missing, or someone
/// else's draft), then `Forbidden` (someone else's).
pub async fn update_as<C: ConnectionTrait>(
    db: &C,
    who: &Claimed,
    id: i64,
    changes: PostChanges,
) -> Result<PostWithVotes, Error> {
    let (Some(gate), Ok(key), true) = (who.gate(), i32::try_from(id), changes.any()) else {
        let caller = confirm(db, who).await?;
        update(db, &caller.user, id, changes).await?;
        return get(db, caller.user.id, id).await;
    };
    let statement = UpdatePost {
        changes: &changes,
        id: key,
        owner: who.user_id,
        gate,
    }
    .statement(db.get_database_backend())?;
    if let Some(row) = db.query_one_raw(statement).await? {
        return Ok(returned_with_votes(&row)?);
    }
    confirm(db, who).await?;
    Err(why_not_mine(db, who.user_id, id).await?)
}

/// [`update_as`]'s statement: `UPDATE posts SET <the changed fields> WHERE id = $ AND
/// owner_id = $ AND <gate> RETURNING <the post, its owner and its vote count>`.
struct UpdatePost<'a> {
    changes: &'a PostChanges,
    id: i32,
    owner: i32,
    gate: Gate,
}

impl Memoized for UpdatePost<'_> {
    type Query = UpdateStatement;

    /// One shape for each set of fields changed.
    fn memo(&self) -> &'static Memo {
        static MEMOS: [Memo; 8] = [const { Memo::new() }; 8];
        let c = self.changes;
        let shape = usize::from(c.title.is_some())
            | usize::from(c.content.is_some()) << 1
            | usize::from(c.published.is_some()) << 2;
        &MEMOS[shape]
    }

    fn build(&self, _: DbBackend) -> Result<UpdateStatement, BuildError> {
        let mut statement = post::Entity::update_many()
            .set(self.changes.clone().into_model())
            .filter(mine(self.id, self.owner))
            .filter(self.gate.condition())
            .into_query();
        statement.returning(returning(true));
        Ok(statement)
    }

    /// The changed fields in the table's column order, the post's id and owner, the gate's.
    /// Guarded by `posts::claimed::tests::the_memoized_writes_are_the_built_ones`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        let c = self.changes;
        let mut values = Vec::with_capacity(7);
        if let Some(title) = &c.title {
            values.push(title.as_str().into());
        }
        if let Some(content) = &c.content {
            values.push(content.as_str().into());
        }
        if let Some(published) = c.published {
            values.push(published.into());
        }
        values.extend([self.id.into(), self.owner.into()]);
        values.extend(self.gate.values());
        values
    }
}

/// [`delete`](super::delete) for `who`, without a condition on the post's current state: one
/// `DELETE ... WHERE id = ? AND owner_id = ? AND <gate>`.
///
/// # Errors
/// As [`update_as`].
pub async fn delete_as<C: ConnectionTrait>(db: &C, who: &Claimed, id: i64) -> Result<(), Error> {
    let (Some(gate), Ok(key)) = (who.gate(), i32::try_from(id)) else {
        let caller = confirm(db, who).await?;
        return delete(db, &caller.user, id).await;
    };
    let done = post::Entity::delete_many()
        .filter(mine(key, who.user_id))
        .filter(gate.condition())
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        return Ok(());
    }
    confirm(db, who).await?;
    Err(why_not_mine(db, who.user_id, id).await?)
}

/// What a write of a post answers, in [`returned`]'s order: the post's columns, its owner's
/// email and creation time, and with `votes` its vote count.
pub(super) fn returning(votes: bool) -> ReturningClause {
    let mut exprs = vec![
        Expr::col((post::Entity, post::Column::Id)),
        Expr::col((post::Entity, post::Column::Title)),
        Expr::col((post::Entity, post::Column::Content)),
        Expr::col((post::Entity, post::Column::Published)),
        Expr::col((post::Entity, post::Column::CreatedAt)),
        Expr::col((post::Entity, post::Column::OwnerId)),
        owner(user::Column::Email),
        owner(user::Column::CreatedAt),
    ];
    if votes {
        exprs.push(vote_count());
    }
    Query::returning().exprs(exprs)
}

/// `(SELECT <column> FROM users WHERE users.id = posts.owner_id)`: the written post's owner's.
fn owner(column: user::Column) -> Expr {
    let select = Query::select()
        .column((user::Entity, column))
        .from(user::Entity)
        .and_where(
            Expr::col((user::Entity, user::Column::Id))
                .equals((post::Entity, post::Column::OwnerId)),
        )
        .to_owned();
    Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(select)))
}

/// A post from [`returning`]'s row.
pub(super) fn returned(row: &QueryResult) -> Result<Post, sea_orm::DbErr> {
    let owner_id: i32 = row.try_get_by_index(5)?;
    Ok(Post {
        id: row.try_get_by_index(0)?,
        title: row.try_get_by_index(1)?,
        content: row.try_get_by_index(2)?,
        published: row.try_get_by_index(3)?,
        created_at: row.try_get_by_index(4)?,
        owner_id,
        owner: User {
            id: owner_id,
            email: row.try_get_by_index(6)?,
            created_at: row.try_get_by_index(7)?,
        },
    })
}

/// A post with its vote count from [`returning`]`(true)`'s row: the vote count follows the
/// post's columns.
pub(super) fn returned_with_votes(row: &QueryResult) -> Result<PostWithVotes, sea_orm::DbErr> {
    Ok(PostWithVotes {
        post: returned(row)?,
        votes: row.try_get_by_index(8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PostContent, PostTitle};

    #[test]
    fn the_memoized_writes_are_the_built_ones() {
        let now = now();
        let creates = [
            (3, 11, "a title", "some content"),
            (5, 12, "another", "more"),
        ]
        .map(|(owner, sid, title, content)| CreatePost {
            title,
            content,
            published: owner == 3,
            created_at: now,
            owner,
            gate: Gate::for_test(owner, sid),
        });
        crate::db::memo::assert_memoized(&creates.iter().map(|q| q as _).collect::<Vec<_>>());

        let title = |t: &str| PostTitle::parse(t.to_owned()).ok();
        let content = |c: &str| PostContent::parse(c.to_owned()).ok();
        let mut changes = Vec::new();
        for shape in 1..8 {
            for (n, text) in ["first", "second"].into_iter().enumerate() {
                changes.push(PostChanges {
                    title: (shape & 1 != 0).then(|| title(text)).flatten(),
                    content: (shape & 2 != 0).then(|| content(text)).flatten(),
                    published: (shape & 4 != 0).then_some(n == 0),
                });
            }
        }
        let updates: Vec<UpdatePost> = changes
            .iter()
            .enumerate()
            .map(|(n, changes)| UpdatePost {
                changes,
                id: i32::try_from(n).unwrap_or_default() + 40,
                owner: 7,
                gate: Gate::for_test(7, 2),
            })
            .collect();
        crate::db::memo::assert_memoized(&updates.iter().map(|q| q as _).collect::<Vec<_>>());
    }
}
