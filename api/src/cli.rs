//! The `api` command line: `serve` (the default), `migrate ...`, `openapi`, `healthcheck`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use migration::cli::MigrateCommand;

use crate::{Application, Settings, docs, logging};

#[derive(Parser, Debug)]
#[command(
    name = "api",
    version,
    about = "The posts API server (FastAPI course contract) and its operational commands",
    long_about = "The posts API server (FastAPI course contract) and its operational commands.\n\n\
                  Configuration comes from environment variables or a .env file in the working \
                  directory (see the README); with no subcommand the server starts."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Start the server (the default): migrate unless AUTO_MIGRATE=false, then listen on
    /// HOST:PORT
    Serve,
    /// Apply or inspect database migrations, as the `migration` binary does
    Migrate {
        #[command(subcommand)]
        command: Option<MigrateCommand>,
    },
    /// Print the OpenAPI document (the one served at /openapi.json) on stdout
    Openapi,
    /// Exit 0 if the server on HOST:PORT answers GET /ready with 200, 1 otherwise (for
    /// container health checks)
    Healthcheck {
        /// Seconds to wait for the answer
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
}

impl Cli {
    /// Runs the chosen command.
    pub fn run(self) -> ExitCode {
        let command = self.command.unwrap_or(Cmd::Serve);
        // Every command that reads configuration reads `.env` first, before any thread starts
        // (loading sets environment variables); one that cannot be parsed stops it before it
        // could fall back to a default database.
        if !matches!(command, Cmd::Openapi)
            && let Err(e) = migration::load_env_file()
        {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        match command {
            Cmd::Serve => serve(),
            Cmd::Migrate { command } => {
                logging::init();
                match runtime() {
                    Ok(rt) => rt.block_on(migration::cli::execute(command.unwrap_or_default())),
                    Err(code) => code,
                }
            }
            Cmd::Openapi => match docs::openapi().to_pretty_json() {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot write the document: {e}");
                    ExitCode::FAILURE
                }
            },
            Cmd::Healthcheck { timeout } => healthcheck(Duration::from_secs(timeout.max(1))),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    logging::init();
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        // Says "listening" once the signals are caught, so that none sent on seeing the line
        // finds the process without its handlers.
        app.run_until_signalled()
            .await
            .map_err(|e| crate::StartError::Bind {
                address: "server".into(),
                source: e,
            })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `GET /ready` on the configured HOST:PORT over plain HTTP/1.1; a wildcard HOST means this
/// machine. Uses only the HOST and PORT settings, so it works whatever else is configured.
fn healthcheck(timeout: Duration) -> ExitCode {
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let host = match var("HOST").as_deref() {
        None | Some("0.0.0.0") => "127.0.0.1".to_owned(),
        Some("::" | "[::]") => "::1".to_owned(),
        Some(h) => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
    };
    let port = var("PORT").unwrap_or_else(|| "8000".to_owned());
    match probe(&host, &port, timeout) {
        Ok(200) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("unhealthy: GET /ready answered {status}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: GET /ready on {host} port {port}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn probe(host: &str, port: &str, timeout: Duration) -> std::io::Result<u16> {
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let port: u16 = port.parse().map_err(|_| invalid("PORT is not a port"))?;
    let address = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| invalid("HOST has no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // An IPv6 address goes in brackets in the Host header.
    let authority = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    write!(
        stream,
        "GET /ready HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    // "HTTP/1.1 200"
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("not an HTTP answer"))
}
