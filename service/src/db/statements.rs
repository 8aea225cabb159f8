//! Running statements: [`Db`] as a [`ConnectionTrait`], so the use cases take
//! `&impl ConnectionTrait` and work on it, on a SeaORM connection, or on a transaction alike.
//! Every statement takes the one path of [`Db::run`]; each method says only what it asks of
//! each backend.

use sea_orm::sqlx::{self, postgres::PgConnection};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};

use super::pooler::Sending;
use super::postgres::{execute, execute_sql, fetch_all, fetch_optional};
use super::{Backend, Db};

impl Db {
    /// Runs `statement` with `on_postgres` on a connection of our pool (checked out, bounded
    /// by the statement timeout, prepared or not as the pool says, given back marked as the
    /// statement left it), failing as `failed` says; or with `on_sea_orm` on SeaORM's
    /// connection.
    async fn run<S, T>(
        &self,
        statement: S,
        on_postgres: impl AsyncFnOnce(&mut PgConnection, S, &Sending) -> Result<T, sqlx::Error>,
        on_sea_orm: impl AsyncFnOnce(&DatabaseConnection, S) -> Result<T, DbErr>,
        failed: fn(RuntimeErr) -> DbErr,
    ) -> Result<T, DbErr> {
        self.2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &self.0 {
            Backend::Postgres(pool) => pool
                .run(async move |conn, sending| on_postgres(conn, statement, sending).await)
                .await?
                .map_err(|e| failed(RuntimeErr::SqlxError(e.into()))),
            Backend::SeaOrm(db) => on_sea_orm(db, statement).await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match &self.0 {
            Backend::Postgres(_) => DbBackend::Postgres,
            Backend::SeaOrm(db) => db.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.run(
            stmt,
            async |conn, stmt, sending| Ok(execute(conn, stmt, sending).await?.into()),
            async |db, stmt| db.execute_raw(stmt).await,
            DbErr::Exec,
        )
        .await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        // Both closures borrow the SQL rather than take it: a borrowed argument trips the
        // compiler's check that the returned future is `Send` for every lifetime.
        self.run(
            (),
            async |conn, (), sending| Ok(execute_sql(conn, sql, sending).await?.into()),
            async |db, ()| db.execute_unprepared(sql).await,
            DbErr::Exec,
        )
        .await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.run(
            stmt,
            async |conn, stmt, sending| {
                Ok(fetch_optional(conn, stmt, sending).await?.map(Into::into))
            },
            async |db, stmt| match db.get_database_backend() {
                // SQLite commits a statement outside a transaction when it is stepped to its
                // end. sqlx's `fetch_one` stops at the first row and resets the statement,
                // which commits it there and drops the commit's error (a full disk, a
                // read-only file): an `INSERT ... RETURNING` would give back a row that was
                // rolled back. Reading every row steps it to its end, so a failed commit fails
                // the statement. Guarded by `api/tests/full_disk/`.
                DbBackend::Sqlite => Ok(db.query_all_raw(stmt).await?.into_iter().next()),
                _ => db.query_one_raw(stmt).await,
            },
            DbErr::Query,
        )
        .await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.run(
            stmt,
            async |conn, stmt, sending| {
                let rows = fetch_all(conn, stmt, sending).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            },
            async |db, stmt| db.query_all_raw(stmt).await,
            DbErr::Query,
        )
        .await
    }
}
