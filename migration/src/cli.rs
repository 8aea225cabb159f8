//! The migration commands as a command line: one definition shared by this crate's `migration`
//! binary and the server's `api migrate`, so both accept the same words and behave alike.

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::Subcommand;
use sea_orm_migration::sea_orm::sqlx::sqlite::SqliteConnectOptions;
use service::db::{self, DatabaseSettings};

use crate::{Command, MigratorTrait};

/// A migration command, as typed on the command line.
#[derive(Subcommand, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateCommand {
    /// Apply pending migrations (the default)
    Up {
        /// Apply at most this many
        #[arg(short, long)]
        num: Option<u32>,
    },
    /// Roll back applied migrations
    Down {
        /// How many to roll back
        #[arg(short, long, default_value_t = 1)]
        num: u32,
    },
    /// List every migration and whether it is applied
    Status,
    /// Drop every table, then apply all migrations (destroys all data)
    Fresh,
    /// Roll back all migrations, then apply them all again (destroys all data)
    Refresh,
    /// Roll back all migrations (destroys all data)
    Reset,
}

impl Default for MigrateCommand {
    fn default() -> Self {
        MigrateCommand::Up { num: None }
    }
}

/// Runs `command` against the configured database (`DATABASE_MIGRATION_URL`, else
/// `DATABASE_URL` or the course's `DATABASE_*` variables, from the environment; the caller has loaded `.env` with
/// [`load_env_file`](crate::load_env_file)): prints the database it works on (password
/// redacted) and what it did on stdout, or one `error: ...` line on stderr.
///
/// A SQLite file that does not exist is created by the commands that apply migrations, as the
/// server does, and never by the others: `status` lists everything as pending, `down` and
/// `reset` have nothing to roll back.
pub async fn execute(command: MigrateCommand) -> ExitCode {
    let var = |k: &str| std::env::var(k).ok();
    let configured = crate::database_url(var).and_then(|url| {
        Ok((
            crate::prepared_statements(var, &url)?,
            crate::migration_url(var)?,
            url,
        ))
    });
    let (prepared_statements, migration_url, database_url) = match configured {
        Ok(configured) => configured,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Migrations go to DATABASE_MIGRATION_URL when it is set.
    let url = migration_url.unwrap_or(database_url);
    let read_only = matches!(
        command,
        MigrateCommand::Status | MigrateCommand::Down { .. } | MigrateCommand::Reset
    );
    if read_only && let Some(file) = missing_sqlite_file(&url) {
        println!(
            "database: {url} (no database yet: {} does not exist; `migrate up` creates it)",
            file.display()
        );
        if command == MigrateCommand::Status {
            for migration in crate::Migrator::migrations() {
                println!("{:<8} {}", "pending", migration.name());
            }
        } else {
            println!("nothing to roll back");
        }
        return ExitCode::SUCCESS;
    }
    println!("database: {}", db::redact(&url));
    let settings = DatabaseSettings {
        url,
        // The server's defaults: the CLI has no settings of its own.
        max_connections: 10,
        acquire_timeout: Duration::from_secs(3),
        statement_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(10),
        prepared_statements,
        migration_url: None,
    };
    let db = match db::connect_for_migrations(&settings).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = match command {
        MigrateCommand::Status => {
            return match crate::status(&db).await {
                Ok(list) => {
                    for (name, applied) in list {
                        let state = if applied { "applied" } else { "pending" };
                        println!("{state:<8} {name}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        MigrateCommand::Up { num } => Command::Up(num),
        MigrateCommand::Down { num } => Command::Down(num),
        MigrateCommand::Fresh => Command::Fresh,
        MigrateCommand::Refresh => Command::Refresh,
        MigrateCommand::Reset => Command::Reset,
    };
    let outcome = crate::run(&db, command).await;
    db.close().await.ok();
    match outcome {
        Ok(()) => {
            println!("done: {command:?}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: migration failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The file of a SQLite URL when it does not exist (`None` for PostgreSQL, in-memory
/// databases, and files that exist).
fn missing_sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    (!file.exists()).then(|| file.to_path_buf())
}
