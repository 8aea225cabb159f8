//! The statements that read posts: every post with its owner and vote count in one
//! statement ([`select_with_votes`]), the two that run on most requests built once per
//! backend ([`ListPage`], [`GetPost`]), and the "post exists and is visible" sub-select that
//! votes reuse ([`visible`]).

use chrono::{DateTime, FixedOffset};
use entity::{post, user, vote};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement, SubQueryStatement};
use sea_orm::{
    ColumnTrait, Condition, DbBackend, EntityTrait, FromQueryResult, Iterable, JoinType,
    QueryFilter, QuerySelect, QueryTrait, RelationTrait, Select, Statement, Value,
};

use super::search::{by_like, title_contains, title_pattern};
use super::{Keyset, ListQuery, Post, PostWithVotes, visible_to};
use crate::Error;
use crate::auth::Gate;
use crate::db::memo::{BuildError, Memo, Memoized, refused, write_in};
use crate::domain::PageSize;
use crate::users::User;

/// One row of [`select_with_votes`].
#[derive(FromQueryResult)]
pub(super) struct Row {
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

/// `(SELECT COUNT(votes.post_id) FROM votes WHERE votes.post_id = posts.id)`: the vote count
/// of the post of the enclosing statement (read, written, or compared).
pub(super) fn vote_count() -> Expr {
    let votes = Query::select()
        .expr(Expr::col((vote::Entity, vote::Column::PostId)).count())
        .from(vote::Entity)
        .and_where(
            Expr::col((vote::Entity, vote::Column::PostId))
                .equals((post::Entity, post::Column::Id)),
        )
        .to_owned();
    Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(votes)))
}

/// Posts visible to `viewer`, each with its owner and vote count: one statement.
pub(super) fn select_with_votes(viewer: i32) -> Select<post::Entity> {
    post::Entity::find()
        .column_as(user::Column::Email, "owner_email")
        .column_as(user::Column::CreatedAt, "owner_created_at")
        .expr_as(vote_count(), "votes")
        .join(JoinType::InnerJoin, post::Relation::User.def())
        .filter(visible_to(viewer))
}

/// [`super::list`]'s statement: one page of the posts `viewer` may see, newest first; under
/// a [`Gate`], none unless the caller's session is alive.
///
/// The page's rows are chosen first, in a derived table named `posts` like the table it
/// reads, and only those rows are joined with their owners and have their votes counted: with
/// the `LIMIT ... OFFSET` outside, PostgreSQL would join and count every skipped row too (810
/// vote counts for a page of 10 after 800). A derived table rather than `posts.id IN (page)`:
/// with `IN`, PostgreSQL read the whole table again to join it with the page's ids.
pub(super) struct ListPage<'a> {
    pub(super) viewer: i32,
    pub(super) query: &'a ListQuery,
    pub(super) gate: Option<Gate>,
}

