//! Adopting a PostgreSQL database built by the FastAPI course's own Alembic migrations.
//!
//! The course's schema has our table and column names (on purpose), plus what Alembic and the
//! course left behind: the `alembic_version` table, a nullable `users.phone_number`, and
//! constraint names of its own. [`adopt`] runs under the migration lock, in the migration's
//! transaction, before anything else: when `alembic_version` exists and `seaql_migrations`
//! records nothing yet, it checks each of our tables the course already built (columns, types,
//! keys), records the migrations that built them as applied, and creates only the indexes the
//! course never had. Tables the course had not reached yet (a database from before its votes
//! revision) are left to the ordinary `up`. A table we cannot use as it is fails the start with
//! every problem listed, and, the transaction being rolled back, nothing changed. The data,
//! `alembic_version` and `phone_number` are never touched, so tools reading the course's schema
//! keep working.
//!
//! Emails that differ only by case (the course stored them as typed) make the unique index on
//! `lower(email)` impossible: adoption goes on without it and warns, and every later start
//! retries it (warning again) until the duplicates are resolved. Until then those accounts
//! cannot be told apart at login.

mod catalog;
mod expected;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ActiveValue::Set, DatabaseTransaction, EntityTrait, SqlErr, TransactionTrait,
};
use sea_orm_migration::seaql_migrations;

use crate::Migrator;
use catalog::{alembic_revision, columns, constraints, count, existing_tables, has_index, scalar};
use expected::{Expected, check, expected};

const EMAIL_INDEX: &str = "ix_users_email_lower";
const EMAIL_INDEX_SQL: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_users_email_lower ON users (lower(email))";
/// Adopts a course database if this is one that we have not adopted yet; on one adopted
/// before, retries the email index if it is still missing. Anything else: does nothing.
///
/// PostgreSQL only; `txn` holds the migration lock.
///
/// # Errors
/// A course schema we cannot use as it is (every problem named), or a database error.
pub(crate) async fn adopt(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    let tables = existing_tables(txn).await?;
    if !tables.contains("alembic_version") {
        return Ok(());
    }
    if tables.contains("seaql_migrations") && count(txn, "seaql_migrations").await? > 0 {
        if tables.contains("users") && !has_index(txn, EMAIL_INDEX).await? {
            create_email_index(txn).await?;
        }
        return Ok(());
    }
    let revision = alembic_revision(txn).await?;
    let present = inspect(txn, &tables, &revision).await?;
    record(txn, &present).await?;
    let recorded: Vec<&str> = present.iter().map(|s| s.migration.as_str()).collect();
    log::info!(
        "adopted the FastAPI course's database (Alembic revision {revision}): recorded {} as \
         applied, data, alembic_version and extra columns left as they were",
        if recorded.is_empty() {
            "no migration".to_owned()
        } else {
            recorded.join(", ")
        }
    );
    Ok(())
}

/// Which of our tables the course built, each checked: those we can adopt, or every problem.
async fn inspect(
    txn: &DatabaseTransaction,
    tables: &BTreeSet<String>,
    revision: &str,
) -> Result<Vec<Expected>, DbErr> {
    let columns = columns(txn).await?;
    let constraints = constraints(txn).await?;
    let mut problems = Vec::new();
    let mut present = Vec::new();
    let mut missing: Option<&str> = None;
    for spec in expected() {
        if !tables.contains(spec.table) {
            missing.get_or_insert(spec.table);
            continue;
        }
        if let Some(before) = missing {
            problems.push(format!(
                "table {} exists but {before}, which it depends on, does not",
                spec.table
            ));
        }
        check(&spec, &columns, &constraints, &mut problems);
        present.push(spec);
    }
    if !problems.is_empty() {
        return Err(DbErr::Migration(format!(
            "cannot adopt this database built by the FastAPI course's Alembic migrations \
             (revision {revision}): {}. Bring it to the course's last revision \
             (`alembic upgrade head`) or fix this by hand, then start again; nothing was changed",
            problems.join("; ")
        )));
    }
    Ok(present)
}

/// Records the migrations `present` stands in for as applied, and creates the indexes the
/// course never had.
async fn record(txn: &DatabaseTransaction, present: &[Expected]) -> Result<(), DbErr> {
    Migrator::install(txn).await?;
    let applied_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| <i64 as TryFrom<u64>>::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    for spec in present {
        seaql_migrations::Entity::insert(seaql_migrations::ActiveModel {
            version: Set(spec.migration.clone()),
            applied_at: Set(applied_at),
        })
        .exec(txn)
        .await?;
        for sql in spec.indexes {
            txn.execute_unprepared(sql).await?;
        }
        if spec.table == "users" {
            create_email_index(txn).await?;
        }
    }
    Ok(())
}

/// Creates the unique index on `lower(email)` if the data allows it; warns otherwise.
///
/// In a savepoint: the failure must not abort the migration's transaction.
async fn create_email_index(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    let savepoint = txn.begin().await?;
    match savepoint.execute_unprepared(EMAIL_INDEX_SQL).await {
        Ok(_) => savepoint.commit().await,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            savepoint.rollback().await?;
            let duplicated = scalar(
                txn,
                "SELECT count(*) AS n FROM (SELECT lower(email) FROM users \
                 GROUP BY lower(email) HAVING count(*) > 1) AS d",
            )
            .await?;
            log::warn!(
                "users: {duplicated} email address(es) are registered more than once in \
                 different letter case, so the unique index {EMAIL_INDEX} on lower(email) was \
                 not created; login cannot tell those accounts apart and registration does not \
                 refuse a case variant of an existing email. Find them with `SELECT \
                 lower(email), array_agg(id) FROM users GROUP BY 1 HAVING count(*) > 1`, merge \
                 or rename them; the next start creates the index"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}
