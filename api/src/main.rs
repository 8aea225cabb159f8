//! `cargo run`: the posts API server; `api --help` lists the other commands.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    api::cli::Cli::parse().run()
}
