//! Posts: listing with vote counts, reading, writing, and the ownership rules.
//!
//! Visibility: everyone sees published posts; a draft (`published = false`) is seen only by
//! its owner, and to anyone else it does not exist (404, never 403). Changing or deleting a
//! post someone else owns is 403.

use chrono::{DateTime, FixedOffset};
use entity::{post, user, vote};
use sea_orm::sea_query::extension::postgres::PgBinOper;
use sea_orm::sea_query::extension::sqlite::SqliteExpr;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement, SubQueryStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    RelationTrait, Select, Value,
};

use crate::Error;
use crate::db::memo::{Memo, Memoized};
use crate::domain::{PostContent, PostTitle, SearchTerm};
use crate::users::{User, now};

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
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: u64,
    pub skip: u64,
    /// Matched as a literal, case-insensitive substring of the title; empty matches all.
    pub search: SearchTerm,
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

#[derive(FromQueryResult)]
struct Row {
    id: i32,
    title: String,
    content: String,
    published: bool,
    created_at: DateTime<FixedOffset>,
    owner_id: i32,
    owner_email: String,
    owner_created_at: DateTime<FixedOffset>,
    votes: i64,
}

impl From<Row> for PostWithVotes {
    fn from(r: Row) -> Self {
        PostWithVotes {
            post: Post {
                id: r.id,
                title: r.title,
                content: r.content,
                published: r.published,
                created_at: r.created_at,
                owner_id: r.owner_id,
                owner: User {
                    id: r.owner_id,
                    email: r.owner_email,
                    created_at: r.owner_created_at,
                },
            },
            votes: r.votes,
        }
    }
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

/// Published posts, plus the viewer's own drafts.
fn visible_to(viewer: i32) -> Condition {
    Condition::any()
        .add(post::Column::Published.eq(true))
        .add(post::Column::OwnerId.eq(viewer))
}

/// Posts visible to `viewer`, each with its owner and vote count: one statement.
fn select_with_votes(viewer: i32) -> Select<post::Entity> {
    let votes = Query::select()
        .expr(Expr::col((vote::Entity, vote::Column::PostId)).count())
        .from(vote::Entity)
        .and_where(
            Expr::col((vote::Entity, vote::Column::PostId))
                .equals((post::Entity, post::Column::Id)),
        )
        .to_owned();
    post::Entity::find()
        .column_as(user::Column::Email, "owner_email")
        .column_as(user::Column::CreatedAt, "owner_created_at")
        .expr_as(
            Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(votes))),
            "votes",
        )
        .join(JoinType::InnerJoin, post::Relation::User.def())
        .filter(visible_to(viewer))
}

/// `c` and the characters that differ from it only in case, by Rust's Unicode tables
/// (one-character mappings only, so `ß` stays `ß`).
fn case_forms(c: char) -> Vec<char> {
    fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
        match (mapped.next(), mapped.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    }
    let lower = single(c.to_lowercase());
    let upper = single(c.to_uppercase());
    let mut forms = vec![c];
    for form in [
        lower,
        upper,
        lower.and_then(|l| single(l.to_uppercase())),
        upper.and_then(|u| single(u.to_lowercase())),
    ]
    .into_iter()
    .flatten()
    {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// Writes `term` with each letter as the bracketed class of its case forms, and every other
/// character as `literal` spells it for the pattern language at hand.
fn fold_case(term: &str, out: &mut String, literal: impl Fn(char, &mut String)) {
    for c in term.chars() {
        let forms = case_forms(c);
        if forms.len() > 1 {
            out.push('[');
            out.extend(forms);
            out.push(']');
        } else {
            literal(c, out);
        }
    }
}

/// A SQLite `GLOB` pattern for "contains `term`, ignoring case"; `*`, `?` and `[` are
/// bracketed to stand for themselves.
fn glob_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() * 4 + 2);
    p.push('*');
    fold_case(term, &mut p, |c, out| {
        if matches!(c, '*' | '?' | '[') {
            out.extend(['[', c, ']']);
        } else {
            out.push(c);
        }
    });
    p.push('*');
    p
}

/// A PostgreSQL regular expression (`~`) for "contains `term`, ignoring case"; ASCII
/// punctuation is quoted with `\`.
fn regex_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() * 4);
    fold_case(term, &mut p, |c, out| {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    });
    p
}

/// A PostgreSQL `LIKE` pattern for "contains `term`" in a title whose ASCII letters are
/// lower-cased: `term`, lower-cased, between `%`s, with `%`, `_` and `\` quoted by `\`.
fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() * 2 + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c.to_ascii_lowercase());
    }
    p.push('%');
    p
}

/// The title with ASCII letters lower-cased and nothing else changed: `lower()` under the
/// `C` collation folds A–Z only, whatever the database's locale. `ix_posts_title_folded_trgm`
/// indexes exactly this expression.
const FOLDED_TITLE: &str = r#"lower("posts"."title" COLLATE "C")"#;

