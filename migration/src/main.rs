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

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before the runtime starts any thread: loading sets environment variables.
    if let Err(e) = migration::load_env_file() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(cli::execute(cli.command.unwrap_or_default())),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
