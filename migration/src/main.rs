//! The migration CLI: `cargo run -p migration -- <up|down|status|fresh|refresh|reset>`.
//!
//! It reads the same configuration as the server (`DATABASE_URL`, or the course's
//! `DATABASE_HOSTNAME`/... variables, from the environment or `.env`), so a CI pipeline can
//! migrate exactly the database the server will use, before a deploy.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Command, sea_orm::Database};

#[derive(Parser)]
#[command(
    version,
    about = "Apply or inspect the posts API's database migrations"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Clone, Copy)]
enum Cmd {
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    let url = match migration::database_url(|k| std::env::var(k).ok()) {
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
    let command = match cli.command.unwrap_or(Cmd::Up { num: None }) {
        Cmd::Status => {
            return match migration::status(&db).await {
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
        Cmd::Up { num } => Command::Up(num),
        Cmd::Down { num } => Command::Down(num),
        Cmd::Fresh => Command::Fresh,
        Cmd::Refresh => Command::Refresh,
        Cmd::Reset => Command::Reset,
    };
    match migration::run(&db, command).await {
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