/// Title contains `term` literally, ignoring case, identically on both databases.
///
/// Case is folded by us, not by the database's locale: SQLite's `LIKE` and `lower()` fold
/// ASCII only, and PostgreSQL's `lower()` follows the database's locale, so each would answer
/// differently for "É". SQLite matches a `GLOB` of case classes. PostgreSQL matches the
/// title with its ASCII letters lower-cased ([`FOLDED_TITLE`]) against a regular expression
/// of case classes, the same [`case_forms`] as the `GLOB`'s; or, when the term is ASCII,
/// against a plain `LIKE` of the lower-cased term, which is the same test (an ASCII letter's
/// case forms are exactly its two ASCII cases) at a fraction of the cost per row.
fn title_contains(backend: DbBackend, term: &str) -> Expr {
    match backend {
        DbBackend::Sqlite => {
            Expr::col((post::Entity, post::Column::Title)).glob(title_pattern(backend, term))
        }
        // PostgreSQL, the only other backend built.
        _ if by_like(term) => Expr::cust(FOLDED_TITLE).like(title_pattern(backend, term)),
        _ => Expr::cust(FOLDED_TITLE).binary(PgBinOper::Regex, title_pattern(backend, term)),
    }
}

/// Whether PostgreSQL matches `term` with a `LIKE` (an ASCII term) rather than a regular
/// expression ([`title_contains`]). The SQL built, its pattern and the memo that holds the
/// SQL ([`ListPage`]) all read the rule here, so that they cannot disagree.
fn by_like(term: &str) -> bool {
    term.is_ascii()
}

/// The pattern [`title_contains`] matches titles against.
fn title_pattern(backend: DbBackend, term: &str) -> String {
    match backend {
        DbBackend::Sqlite => glob_pattern(term),
        _ if by_like(term) => like_pattern(term),
        _ => regex_pattern(term),
    }
}

/// A page of the posts `viewer` may see, newest first, with owners and vote counts.
///
/// The page's ids are chosen first, in a sub-select, and only those rows are joined with
/// their owners and have their votes counted: with the `LIMIT ... OFFSET` outside, PostgreSQL
/// would join and count every skipped row too (810 vote counts for `skip=800`).
///
/// # Errors
/// Database errors only.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: i32,
    query: &ListQuery,
) -> Result<Vec<PostWithVotes>, Error> {
    let statement = ListPage { viewer, query }.statement(db.get_database_backend());
    let rows = Row::find_by_statement(statement).all(db).await?;
    Ok(rows.into_iter().map(PostWithVotes::from).collect())
}

/// [`list`]'s statement: one page of the posts `viewer` may see.
struct ListPage<'a> {
    viewer: i32,
    query: &'a ListQuery,
}

impl Memoized for ListPage<'_> {
    /// Without a search, with an ASCII one and with any other (see [`title_contains`]).
    fn memo(&self) -> &'static Memo {
        static LIST: Memo = Memo::new();
        static LIST_CONTAINING: Memo = Memo::new();
        static LIST_MATCHING: Memo = Memo::new();
        let search = self.query.search.as_str();
        if search.is_empty() {
            &LIST
        } else if by_like(search) {
            &LIST_CONTAINING
        } else {
            &LIST_MATCHING
        }
    }

    fn build(&self, backend: DbBackend) -> SelectStatement {
        let (viewer, query) = (self.viewer, self.query);
        let mut visible = Condition::all().add(visible_to(viewer));
        if !query.search.as_str().is_empty() {
            visible = visible.add(title_contains(backend, query.search.as_str()));
        }
        let page = Query::select()
            .column((post::Entity, post::Column::Id))
            .from(post::Entity)
            .cond_where(visible)
            .order_by((post::Entity, post::Column::Id), Order::Desc)
            .limit(query.limit)
            .offset(query.skip)
            .to_owned();
        select_with_votes(viewer)
            .filter(Expr::col((post::Entity, post::Column::Id)).in_subquery(page))
            .order_by_desc(post::Column::Id)
            .into_query()
    }

    /// The outer visibility, the page's visibility and search, then the page's bounds.
    /// Guarded by `posts::tests::the_memoized_lists_are_the_built_ones`.
    fn values(&self, backend: DbBackend) -> Vec<Value> {
        let (viewer, search) = (self.viewer, self.query.search.as_str());
        let mut values = Vec::with_capacity(7);
        values.extend([true.into(), viewer.into(), true.into(), viewer.into()]);
        if !search.is_empty() {
            values.push(title_pattern(backend, search).into());
        }
        values.extend([self.query.limit.into(), self.query.skip.into()]);
        values
    }
}

