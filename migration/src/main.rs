//! The migration CLI: `cargo run -p migration -- <up|down|status|fresh|refresh|reset>`.
//!
//! It reads the same configuration as the server (`DATABASE_URL`, or the course's
//! `DATABASE_HOSTNAME`/... variables, from the environment or `.env`), so a CI pipeline can
//! migrate exactly the database the server will use, before a deploy. The server binary
//! offers the same commands as `api migrate ...` (one definition: `migration::cli`).

use std::process::ExitCode;

use clap::Parser;
use migration::cli::{self, MigrateCommand};

#[derive(Parser)]
#[command(
    version,
    about = "Apply or inspect the posts API's database migrations"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<MigrateCommand>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::execute(cli.command.unwrap_or_default()).await
}