impl Memoized for ListPage<'_> {
    type Query = SelectStatement;

    /// Without a search, with an ASCII one and with any other (see [`title_contains`]), each
    /// by `skip`, after an older keyset and after a newer one; each with a gate and without;
    /// without a search, each for every page size, which is then written into the SQL (see
    /// [`Self::render`]).
    fn memo(&self) -> &'static Memo {
        const SIZES: usize = PageSize::MAX as usize + 1;
        static LISTS: [[Memo; 18]; SIZES] = [const { [const { Memo::new() }; 18] }; SIZES];
        let size = if self.writes_in_limit() {
            usize::try_from(self.query.limit.get()).map_or(SIZES - 1, |n| n.min(SIZES - 1))
        } else {
            0
        };
        let search = self.query.search.as_str();
        let by_search = if search.is_empty() {
            0
        } else if by_like(search) {
            1
        } else {
            2
        };
        let by_keyset = match self.query.keyset {
            None => 0,
            Some(Keyset::Older(_)) => 1,
            Some(Keyset::Newer(_)) => 2,
        };
        &LISTS[size][usize::from(self.gate.is_some()) * 9 + by_search * 3 + by_keyset]
    }

    /// Without a search, the page's `LIMIT` is written into the SQL, not bound: not knowing
    /// it, PostgreSQL's one plan for a prepared statement counts on a tenth of the table,
    /// which it finds worse than planning afresh with the values, so the list was planned on
    /// every request (+47 % req/s for S2 written in; bench/README.md). The page size takes at
    /// most 101 values, so at most 101 statements per shape. With a search it stays bound:
    /// written in, PostgreSQL planned the search afresh on every request instead (S3's
    /// statement at 60 % of its throughput bound).
    fn render(&self, backend: DbBackend) -> Result<Statement, Error> {
        let built = backend.build(&self.build(backend).map_err(refused)?);
        if self.writes_in_limit() {
            write_in(built, self.limit_index())
        } else {
            Ok(built)
        }
    }

    /// One row more than the page, to tell whether the list goes on; a newer keyset's page
    /// is the rows just above the boundary, so it is chosen oldest first.
    fn build(&self, backend: DbBackend) -> Result<SelectStatement, BuildError> {
        let (viewer, query) = (self.viewer, self.query);
        let mut visible = Condition::all().add(visible_to(viewer));
        if !query.search.as_str().is_empty() {
            visible = visible.add(title_contains(backend, query.search.as_str()));
        }
        let id = (post::Entity, post::Column::Id);
        let order = match query.keyset {
            None => Order::Desc,
            Some(Keyset::Older(boundary)) => {
                visible = visible.add(Expr::col(id).lt(boundary));
                Order::Desc
            }
            Some(Keyset::Newer(boundary)) => {
                visible = visible.add(Expr::col(id).gt(boundary));
                Order::Asc
            }
        };
        let mut page = Query::select()
            .columns(post::Column::iter().map(|c| (post::Entity, c)))
            .from(post::Entity)
            .cond_where(visible)
            .order_by(id, order)
            .limit(query.limit.get() + 1)
            .to_owned();
        if query.keyset.is_none() {
            page.offset(query.skip.get());
        }
        let mut select = Query::select();
        select
            .columns(post::Column::iter().map(|c| (post::Entity, c)))
            .expr_as(
                Expr::col((user::Entity, user::Column::Email)),
                "owner_email",
            )
            .expr_as(
                Expr::col((user::Entity, user::Column::CreatedAt)),
                "owner_created_at",
            )
            .expr_as(vote_count(), "votes")
            .from_subquery(page, post::Entity)
            .inner_join(
                user::Entity,
                Expr::col((post::Entity, post::Column::OwnerId))
                    .equals((user::Entity, user::Column::Id)),
            );
        if let Some(gate) = self.gate {
            select.and_where(gate.condition());
        }
        Ok(select.order_by(id, Order::Desc).to_owned())
    }

    /// The page's visibility, search and boundary, then its limit (unless written in:
    /// [`Self::render`]) and offset, then the gate's. Guarded by
    /// `posts::query::tests::the_memoized_lists_are_the_built_ones`.
    fn values(&self, backend: DbBackend) -> Vec<Value> {
        let (viewer, search) = (self.viewer, self.query.search.as_str());
        let mut values = Vec::with_capacity(6);
        values.extend([true.into(), viewer.into()]);
        if !search.is_empty() {
            values.push(title_pattern(backend, search).into());
        }
        if let Some(Keyset::Older(boundary) | Keyset::Newer(boundary)) = self.query.keyset {
            values.push(boundary.into());
        }
        if !self.writes_in_limit() {
            values.push((self.query.limit.get() + 1).into());
        }
        if self.query.keyset.is_none() {
            values.push(self.query.skip.get().into());
        }
        if let Some(gate) = self.gate {
            values.extend(gate.values());
        }
        values
    }
}

impl ListPage<'_> {
    /// Whether the page's `LIMIT` is written into its SQL: without a search ([`Self::render`]
    /// says why).
    fn writes_in_limit(&self) -> bool {
        self.query.search.as_str().is_empty()
    }

    /// Where the builder places the page's `LIMIT` among the values: after the page's
    /// visibility (two), its search and its boundary.
    fn limit_index(&self) -> usize {
        2 + usize::from(!self.query.search.as_str().is_empty())
            + usize::from(self.query.keyset.is_some())
    }
}

/// [`super::get`]'s statement: post `id` if `viewer` may see it, with its owner and vote
/// count; under a [`Gate`], none unless the caller's session is alive.
pub(super) struct GetPost {
    pub(super) viewer: i32,
    pub(super) id: i32,
    pub(super) gate: Option<Gate>,
}

impl Memoized for GetPost {
    type Query = SelectStatement;

