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
        // Checked first: a failing CREATE EXTENSION would abort the migration's transaction.
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
        if !installed {
            if !available {
                log::warn!(
                    "{INDEX} not created: the pg_trgm extension is not available on this \
                     PostgreSQL server (install its contrib package, then run `api migrate \
                     down` and `up`); searches stay correct but scan every post"
                );
                return Ok(());
            }
            if !may_create {
                log::warn!(
                    "{INDEX} not created: this role may not create the pg_trgm extension \
                     (grant CREATE on the database, or have an administrator run `CREATE \
                     EXTENSION pg_trgm`, then run `api migrate down` and `up`); searches \
                     stay correct but scan every post"
                );
                return Ok(());
            }
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
        }
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {INDEX} ON posts USING gin (title gin_trgm_ops)"
        ))
        .await?;
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
