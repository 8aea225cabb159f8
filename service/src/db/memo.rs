//! Statements whose SQL never changes shape, built with the query builder once per backend
//! instead of once per request: the statements every request runs (the token's user, a post
//! with its owner and vote count, the list, a new post, a post's update, a vote) spend no
//! time building and rendering a query.
//!
//! Each such statement is one [`Memoized`] implementation: the builder's statement, its
//! values, and where its SQL is kept, side by side, and [`Memoized::statement`] is the one
//! way to run it. Fragile: `values` must list the values in the order `build` places them;
//! guarded by each implementation's unit test, which calls `assert_memoized`.

use std::sync::OnceLock;

pub(crate) use sea_orm::sea_query::error::Error as BuildError;
use sea_orm::{DbBackend, Statement, StatementBuilder, Value};

use crate::Error;

/// A statement whose SQL depends only on the backend (and on which [`Memo`] holds it), never
/// on its values.
pub(crate) trait Memoized {
    /// What the query builder makes: a select, an insert, an update or a delete.
    type Query: StatementBuilder;

    /// Where the SQL is kept: a `static` of the implementation's own, one per shape when the
    /// SQL has several.
    fn memo(&self) -> &'static Memo;

    /// The statement, as the query builder makes it (run once per backend and memo). The
    /// builder refuses only a statement malformed in the code (an insert whose columns and
    /// values differ in number), which the implementation's unit test would show.
    fn build(&self, backend: DbBackend) -> Result<Self::Query, BuildError>;

    /// The values of [`build`](Self::build)'s statement, in the order it places them.
    fn values(&self, backend: DbBackend) -> Vec<Value>;

    /// The statement to run on `backend`: the memoized SQL with this query's values.
    ///
    /// # Errors
    /// `Internal` if the builder refused the statement.
    fn statement(&self, backend: DbBackend) -> Result<Statement, Error> {
        let sql = self
            .memo()
            .sql(backend, || self.build(backend))
            .map_err(|e| Error::Internal(format!("building a statement: {e}")))?;
        Ok(Statement::from_sql_and_values(
            backend,
            sql,
            self.values(backend),
        ))
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

    /// The SQL for `backend`; `build` runs until it succeeds once (the first time, in
    /// practice: it fails only for a statement malformed in the code).
    fn sql<Q: StatementBuilder>(
        &self,
        backend: DbBackend,
        build: impl FnOnce() -> Result<Q, BuildError>,
    ) -> Result<&str, BuildError> {
        let cell = match backend {
            DbBackend::Sqlite => &self.sqlite,
            _ => &self.postgres,
        };
        if let Some(sql) = cell.get() {
            return Ok(sql);
        }
        let sql = backend.build(&build()?).sql;
        Ok(cell.get_or_init(|| sql))
    }
}

/// Checks that each of `queries`, run as production runs it, is exactly what the builder
/// makes of it, on both backends. Give at least two queries of each shape with different
/// values, so that one is checked against SQL memoized from another.
#[cfg(test)]
pub(crate) fn assert_memoized<Q: StatementBuilder>(queries: &[&dyn Memoized<Query = Q>]) {
    for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
        for (i, query) in queries.iter().enumerate() {
            let Ok(memoized) = query.statement(backend) else {
                panic!("{backend:?}, query {i}: the builder refused it");
            };
            let Ok(built) = query.build(backend) else {
                panic!("{backend:?}, query {i}: the builder refused it");
            };
            let built = backend.build(&built);
            assert_eq!(memoized.sql, built.sql, "{backend:?}, query {i}");
            assert_eq!(memoized.values, built.values, "{backend:?}, query {i}");
        }
    }
}
