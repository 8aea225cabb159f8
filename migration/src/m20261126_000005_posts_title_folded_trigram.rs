//! The search index again, over the title with its ASCII letters lower-cased:
//! `lower(title COLLATE "C")`. It replaces `ix_posts_title_trgm` (migration 4).
//!
//! A search for an ASCII term (nearly all of them) is now a `LIKE '%term%'` on that
//! expression, and any other a regular expression of case classes on it (see
//! `service::posts::search::title_contains`); `pg_trgm` serves both. `lower()` under the `C`
//! collation folds A–Z only, whatever the database's locale, so the answer stays the literal,
//! case-insensitive substring match both databases give. The `LIKE` is the cheaper of the two
//! by far (the README's benchmark section has the figures).
//!
//! Where `pg_trgm` cannot be had this does nothing but log why, as migration 4 does (module
//! `trigram`). Building it locks `posts` against writes while it runs; on a large table that
//! must keep taking writes, create it first with
//! `CREATE INDEX CONCURRENTLY ix_posts_title_folded_trgm ON posts USING gin ((lower(title COLLATE "C")) gin_trgm_ops)`
//! and drop the old one with `DROP INDEX CONCURRENTLY ix_posts_title_trgm`; the migration
//! then finds both done.

use sea_orm_migration::prelude::*;

use crate::m20261126_000004_posts_title_trigram as previous;
use crate::trigram;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_posts_title_folded_trgm";
const EXPRESSION: &str = r#"(lower(title COLLATE "C"))"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // No query uses the old index any more; it would only slow down writes.
        trigram::drop(db, previous::INDEX).await?;
        trigram::create(db, INDEX, EXPRESSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        trigram::drop(db, INDEX).await?;
        trigram::create(db, previous::INDEX, previous::EXPRESSION).await
    }
}
