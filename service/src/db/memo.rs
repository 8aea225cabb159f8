//! Statements whose SQL never changes shape, built with the query builder once per backend
//! instead of once per request: the statements every request runs (the token's user, a post
//! with its owner and vote count, the list) spend no time building and rendering a query.
//!
//! Each such statement is one [`Memoized`] implementation: the builder's statement, its
//! values, and where its SQL is kept, side by side, and [`Memoized::statement`] is the one
//! way to run it. Fragile: `values` must list the values in the order `build` places them;
//! guarded by each implementation's unit test, which calls `assert_memoized`.

use std::sync::OnceLock;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{DbBackend, Statement, Value};

/// A statement whose SQL depends only on the backend (and on which [`Memo`] holds it), never
/// on its values.
pub(crate) trait Memoized {
    /// Where the SQL is kept: a `static` of the implementation's own, one per shape when the
    /// SQL has several.
    fn memo(&self) -> &'static Memo;

    /// The statement, as the query builder makes it (run once per backend and memo).
    fn build(&self, backend: DbBackend) -> SelectStatement;

    /// The values of [`build`](Self::build)'s statement, in the order it places them.
    fn values(&self, backend: DbBackend) -> Vec<Value>;

    /// The statement to run on `backend`: the memoized SQL with this query's values.
    fn statement(&self, backend: DbBackend) -> Statement {
        let sql = self.memo().sql(backend, || self.build(backend));
        Statement::from_sql_and_values(backend, sql, self.values(backend))
    }
}

/// The SQL of one statement, per backend.
pub(crate) struct Memo {
    postgres: OnceLock<String>,
    sqlite: OnceLock<String>,
}

impl Memo {
    pub(crate) const fn new() -> Self {
        Self {
            postgres: OnceLock::new(),
            sqlite: OnceLock::new(),
        }
    }

    /// The SQL for `backend`; `build` runs the first time only.
    fn sql(&self, backend: DbBackend, build: impl FnOnce() -> SelectStatement) -> &str {
        let cell = match backend {
            DbBackend::Sqlite => &self.sqlite,
            _ => &self.postgres,
        };
        cell.get_or_init(|| backend.build(&build()).sql)
    }
}

/// Checks that each of `queries`, run as production runs it, is exactly what the builder
/// makes of it, on both backends. Give at least two queries of each shape with different
/// values, so that one is checked against SQL memoized from another.
#[cfg(test)]
pub(crate) fn assert_memoized(queries: &[&dyn Memoized]) {
    for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
        for (i, query) in queries.iter().enumerate() {
            let memoized = query.statement(backend);
            let built = backend.build(&query.build(backend));
            assert_eq!(memoized.sql, built.sql, "{backend:?}, query {i}");
            assert_eq!(memoized.values, built.values, "{backend:?}, query {i}");
        }
    }
}
