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

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ActiveValue::Set, DatabaseTransaction, DbBackend, EntityTrait, QueryResult, SqlErr, Statement,
    TransactionTrait,
};
use sea_orm_migration::seaql_migrations;

use crate::Migrator;

const TEXT: &[&str] = &["character varying", "text"];
const INTEGER: &[&str] = &["integer"];
const BOOLEAN: &[&str] = &["boolean"];
const TIMESTAMPTZ: &[&str] = &["timestamp with time zone"];

const EMAIL_INDEX: &str = "ix_users_email_lower";
const EMAIL_INDEX_SQL: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_users_email_lower ON users (lower(email))";

/// What one of our migrations builds, as far as the server relies on it.
struct Expected {
    table: &'static str,
    migration: String,
    /// Columns the server reads and writes, with the data types it can decode; all NOT NULL.
    columns: &'static [(&'static str, &'static [&'static str])],
    /// The integer key the database must fill in (serial or identity).
    generated: Option<&'static str>,
    /// Primary key columns, sorted.
    primary_key: &'static [&'static str],
    /// (column, referenced table): foreign keys that must cascade on delete.
    foreign_keys: &'static [(&'static str, &'static str)],
    /// Plain indexes our migration creates and the course never had.
    indexes: &'static [&'static str],
}

/// Our migrations the course's schema can stand in for, in migration order. Later migrations
/// of ours are never recorded here: they stay pending and `up` applies them.
fn expected() -> Vec<Expected> {
    vec![
        Expected {
            table: "users",
            migration: crate::m20261125_000001_create_users::Migration
                .name()
                .to_owned(),
            columns: &[
                ("id", INTEGER),
                ("email", TEXT),
                ("password", TEXT),
                ("created_at", TIMESTAMPTZ),
            ],
            generated: Some("id"),
            primary_key: &["id"],
            foreign_keys: &[],
            // ix_users_email_lower is unique and may be impossible: see `create_email_index`.
            indexes: &[],
        },
        Expected {
            table: "posts",
            migration: crate::m20261125_000002_create_posts::Migration
                .name()
                .to_owned(),
            columns: &[
                ("id", INTEGER),
                ("title", TEXT),
                ("content", TEXT),
                ("published", BOOLEAN),
                ("created_at", TIMESTAMPTZ),
                ("owner_id", INTEGER),
            ],
            generated: Some("id"),
            primary_key: &["id"],
            foreign_keys: &[("owner_id", "users")],
            indexes: &["CREATE INDEX IF NOT EXISTS ix_posts_owner_id ON posts (owner_id)"],
        },
        Expected {
            table: "votes",
            migration: crate::m20261125_000003_create_votes::Migration
                .name()
                .to_owned(),
            columns: &[("user_id", INTEGER), ("post_id", INTEGER)],
            generated: None,
            primary_key: &["post_id", "user_id"],
            foreign_keys: &[("user_id", "users"), ("post_id", "posts")],
            indexes: &["CREATE INDEX IF NOT EXISTS ix_votes_post_id ON votes (post_id)"],
        },
    ]
}

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

    Migrator::install(txn).await?;
    let applied_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| <i64 as TryFrom<u64>>::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    for spec in &present {
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

/// Compares one table with what the server needs; appends what is wrong to `problems`.
fn check(
    spec: &Expected,
    columns: &BTreeMap<(String, String), Column>,
    constraints: &[Constraint],
    problems: &mut Vec<String>,
) {
    let table = spec.table;
    for (name, types) in spec.columns {
        match columns.get(&(table.to_owned(), (*name).to_owned())) {
            None => problems.push(format!("{table} has no column {name}")),
            Some(c) if !types.contains(&c.data_type.as_str()) => problems.push(format!(
                "{table}.{name} is {}, expected {}",
                c.data_type,
                types.join(" or ")
            )),
            Some(c) if c.nullable => problems.push(format!("{table}.{name} allows NULL")),
            Some(_) => {}
        }
    }
    if let Some(name) = spec.generated
        && let Some(c) = columns.get(&(table.to_owned(), name.to_owned()))
        && !c.generated
    {
        problems.push(format!(
            "{table}.{name} has no default (serial or identity) to number new rows"
        ));
    }
    // Extra columns (the course's users.phone_number) are fine as long as an insert that
    // does not name them succeeds.
    for ((t, name), c) in columns {
        let ours = spec.columns.iter().any(|(n, _)| n == name);
        if t == table && !ours && !c.nullable && !c.generated && !c.has_default {
            problems.push(format!(
                "{table}.{name} is NOT NULL without a default, so new rows cannot be inserted"
            ));
        }
    }
    let has_pk = constraints
        .iter()
        .any(|k| k.table == table && k.kind == "p" && k.columns == spec.primary_key.join(","));
    if !has_pk {
        problems.push(format!(
            "{table} lacks the primary key ({})",
            spec.primary_key.join(", ")
        ));
    }
    for (column, target) in spec.foreign_keys {
        if !columns.contains_key(&(table.to_owned(), (*column).to_owned())) {
            continue; // reported above
        }
        let fk = constraints.iter().find(|k| {
            k.table == table && k.kind == "f" && k.columns == *column && k.references == *target
        });
        match fk {
            None => problems.push(format!(
                "{table}.{column} lacks its foreign key to {target}"
            )),
            Some(k) if k.on_delete != "c" => problems.push(format!(
                "the foreign key {table}.{column} -> {target} is not ON DELETE CASCADE"
            )),
            Some(_) => {}
        }
    }
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

async fn existing_tables(txn: &DatabaseTransaction) -> Result<BTreeSet<String>, DbErr> {
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

async fn has_index(txn: &DatabaseTransaction, name: &str) -> Result<bool, DbErr> {
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

async fn count(txn: &DatabaseTransaction, table: &str) -> Result<i64, DbErr> {
    scalar(txn, &format!("SELECT count(*) AS n FROM {table}")).await
}

async fn scalar(txn: &DatabaseTransaction, sql: &str) -> Result<i64, DbErr> {
    match query(txn, sql).await?.first() {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}

/// The course's revision(s), for messages.
async fn alembic_revision(txn: &DatabaseTransaction) -> Result<String, DbErr> {
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

struct Column {
    data_type: String,
    nullable: bool,
    has_default: bool,
    generated: bool,
}

/// The columns of our tables, keyed by (table, column).
async fn columns(txn: &DatabaseTransaction) -> Result<BTreeMap<(String, String), Column>, DbErr> {
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

struct Constraint {
    table: String,
    /// `p` primary key, `f` foreign key.
    kind: String,
    /// Its columns, sorted, comma-separated.
    columns: String,
    /// The referenced table of a foreign key.
    references: String,
    /// `c` for ON DELETE CASCADE.
    on_delete: String,
}

/// Primary and foreign keys of our tables, whatever their names.
async fn constraints(txn: &DatabaseTransaction) -> Result<Vec<Constraint>, DbErr> {
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
