//! The schema, as an ordered list of migrations, and the code that applies them.
//!
//! Each change to the database is one migration with a working `down`. The same [`run`] serves
//! the server's start-up (`AUTO_MIGRATE`) and this crate's CLI; it holds a lock for the whole
//! run (an advisory lock on PostgreSQL, the file's write lock on SQLite), so two processes
//! migrating one database at once take turns.
//! Also here: [`load_env_file`], the one place that reads `.env`, and [`database_url`], the one
//! place that turns configuration into a database URL, so the CLI and the server always agree
//! on which database they talk to.

use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    DatabaseConnection, DbBackend, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

mod adopt;
pub mod cli;
mod config;
mod m20261125_000001_create_users;
mod m20261125_000002_create_posts;
mod m20261125_000003_create_votes;
mod m20261126_000004_posts_title_trigram;
mod m20261126_000005_posts_title_folded_trigram;
mod m20261207_000006_sessions_and_accounts;
mod m20261207_000007_login_failures;
mod m20261207_000008_idempotency_keys;
mod trigram;

pub use config::{
    DatabaseUrlError, EnvFileError, database_url, load_env_file, migration_url, prepared_statements,
};

/// An auto-incrementing integer primary key: `serial` on PostgreSQL, as the course's schema
/// has it (sea-query would write an identity column), `integer ... autoincrement` on SQLite.
fn serial_pk(manager: &SchemaManager, column: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    if manager.get_database_backend() == DbBackend::Postgres {
        def.custom(Alias::new("serial"));
    } else {
        def.integer().auto_increment();
    }
    def.not_null().primary_key();
    def
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_posts::Migration),
            Box::new(m20261125_000003_create_votes::Migration),
            Box::new(m20261126_000004_posts_title_trigram::Migration),
            Box::new(m20261126_000005_posts_title_folded_trigram::Migration),
            Box::new(m20261207_000006_sessions_and_accounts::Migration),
            Box::new(m20261207_000007_login_failures::Migration),
            Box::new(m20261207_000008_idempotency_keys::Migration),
        ]
    }
}

/// What to do to the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Apply pending migrations (all of them, or at most this many).
    Up(Option<u32>),
    /// Roll back this many applied migrations.
    Down(u32),
    /// Drop every table, then apply all migrations.
    Fresh,
    /// Roll back all migrations, then apply them all again.
    Refresh,
    /// Roll back all migrations.
    Reset,
}

/// Key of the PostgreSQL advisory lock held while migrating ("posts" in ASCII).
const LOCK_KEY: i64 = 0x0070_6f73_7473;

/// Runs `command` against `db`.
///
/// The whole run happens in one transaction that first takes a lock only one process can
/// hold, so a second process migrating the same database at the same moment (two servers
/// starting, or `api migrate up` beside a starting server) waits, then finds nothing pending;
/// and as DDL is transactional on both databases, a failed run leaves the schema as it was.
/// On PostgreSQL the lock is an advisory transaction lock, waited for as long as it takes.
/// On SQLite it is the file's write lock, taken at once by `BEGIN IMMEDIATE` (a plain `BEGIN`
/// would take it only at the first write, after both processes had read that every migration
/// is pending); the second process waits for it up to its busy timeout
/// ([`service::db::connect_for_migrations`] gives migrations a long one). `Fresh` on SQLite
/// runs without it: it drops every table with foreign keys switched off, which SQLite ignores
/// inside a transaction.
///
/// Also on PostgreSQL, before any command but `Fresh` (which drops everything anyway), a
/// database built by the FastAPI course's Alembic migrations is adopted (module `adopt`).
///
/// # Errors
/// Any database error, a migration that fails, or a course database that cannot be adopted.
pub async fn run(db: &DatabaseConnection, command: Command) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"))
                .await?;
            if command != Command::Fresh {
                adopt::adopt(&txn).await?;
            }
            apply(&txn, command).await?;
            txn.commit().await
        }
        // `fresh` drops every table with foreign keys switched off, a switch SQLite ignores
        // inside a transaction: it runs as SeaORM runs it, without the lock.
        DbBackend::Sqlite if command == Command::Fresh => apply(db, command).await,
        DbBackend::Sqlite => {
            let txn = db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await?;
            apply(&txn, command).await?;
            txn.commit().await
        }
        _ => apply(db, command).await,
    }
}

async fn apply<'c, C>(db: &'c C, command: Command) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    &'c C: IntoSchemaManagerConnection<'c>,
{
    match command {
        Command::Up(steps) => Migrator::up(db, steps).await,
        Command::Down(steps) => Migrator::down(db, Some(steps)).await,
        Command::Fresh => Migrator::fresh(db).await,
        Command::Refresh => Migrator::refresh(db).await,
        Command::Reset => Migrator::reset(db).await,
    }
}

/// Every migration with whether it is applied, in order.
///
/// # Errors
/// Any database error, or an applied migration this build does not know.
pub async fn status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    Ok(Migrator::get_migration_with_status_read_only(db)
        .await?
        .iter()
        .map(|m| (m.name().to_owned(), m.status() == MigrationStatus::Applied))
        .collect())
}
