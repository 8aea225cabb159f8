//! Posts: listing with vote counts, reading, writing, and the ownership rules.
//!
//! Visibility: everyone sees published posts; a draft (`published = false`) is seen only by
//! its owner, and to anyone else it does not exist (`PostNotFound`, never `Forbidden`).
//! Changing or deleting a post someone else owns is `Forbidden`.
//!
//! The use cases and those rules live here; the same for a caller whose check rides in the
//! work's own statement in `claimed`, the writes under `If-Match` in `conditional`; the
//! statements that read posts are built in `query`, and title search, with its case folding,
//! in `search`.

mod claimed;
mod conditional;
mod query;
mod search;

use chrono::{DateTime, FixedOffset};
use entity::post;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::Error;
use crate::auth::Gate;
use crate::db::memo::Memoized;
use crate::domain::{PageSize, PostContent, PostTitle, SearchTerm, Skip};
use crate::users::{User, now};
use query::{GetPost, ListPage, Row, select_with_votes};

pub use claimed::{create_as, delete_as, get_as, list_as, update_as};
pub use conditional::{Expectation, delete_if, update_if};
pub(crate) use query::visible;

/// A post with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: i32,
    pub title: String,
    pub content: String,
    pub published: bool,
    pub created_at: DateTime<FixedOffset>,
    pub owner_id: i32,
    pub owner: User,
}

/// A post with the number of votes it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostWithVotes {
    pub post: Post,
    pub votes: i64,
}

/// One page of the post list.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: PageSize,
    pub skip: Skip,
    /// Matched as a literal, case-insensitive substring of the title; empty matches all.
    pub search: SearchTerm,
    /// Where a keyset (cursor) page starts; `None` pages by `skip`.
    pub keyset: Option<Keyset>,
}

/// A keyset page's boundary, in the list's order (`id` descending): the page holds the posts
/// just past an id, without counting through the ones before it, so that posts created or
/// deleted elsewhere in the list never shift it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyset {
    /// The posts just older than this id (`id < boundary`): the next page.
    Older(i32),
    /// The posts just newer than this id (`id > boundary`): the previous page.
    Newer(i32),
}

/// One page of the list, and whether the list goes on past each end of it.
#[derive(Debug, Clone)]
pub struct Page {
    /// Newest first.
    pub posts: Vec<PostWithVotes>,
    /// Visible posts older than the page's last exist (or, for a page reached by a `Newer`
    /// keyset, the page it was reached from did).
    pub more_older: bool,
    /// Visible posts newer than the page's first exist (as far as the query can tell without
    /// another statement: a `skip` page past the start, a page reached by an `Older` keyset,
    /// or a `Newer` page with one more row beyond it).
    pub more_newer: bool,
}

/// The fields to write; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct PostChanges {
    pub title: Option<PostTitle>,
    pub content: Option<PostContent>,
    pub published: Option<bool>,
}

/// A new post.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub title: PostTitle,
    pub content: PostContent,
    pub published: bool,
}

fn with_owner(p: post::Model, owner: &User) -> Post {
    Post {
        id: p.id,
        title: p.title,
        content: p.content,
        published: p.published,
        created_at: p.created_at,
        owner_id: p.owner_id,
        owner: owner.clone(),
    }
}

impl PostChanges {
    /// The fields to write, as an active model: those not set are left as they are.
    /// Whether any field is to change.
    fn any(&self) -> bool {
        self.title.is_some() || self.content.is_some() || self.published.is_some()
    }

    fn into_model(self) -> post::ActiveModel {
        let mut model = <post::ActiveModel as Default>::default();
        if let Some(title) = self.title {
            model.title = Set(title.into_inner());
        }
        if let Some(content) = self.content {
            model.content = Set(content.into_inner());
        }
        if let Some(published) = self.published {
            model.published = Set(published);
        }
        model
    }
}

/// Post `id` of `owner`: what every write of a post is scoped to.
fn mine(id: i32, owner: i32) -> Condition {
    Condition::all()
        .add(post::Column::Id.eq(id))
        .add(post::Column::OwnerId.eq(owner))
}

/// Published posts, plus the viewer's own drafts.
fn visible_to(viewer: i32) -> Condition {
    Condition::any()
        .add(post::Column::Published.eq(true))
        .add(post::Column::OwnerId.eq(viewer))
}

/// A page of the posts `viewer` may see, newest first, with owners and vote counts.
///
/// One row more than the page is fetched, to tell whether the list goes on past it.
///
/// # Errors
/// Database errors only.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: i32,
    query: &ListQuery,
) -> Result<Page, Error> {
    fetch_page(db, viewer, query, None).await
}

/// [`list`], under `gate` if given: then no posts unless the gate holds.
async fn fetch_page<C: ConnectionTrait>(
    db: &C,
    viewer: i32,
    query: &ListQuery,
    gate: Option<Gate>,
) -> Result<Page, Error> {
    let statement = ListPage {
        viewer,
        query,
        gate,
    }
    .statement(db.get_database_backend())?;
    let rows = Row::find_by_statement(statement).all(db).await?;
    let mut posts: Vec<PostWithVotes> = rows.into_iter().map(PostWithVotes::from).collect();
    let limit = usize::try_from(query.limit.get()).unwrap_or(usize::MAX);
    let beyond = posts.len() > limit;
    Ok(match query.keyset {
        None => {
            posts.truncate(limit);
            Page {
                posts,
                more_older: beyond,
                more_newer: query.skip.get() > 0,
            }
        }
        Some(Keyset::Older(_)) => {
            posts.truncate(limit);
            Page {
                posts,
                more_older: beyond,
                more_newer: true,
            }
        }
        Some(Keyset::Newer(_)) => {
            // Fetched oldest-first from the boundary, shown newest first: the extra row is
            // the newest, so it is the first one.
            if beyond {
                posts.remove(0);
            }
            Page {
                posts,
                more_older: true,
                more_newer: beyond,
            }
        }
    })
}