/// One post `viewer` may see, with its owner and vote count.
///
/// # Errors
/// `PostNotFound` if it does not exist or is someone else's draft.
pub async fn get<C: ConnectionTrait>(db: &C, viewer: i32, id: i64) -> Result<PostWithVotes, Error> {
    let Ok(key) = i32::try_from(id) else {
        return Err(Error::PostNotFound(id));
    };
    let statement = GetPost { viewer, id: key }.statement(db.get_database_backend());
    Row::find_by_statement(statement)
        .one(db)
        .await?
        .map(PostWithVotes::from)
        .ok_or(Error::PostNotFound(id))
}

/// [`get`]'s statement: post `id` if `viewer` may see it, with its owner and vote count.
struct GetPost {
    viewer: i32,
    id: i32,
}

impl Memoized for GetPost {
    fn memo(&self) -> &'static Memo {
        static MEMO: Memo = Memo::new();
        &MEMO
    }

    fn build(&self, _: DbBackend) -> SelectStatement {
        select_with_votes(self.viewer)
            .filter(post::Column::Id.eq(self.id))
            .limit(1)
            .into_query()
    }

    /// Guarded by `posts::tests::the_memoized_post_lookup_is_the_built_one`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        vec![true.into(), self.viewer.into(), self.id.into(), 1u64.into()]
    }
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
/// touches nothing does a second look tell 404 from 403.
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
    let mut model = <post::ActiveModel as Default>::default();
    if let Some(title) = changes.title {
        model.title = Set(title.into_inner());
    }
    if let Some(content) = changes.content {
        model.content = Set(content.into_inner());
    }
    if let Some(published) = changes.published {
        model.published = Set(published);
    }
    let mine = Condition::all()
        .add(post::Column::Id.eq(key))
        .add(post::Column::OwnerId.eq(owner.id));
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
        .filter(post::Column::Id.eq(key))
        .filter(post::Column::OwnerId.eq(owner.id))
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

/// `SELECT 1 FROM posts` where post `id` exists and `viewer` may see it: for `EXISTS (...)`.
pub(crate) fn visible(viewer: i32, id: i32) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(post::Entity)
        .and_where(Expr::col((post::Entity, post::Column::Id)).eq(id))
        .cond_where(visible_to(viewer))
        .to_owned()
}

/// Whether post `id` exists and `viewer` may see it.
pub(crate) async fn is_visible<C: ConnectionTrait>(
    db: &C,
    viewer: i32,
    id: i32,
) -> Result<bool, Error> {
    Ok(db.query_one(&visible(viewer, id)).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::{GetPost, ListPage, ListQuery, glob_pattern, like_pattern, regex_pattern};
    use crate::db::memo::assert_memoized;
    use crate::domain::SearchTerm;

    #[test]
    fn the_memoized_lists_are_the_built_ones() {
        let query = |limit, skip, search: &str| ListQuery {
            limit,
            skip,
            search: SearchTerm::parse(search.to_owned()).unwrap(),
        };
        // Two of each shape: no search, an ASCII one, any other.
        let queries = [
            query(10, 30, ""),
            query(5, 0, ""),
            query(10, 30, "Zulu"),
            query(1, 2, "50%_off"),
            query(10, 30, "Zülü"),
            query(3, 0, "É"),
        ];
        let pages: Vec<_> = queries
            .iter()
            .zip([7, 8].into_iter().cycle())
            .map(|(query, viewer)| ListPage { viewer, query })
            .collect();
        assert_memoized(&pages.iter().map(|p| p as _).collect::<Vec<_>>());
    }

    #[test]
    fn the_memoized_post_lookup_is_the_built_one() {
        assert_memoized(&[
            &GetPost { viewer: 7, id: 42 },
            &GetPost { viewer: 8, id: 1 },
        ]);
    }

    #[test]
    fn letters_become_classes_of_their_case_forms() {
        assert_eq!(glob_pattern("Ab1"), "*[Aa][bB]1*");
        assert_eq!(regex_pattern("Ab1"), "[Aa][bB]1");
        assert_eq!(glob_pattern("é"), "*[éÉ]*");
        assert_eq!(regex_pattern("ß"), "ß");
    }

    #[test]
    fn wildcards_stand_for_themselves() {
        assert_eq!(glob_pattern("%_*?[]\\"), "*%_[*][?][[]]\\*");
        assert_eq!(
            regex_pattern("%_.*?[](){}|^$+\\ x"),
            "\\%\\_\\.\\*\\?\\[\\]\\(\\)\\{\\}\\|\\^\\$\\+\\\\ [xX]"
        );
        assert_eq!(glob_pattern(""), "**");
        assert_eq!(like_pattern("%_*?[]\\ X"), "%\\%\\_*?[]\\\\ x%");
        assert_eq!(like_pattern(""), "%%");
    }
}
