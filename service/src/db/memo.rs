//! Statements whose SQL never changes shape, built with the query builder once per backend
//! instead of once per request: the statements every request runs (the token's user, a post
//! with its owner and vote count, the list, a new post, a post's update, a vote) spend no
//! time building and rendering a query.
//!
//! Each such statement is one [`Memoized`] implementation: the builder's statement, its
//! values, and where its SQL is kept, side by side, and [`Memoized::statement`] is the one
//! way to run it. Fragile: `values` must list the values in the order `build` places them;
//! guarded by each implementation's unit test, which calls `assert_memoized`.

use std::cmp::Ordering;
use std::sync::OnceLock;

pub(crate) use sea_orm::sea_query::error::Error as BuildError;
use sea_orm::{DbBackend, Statement, StatementBuilder, Value};

use super::inline::parameters;
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

    /// [`build`](Self::build)'s statement rendered for `backend`, with its values: what
    /// [`statement`](Self::statement) memoizes. An implementation that writes one of the
    /// values into the SQL (see [`write_in`]) says so here, and leaves it out of
    /// [`values`](Self::values).
    ///
    /// # Errors
    /// `Internal` if the builder refused the statement.
    fn render(&self, backend: DbBackend) -> Result<Statement, Error> {
        let built = self.build(backend).map_err(refused)?;
        Ok(backend.build(&built))
    }

    /// The statement to run on `backend`: the memoized SQL with this query's values.
    ///
    /// # Errors
    /// `Internal` if the builder refused the statement.
    fn statement(&self, backend: DbBackend) -> Result<Statement, Error> {
        let sql = self
            .memo()
            .sql(backend, || self.render(backend).map(|s| s.sql))?;
        Ok(Statement::from_sql_and_values(
            backend,
            sql,
            self.values(backend),
        ))
    }
}

/// The error of a statement the builder refused.
pub(crate) fn refused(e: BuildError) -> Error {
    Error::Internal(format!("building a statement: {e}"))
}

/// `stmt` with its value number `index` (from 0), an integer, written into its SQL as a
/// literal and taken out of its values; the later parameters are renumbered on PostgreSQL
/// (SQLite's `?` go by position), found as `db::inline` finds them. For a value the planner
/// must see: PostgreSQL plans a prepared statement once for any values, and a page's
/// `LIMIT $n` leaves it guessing a tenth of the table (see `posts::query::ListPage`).
///
/// # Errors
/// `Internal` if the statement has no such value, it is not an integer, or its SQL holds what
/// `db::inline` does not follow for certain.
pub(crate) fn write_in(mut stmt: Statement, index: usize) -> Result<Statement, Error> {
    let unfit = || Error::Internal(format!("cannot write parameter {index} into the statement"));
    let values = &mut stmt.values.as_mut().ok_or_else(unfit)?.0;
    let literal = match values.get(index) {
        Some(Value::BigUnsigned(Some(n))) => n.to_string(),
        Some(Value::BigInt(Some(n))) => n.to_string(),
        Some(Value::Int(Some(n))) => n.to_string(),
        Some(Value::Unsigned(Some(n))) => n.to_string(),
        _ => return Err(unfit()),
    };
    values.remove(index);
    let (sql, positional) = (stmt.sql.as_str(), stmt.db_backend == DbBackend::Sqlite);
    let parameters = parameters(sql, positional).ok_or_else(unfit)?;
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for (at, n) in parameters {
        out.push_str(&sql[copied..at.start]);
        match n.cmp(&(index + 1)) {
            Ordering::Equal => out.push_str(&literal),
            Ordering::Greater if !positional => {
                out.push('$');
                out.push_str(&(n - 1).to_string());
            }
            _ => out.push_str(&sql[at.clone()]),
        }
        copied = at.end;
    }
    out.push_str(&sql[copied..]);
    stmt.sql = out;
    Ok(stmt)
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
    fn sql(
        &self,
        backend: DbBackend,
        render: impl FnOnce() -> Result<String, Error>,
    ) -> Result<&str, Error> {
        let cell = match backend {
            DbBackend::Sqlite => &self.sqlite,
            _ => &self.postgres,
        };
        if let Some(sql) = cell.get() {
            return Ok(sql);
        }
        let sql = render()?;
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
            let Ok(built) = query.render(backend) else {
                panic!("{backend:?}, query {i}: the builder refused it");
            };
            assert_eq!(memoized.sql, built.sql, "{backend:?}, query {i}");
            assert_eq!(memoized.values, built.values, "{backend:?}, query {i}");
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Statement, Value};

    use super::write_in;

    fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(backend, sql, values)
    }

    #[test]
    fn a_written_in_value_leaves_the_parameters_and_the_later_ones_renumbered() {
        let sql = r#"SELECT '$2', "a?$2" FROM t WHERE a = $1 LIMIT $2 OFFSET $3 AND b = $10"#;
        let values: Vec<Value> = vec![
            7i32.into(),
            11u64.into(),
            3u64.into(),
            4i32.into(),
            5i32.into(),
            6i32.into(),
            7i32.into(),
            8i32.into(),
            9i32.into(),
            10i32.into(),
        ];
        let Ok(written) = write_in(statement(DbBackend::Postgres, sql, values), 1) else {
            panic!("refused");
        };
        assert_eq!(
            written.sql,
            r#"SELECT '$2', "a?$2" FROM t WHERE a = $1 LIMIT 11 OFFSET $2 AND b = $9"#
        );
        let left = written.values.map(|v| v.0.len());
        assert_eq!(left, Some(9));
    }

    #[test]
    fn sqlites_placeholders_go_by_position() {
        let sql = r#"SELECT '?' FROM t WHERE a = ? LIMIT ? OFFSET ?"#;
        let values: Vec<Value> = vec![7i32.into(), 11u64.into(), 3u64.into()];
        let Ok(written) = write_in(statement(DbBackend::Sqlite, sql, values), 1) else {
            panic!("refused");
        };
        assert_eq!(
            written.sql,
            "SELECT '?' FROM t WHERE a = ? LIMIT 11 OFFSET ?"
        );
        assert_eq!(
            written.values.map(|v| v.0),
            Some(vec![7i32.into(), 3u64.into()])
        );
    }

    #[test]
    fn only_an_integer_is_written_in() {
        let text = statement(DbBackend::Postgres, "SELECT $1", vec!["x".into()]);
        assert!(write_in(text, 0).is_err());
        let missing = statement(DbBackend::Postgres, "SELECT $1", vec![1i32.into()]);
        assert!(write_in(missing, 1).is_err());
    }
}
