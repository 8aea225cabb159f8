//! A trigram index on `posts.title`, for `GET /posts/?search=` on PostgreSQL.
//!
//! The search is a case-insensitive substring match, sent as a regular expression whose
//! letters are the classes of their case forms (`[Ee][Cc][Hh][Oo]`, see
//! `service::posts::search::regex_pattern`). No B-tree can serve a match that may start
//! anywhere in the title, so without this index every search reads every post, newest first,
//! until it has a page: fine for a word in many titles, a full scan for a rare one.
//! `pg_trgm`'s GIN index answers `~` directly (it extracts the trigrams every match must
//! contain, classes included), so a rare word reads only the posts that can match.
//!
//! It indexes `title` itself, not `lower(title)`: the query folds case in the pattern rather
//! than with `lower()`, whose result depends on the database's locale, so that both databases
//! answer identically; an index on `lower(title)` would serve no query we send.
//!
//! PostgreSQL only, and only where `pg_trgm` can be had; elsewhere it logs why and does
//! nothing (module `trigram`).
//!
//! Building the index locks `posts` against writes while it runs (the migration is one
//! transaction, which `CREATE INDEX CONCURRENTLY` cannot be in): seconds for a million
//! posts. On a large table that must keep taking writes, create it first by hand with
//! `CREATE INDEX CONCURRENTLY ix_posts_title_trgm ON posts USING gin (title gin_trgm_ops)`;
//! the migration then finds it and does nothing.
//!
//! Replaced by `m20261126_000005_posts_title_folded_trigram`, which indexes the title with
//! its ASCII letters lower-cased instead, the expression the search now matches.

use sea_orm_migration::prelude::*;

use crate::trigram;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const INDEX: &str = "ix_posts_title_trgm";
pub(crate) const EXPRESSION: &str = "title";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        trigram::create(manager.get_connection(), INDEX, EXPRESSION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        trigram::drop(manager.get_connection(), INDEX).await
    }
}
