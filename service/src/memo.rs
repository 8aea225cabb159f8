//! Statements whose SQL never changes shape, built with the query builder once per backend
//! instead of once per request. Only the values differ between uses, and they are given in
//! the order the builder places them, which each memo's test checks against the builder.
//!
//! For the statements every request runs (the token's user; a post with its owner and vote
//! count) building, rendering and dropping the query took about a tenth of the server's CPU
//! per request (`bench/run.sh`, S1 profile).

use std::sync::OnceLock;

use sea_orm::{DbBackend, Statement, StatementBuilder, Value};

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

    /// The statement for `backend` with `values`; `build` (any values of the right shape)
    /// runs the first time only.
    pub(crate) fn statement<S: StatementBuilder>(
        &self,
        backend: DbBackend,
        build: impl FnOnce() -> S,
        values: Vec<Value>,
    ) -> Statement {
        let cell = match backend {
            DbBackend::Sqlite => &self.sqlite,
            _ => &self.postgres,
        };
        let sql = cell.get_or_init(|| backend.build(&build()).sql);
        Statement::from_sql_and_values(backend, sql.as_str(), values)
    }
}

/// Checks that `memo` with `values` is exactly what the builder makes of them, on both
/// backends.
#[cfg(test)]
pub(crate) fn assert_same<S: StatementBuilder>(
    memo: &Memo,
    build: impl Fn(DbBackend) -> S,
    values: impl Fn(DbBackend) -> Vec<Value>,
) {
    for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
        let memoized = memo.statement(backend, || build(backend), values(backend));
        let built = backend.build(&build(backend));
        assert_eq!(memoized.sql, built.sql, "{backend:?}");
        assert_eq!(memoized.values, built.values, "{backend:?}");
    }
}
