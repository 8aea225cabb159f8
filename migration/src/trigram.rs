//! Creating a `pg_trgm` GIN index on `posts`, for the trigram migrations.
//!
//! PostgreSQL only, and only where `pg_trgm` can be had: it ships with PostgreSQL's contrib
//! package and is a trusted extension (PostgreSQL 13+), so a role with CREATE on the database
//! may install it. Where it is missing or may not be created, [`create`] logs why and does
//! nothing: searches are then correct, only slower on large tables. On SQLite it does nothing.

use sea_orm_migration::SchemaManagerConnection;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Creates index `name` on `posts` over `expression` with `gin_trgm_ops`, and the extension
/// first if needed; logs why and does nothing where that cannot be done.
pub(crate) async fn create(
    db: &SchemaManagerConnection<'_>,
    name: &str,
    expression: &str,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // The likely refusals are checked first, for a clear message; anything else that fails
    // (PostgreSQL 12 or older, where pg_trgm is not trusted; an allow-list of extensions on a
    // hosted server) is caught by the savepoint below, so that it cannot abort the
    // migration's transaction and stop every start.
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS installed, \
             EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available, \
             has_database_privilege(current_database(), 'CREATE') AS may_create",
        ))
        .await?;
    let flag = |column: &str| -> Result<bool, DbErr> {
        row.as_ref()
            .map_or(Ok(false), |r| r.try_get::<bool>("", column))
    };
    let (installed, available, may_create) =
        (flag("installed")?, flag("available")?, flag("may_create")?);
    if !installed && !available {
        skipped(
            name,
            "the pg_trgm extension is not available on this PostgreSQL server (install its contrib package)",
        );
        return Ok(());
    }
    if !installed && !may_create {
        skipped(
            name,
            "this role may not create the pg_trgm extension (grant CREATE on the database, or have an administrator run `CREATE EXTENSION pg_trgm`)",
        );
        return Ok(());
    }
    db.execute_unprepared("SAVEPOINT trigram_index").await?;
    match create_index(db, name, expression).await {
        Ok(()) => {
            db.execute_unprepared("RELEASE SAVEPOINT trigram_index")
                .await?;
        }
        Err(e) => {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT trigram_index")
                .await?;
            skipped(name, &format!("PostgreSQL refused it: {e}"));
        }
    }
    Ok(())
}

/// Drops index `name` if it is there (PostgreSQL; nothing elsewhere). The extension stays:
/// other objects may use it by now.
pub(crate) async fn drop(db: &SchemaManagerConnection<'_>, name: &str) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
            .await?;
    }
    Ok(())
}

/// Creates the extension if needed, then the index, naming the operator class by the schema
/// the extension lives in (it need not be on the search path).
async fn create_index(
    db: &SchemaManagerConnection<'_>,
    name: &str,
    expression: &str,
) -> Result<(), DbErr> {
    db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        .await?;
    let schema: String = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT n.nspname::text AS schema FROM pg_extension e \
             JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("pg_trgm is not installed".to_owned()))?
        .try_get("", "schema")?;
    let schema = schema.replace('"', "\"\"");
    db.execute_unprepared(&format!(
        "CREATE INDEX IF NOT EXISTS {name} ON posts USING gin ({expression} \"{schema}\".gin_trgm_ops)"
    ))
    .await?;
    Ok(())
}

/// Logs why index `name` was not created.
fn skipped(name: &str, why: &str) {
    log::warn!(
        "{name} not created: {why}; then run `api migrate down` and `api migrate up`. \
         Searches stay correct but scan every post"
    );
}
