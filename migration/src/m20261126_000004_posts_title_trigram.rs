//! A trigram index on `posts.title`, for `GET /posts/?search=` on PostgreSQL.
//!
//! The search is a case-insensitive substring match, sent as a regular expression whose
//! letters are the classes of their case forms (`[Ee][Cc][Hh][Oo]`, see
//! `service::posts::regex_pattern`). No B-tree can serve a match that may start anywhere in
//! the title, so without this index every search reads every post, newest first, until it has
//! a page: fine for a word in many titles, a full scan for a rare one. `pg_trgm`'s GIN index
//! answers `~` directly (it extracts the trigrams every match must contain, classes
//! included), so a rare word reads only the posts that can match.
//!
//! It indexes `title` itself, not `lower(title)`: the query folds case in the pattern rather
//! than with `lower()`, whose result depends on the database's locale, so that both databases
//! answer identically; an index on `lower(title)` would serve no query we send.
//!
//! PostgreSQL only, and only where `pg_trgm` can be had: it ships with PostgreSQL's contrib
//! package and is a trusted extension (PostgreSQL 13+), so a role with CREATE on the database
//! may install it. Where it is missing or may not be created, the migration logs why and
//! does nothing: searches are then correct, only slower on large tables. On SQLite it does
//! nothing.
//!
//! Building the index locks `posts` against writes while it runs (the migration is one
//! transaction, which `CREATE INDEX CONCURRENTLY` cannot be in): seconds for a million
//! posts. On a large table that must keep taking writes, create it first by hand with
//! `CREATE INDEX CONCURRENTLY ix_posts_title_trgm ON posts USING gin (title gin_trgm_ops)`;
//! the migration then finds it and does nothing.

use sea_orm_migration::SchemaManagerConnection;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_posts_title_trgm";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // The likely refusals are checked first, for a clear message; anything else that
        // fails (PostgreSQL 12 or older, where pg_trgm is not trusted; an allow-list of
        // extensions on a hosted server) is caught by the savepoint below, so that it cannot
        // abort the migration's transaction and stop every start.
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS installed, \
                 EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available, \
                 has_database_privilege(current_database(), 'CREATE') AS may_create",
            ))
            .await?;
        let flag = |name: &str| -> Result<bool, DbErr> {
            row.as_ref()
                .map_or(Ok(false), |r| r.try_get::<bool>("", name))
        };
        let (installed, available, may_create) =
            (flag("installed")?, flag("available")?, flag("may_create")?);
        if !installed && !available {
            skipped(
                "the pg_trgm extension is not available on this PostgreSQL server (install its contrib package)",
            );
            return Ok(());
        }
        if !installed && !may_create {
            skipped(
                "this role may not create the pg_trgm extension (grant CREATE on the database, or have an administrator run `CREATE EXTENSION pg_trgm`)",
            );
            return Ok(());
        }
        db.execute_unprepared("SAVEPOINT posts_title_trigram")
            .await?;
        match create(db).await {
            Ok(()) => {
                db.execute_unprepared("RELEASE SAVEPOINT posts_title_trigram")
                    .await?;
            }
            Err(e) => {
                db.execute_unprepared("ROLLBACK TO SAVEPOINT posts_title_trigram")
                    .await?;
                skipped(&format!("PostgreSQL refused it: {e}"));
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // The extension stays: other objects may use it by now.
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
            .await?;
        Ok(())
    }
}

/// Creates the extension if needed, then the index, naming the operator class by the schema
/// the extension lives in (it need not be on the search path).
async fn create(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
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
        "CREATE INDEX IF NOT EXISTS {INDEX} ON posts USING gin (title \"{schema}\".gin_trgm_ops)"
    ))
    .await?;
    Ok(())
}

/// Logs why the index was not created.
fn skipped(why: &str) {
    log::warn!(
        "{INDEX} not created: {why}; then run `api migrate down` and `api migrate up`. \
         Searches stay correct but scan every post"
    );
}