/// How many posts `viewer` may see that match `search`: the list's total, for clients that
/// ask for it.
///
/// # Errors
/// Database errors only.
pub async fn count<C: ConnectionTrait>(
    db: &C,
    viewer: i32,
    search: &SearchTerm,
) -> Result<u64, Error> {
    let backend = db.get_database_backend();
    let mut visible = Condition::all().add(visible_to(viewer));
    if !search.as_str().is_empty() {
        visible = visible.add(search::title_contains(backend, search.as_str()));
    }
    Ok(post::Entity::find().filter(visible).count(db).await?)
}

/// One post `viewer` may see, with its owner and vote count.
///
/// # Errors
/// `PostNotFound` if it does not exist or is someone else's draft.
pub async fn get<C: ConnectionTrait>(db: &C, viewer: i32, id: i64) -> Result<PostWithVotes, Error> {
    let Ok(key) = i32::try_from(id) else {
        return Err(Error::PostNotFound(id));
    };
    let statement = GetPost {
        viewer,
        id: key,
        gate: None,
    }
    .statement(db.get_database_backend())?;
    Row::find_by_statement(statement)
        .one(db)
        .await?
        .map(PostWithVotes::from)
        .ok_or(Error::PostNotFound(id))
}

/// The newest post `viewer` may see.
///
/// # Errors
/// `NoVisiblePost` when there is none.
pub async fn latest<C: ConnectionTrait>(db: &C, viewer: i32) -> Result<PostWithVotes, Error> {
    select_with_votes(viewer)
        .order_by_desc(post::Column::Id)
        .into_model::<Row>()
        .one(db)
        .await?
        .map(PostWithVotes::from)
        .ok_or(Error::NoVisiblePost)
}

/// Creates a post owned by `owner`.
///
/// # Errors
/// Database errors only.
pub async fn create<C: ConnectionTrait>(db: &C, owner: &User, new: NewPost) -> Result<Post, Error> {
    let model = post::ActiveModel {
        title: Set(new.title.into_inner()),
        content: Set(new.content.into_inner()),
        published: Set(new.published),
        created_at: Set(now()),
        owner_id: Set(owner.id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(with_owner(model, owner))
}

/// Writes `changes` to post `id` of `owner`; with no changes, just returns it.
///
/// One `UPDATE ... WHERE id = ? AND owner_id = ?`: no read-then-write race. Only when it
/// touches nothing does a second look tell a missing post from someone else's.
///
/// # Errors
/// `PostNotFound` (missing, or someone else's draft), then `Forbidden` (someone else's).
pub async fn update<C: ConnectionTrait>(
    db: &C,
    owner: &User,
    id: i64,
    changes: PostChanges,
) -> Result<Post, Error> {
    let Ok(key) = i32::try_from(id) else {
        return Err(Error::PostNotFound(id));
    };
    let model = changes.into_model();
    let mine = mine(key, owner.id);
    let updated = if model.is_changed() {
        post::Entity::update_many()
            .set(model)
            .filter(mine)
            .exec_with_returning(db)
            .await?
            .into_iter()
            .next()
    } else {
        post::Entity::find().filter(mine).one(db).await?
    };
    match updated {
        Some(p) => Ok(with_owner(p, owner)),
        None => Err(why_not_mine(db, owner.id, id).await?),
    }
}

/// Deletes post `id` of `owner`; its votes go with it (foreign-key cascade).
///
/// # Errors
/// `PostNotFound` (missing, or someone else's draft), then `Forbidden` (someone else's).
pub async fn delete<C: ConnectionTrait>(db: &C, owner: &User, id: i64) -> Result<(), Error> {
    let Ok(key) = i32::try_from(id) else {
        return Err(Error::PostNotFound(id));
    };
    let done = post::Entity::delete_many()
        .filter(mine(key, owner.id))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(why_not_mine(db, owner.id, id).await?)
    }
}

/// After a write scoped to `owner` touched nothing: was post `id` missing or someone else's?
async fn why_not_mine<C: ConnectionTrait>(db: &C, owner: i32, id: i64) -> Result<Error, Error> {
    let Ok(key) = i32::try_from(id) else {
        return Ok(Error::PostNotFound(id));
    };
    let visible = post::Entity::find()
        .select_only()
        .column(post::Column::OwnerId)
        .filter(post::Column::Id.eq(key))
        .filter(visible_to(owner))
        .into_tuple::<i32>()
        .one(db)
        .await?;
    Ok(match visible {
        Some(other) if other != owner => Error::Forbidden,
        // Missing, someone else's draft, or deleted since the write: all "not found".
        _ => Error::PostNotFound(id),
    })
}

/// Whether post `id` exists and `viewer` may see it.
pub(crate) async fn is_visible<C: ConnectionTrait>(
    db: &C,
    viewer: i32,
    id: i32,
) -> Result<bool, Error> {
    Ok(db.query_one(&visible(viewer, id)).await?.is_some())
}