    fn memo(&self) -> &'static Memo {
        static MEMOS: [Memo; 2] = [const { Memo::new() }; 2];
        &MEMOS[usize::from(self.gate.is_some())]
    }

    fn build(&self, _: DbBackend) -> Result<SelectStatement, BuildError> {
        let mut select = select_with_votes(self.viewer).filter(post::Column::Id.eq(self.id));
        if let Some(gate) = self.gate {
            select = select.filter(gate.condition());
        }
        Ok(select.limit(1).into_query())
    }

    /// Guarded by `posts::query::tests::the_memoized_post_lookup_is_the_built_one`.
    fn values(&self, _: DbBackend) -> Vec<Value> {
        let mut values = vec![true.into(), self.viewer.into(), self.id.into()];
        if let Some(gate) = self.gate {
            values.extend(gate.values());
        }
        values.push(1u64.into());
        values
    }
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

#[cfg(test)]
mod tests {
    use super::{GetPost, Keyset, ListPage, ListQuery};
    use crate::db::memo::assert_memoized;
    use crate::domain::{PageSize, SearchTerm, Skip};

    #[test]
    fn the_memoized_lists_are_the_built_ones() {
        let query = |limit, skip, search: &str, keyset| ListQuery {
            limit: PageSize::parse(limit).unwrap(),
            skip: Skip::parse(skip).unwrap(),
            search: SearchTerm::parse(search.to_owned()).unwrap(),
            keyset,
        };
        // Two of each shape: no search, an ASCII one, any other; by skip, older, newer.
        let mut queries = Vec::new();
        for keyset in [
            [None, None],
            [Some(Keyset::Older(500)), Some(Keyset::Older(9))],
            [Some(Keyset::Newer(500)), Some(Keyset::Newer(9))],
        ] {
            queries.extend([
                query(10, 30, "", keyset[0]),
                query(5, 0, "", keyset[1]),
                query(10, 30, "Zulu", keyset[0]),
                query(1, 2, "50%_off", keyset[1]),
                query(10, 30, "Zülü", keyset[0]),
                query(3, 0, "É", keyset[1]),
            ]);
        }
        let pages: Vec<_> = [None, gate(7, 3), gate(8, 4)]
            .into_iter()
            .flat_map(|gate| {
                queries
                    .iter()
                    .zip([7, 8].into_iter().cycle())
                    .map(move |(query, viewer)| ListPage {
                        viewer,
                        query,
                        gate,
                    })
            })
            .collect();
        assert_memoized(&pages.iter().map(|p| p as _).collect::<Vec<_>>());
    }

    #[test]
    fn a_pages_size_is_written_into_its_sql_unless_it_searches() {
        use sea_orm::DbBackend;

        use crate::db::memo::Memoized as _;
        let query = |search: &str| ListQuery {
            limit: PageSize::parse(10).unwrap(),
            skip: Skip::parse(30).unwrap(),
            search: SearchTerm::parse(search.to_owned()).unwrap(),
            keyset: None,
        };
        let sql = |query: &ListQuery| {
            let page = ListPage {
                viewer: 7,
                query,
                gate: gate(7, 3),
            };
            let Ok(statement) = page.statement(DbBackend::Postgres) else {
                panic!("refused");
            };
            (statement.sql, statement.values.map_or(0, |v| v.0.len()))
        };
        let (plain, values) = sql(&query(""));
        assert!(plain.contains(" LIMIT 11 OFFSET $3)"), "{plain}");
        assert!(plain.ends_with(r#""user_id" = $5) ORDER BY "posts"."id" DESC"#));
        assert_eq!(values, 5);
        let (search, values) = sql(&query("Zulu"));
        assert!(search.contains(" LIKE $3 ORDER BY"), "{search}");
        assert!(search.contains(" LIMIT $4 OFFSET $5)"), "{search}");
        assert_eq!(values, 7);
    }

    #[test]
    fn the_memoized_post_lookup_is_the_built_one() {
        assert_memoized(&[
            &GetPost {
                viewer: 7,
                id: 42,
                gate: None,
            },
            &GetPost {
                viewer: 8,
                id: 1,
                gate: None,
            },
            &GetPost {
                viewer: 7,
                id: 42,
                gate: gate(7, 3),
            },
            &GetPost {
                viewer: 8,
                id: 1,
                gate: gate(8, 9),
            },
        ]);
    }

    fn gate(user_id: i32, session_id: i32) -> Option<crate::auth::Gate> {
        Some(crate::auth::Gate::for_test(user_id, session_id))
    }
}
