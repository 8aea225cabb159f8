//! What the database's catalog says about our tables: which exist, their columns, keys and
//! indexes, and the course's Alembic revision.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseTransaction, DbBackend, QueryResult, Statement};

pub(super) async fn existing_tables(txn: &DatabaseTransaction) -> Result<BTreeSet<String>, DbErr> {
    let rows = query(
        txn,
        "SELECT c.relname::text AS name FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
         AND c.relname IN ('alembic_version', 'seaql_migrations', 'users', 'posts', 'votes')",
    )
    .await?;
    rows.iter().map(|r| r.try_get("", "name")).collect()
}

pub(super) async fn has_index(txn: &DatabaseTransaction, name: &str) -> Result<bool, DbErr> {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_indexes \
             WHERE schemaname = current_schema() AND indexname = $1",
            [name.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

pub(super) async fn count(txn: &DatabaseTransaction, table: &str) -> Result<i64, DbErr> {
    scalar(txn, &format!("SELECT count(*) AS n FROM {table}")).await
}

pub(super) async fn scalar(txn: &DatabaseTransaction, sql: &str) -> Result<i64, DbErr> {
    match query(txn, sql).await?.first() {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}

/// The course's revision(s), for messages.
pub(super) async fn alembic_revision(txn: &DatabaseTransaction) -> Result<String, DbErr> {
    let rows = query(
        txn,
        "SELECT version_num::text AS v FROM alembic_version ORDER BY 1",
    )
    .await?;
    let versions: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "v"))
        .collect::<Result<_, _>>()?;
    Ok(if versions.is_empty() {
        "none".to_owned()
    } else {
        versions.join(", ")
    })
}

pub(super) struct Column {
    pub(super) data_type: String,
    pub(super) nullable: bool,
    pub(super) has_default: bool,
    pub(super) generated: bool,
}

/// The columns of our tables, keyed by (table, column).
pub(super) async fn columns(
    txn: &DatabaseTransaction,
) -> Result<BTreeMap<(String, String), Column>, DbErr> {
    let rows = query(
        txn,
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, \
         is_nullable::text AS nullable, coalesce(column_default, '') AS d, \
         is_identity::text AS ident, is_generated::text AS gen \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name IN ('users', 'posts', 'votes')",
    )
    .await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        let default: String = r.try_get("", "d")?;
        let identity = r.try_get::<String>("", "ident")? == "YES";
        let computed = r.try_get::<String>("", "gen")? == "ALWAYS";
        out.insert(
            (r.try_get("", "t")?, r.try_get("", "c")?),
            Column {
                data_type: r.try_get("", "ty")?,
                nullable: r.try_get::<String>("", "nullable")? == "YES",
                has_default: !default.is_empty(),
                generated: identity || computed || default.starts_with("nextval("),
            },
        );
    }
    Ok(out)
}

pub(super) struct Constraint {
    pub(super) table: String,
    /// `p` primary key, `f` foreign key.
    pub(super) kind: String,
    /// Its columns, sorted, comma-separated.
    pub(super) columns: String,
    /// The referenced table of a foreign key.
    pub(super) references: String,
    /// `c` for ON DELETE CASCADE.
    pub(super) on_delete: String,
}

/// Primary and foreign keys of our tables, whatever their names.
pub(super) async fn constraints(txn: &DatabaseTransaction) -> Result<Vec<Constraint>, DbErr> {
    let rows = query(
        txn,
        "SELECT t.relname::text AS t, c.contype::text AS kind, \
         coalesce(f.relname::text, '') AS refs, c.confdeltype::text AS del, \
         array_to_string(ARRAY(SELECT a.attname::text FROM pg_attribute a \
           WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) ORDER BY 1), ',') AS cols \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         LEFT JOIN pg_class f ON f.oid = c.confrelid \
         WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f') \
         AND t.relname IN ('users', 'posts', 'votes')",
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Constraint {
                table: r.try_get("", "t")?,
                kind: r.try_get("", "kind")?,
                columns: r.try_get("", "cols")?,
                references: r.try_get("", "refs")?,
                on_delete: r.try_get("", "del")?,
            })
        })
        .collect()
}

async fn query(txn: &DatabaseTransaction, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
    txn.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
}
