//! The migration commands as a command line: one definition shared by this crate's `migration`
//! binary and the server's `api migrate`, so both accept the same words and behave alike.

use std::process::ExitCode;

use clap::Subcommand;
use sea_orm_migration::sea_orm::Database;

use crate::Command;

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

/// Runs `command` against the configured database (`DATABASE_URL`, or the course's
/// `DATABASE_HOSTNAME`/... variables, from the environment or `.env`): prints what it did on
/// stdout, or one `error: ...` line on stderr.
pub async fn execute(command: MigrateCommand) -> ExitCode {
    let _ = dotenvy::dotenv();
    let url = match crate::database_url(|k| std::env::var(k).ok()) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let db = match Database::connect(&url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: cannot connect to the database: {e}");
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
