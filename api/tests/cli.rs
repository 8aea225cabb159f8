//! The `api` command line: its subcommands, the committed OpenAPI document, `migrate` and
//! `healthcheck`, run as a user or a container would run them.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tests::{TempDir, api_binary, free_port};

/// The binary, run in `dir` with only these variables (no `.env` of the checkout applies).
fn api(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = api_binary(env!("CARGO_BIN_EXE_api"), dir);
    cmd.envs(vars.iter().copied());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run the api binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_subcommand() {
    let dir = TempDir::new("posts-cli-help");
    let out = run(api(dir.path(), &[]).arg("--help"));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for word in ["serve", "migrate", "openapi", "healthcheck"] {
        assert!(help.contains(word), "--help lists {word}:\n{help}");
    }
    let out = run(api(dir.path(), &[]).args(["migrate", "--help"]));
    let help = text(&out.stdout);
    for word in ["up", "down", "status", "fresh", "refresh", "reset"] {
        assert!(help.contains(word), "migrate --help lists {word}:\n{help}");
    }
    let out = run(api(dir.path(), &[]).arg("no-such-command"));
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
}

#[test]
fn the_committed_openapi_json_is_what_the_code_generates() {
    let dir = TempDir::new("posts-cli-openapi");
    let out = run(api(dir.path(), &[]).arg("openapi"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json");
    let committed = std::fs::read_to_string(&committed).expect("openapi.json at the root");
    assert!(
        text(&out.stdout) == committed,
        "openapi.json is out of date with the code: regenerate it with \
         `cargo run -q -- openapi > openapi.json` and review the diff"
    );
}

#[test]
fn migrate_applies_reports_and_rolls_back() {
    let dir = TempDir::new("posts-cli-migrate");
    let url = dir.sqlite_url();
    let vars = [("DATABASE_URL", url.as_str())];
    let status = |dir: &TempDir| {
        let out = run(api(dir.path(), &vars).args(["migrate", "status"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let all = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    let before = status(&dir);
    assert_eq!(before.matches("pending").count(), all, "{before}");

    let out = run(api(dir.path(), &vars).args(["migrate", "up"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = status(&dir);
    assert_eq!(after.matches("applied").count(), all, "{after}");
    assert!(!after.contains("pending"), "{after}");

    let out = run(api(dir.path(), &vars).args(["migrate", "down"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rolled_back = status(&dir);
    assert_eq!(rolled_back.matches("pending").count(), 1, "{rolled_back}");

    // No subcommand after `migrate` means `up`, as with the migration binary.
    let out = run(api(dir.path(), &vars).arg("migrate"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!status(&dir).contains("pending"));
}

/// `api migrate` says first which database it works on; at the default log level it shows
/// what it applies, not every SQL statement; `status`, `down` and `reset` on a SQLite file
/// that does not exist say so instead of creating it, and `up` creates it, as the server does.
#[test]
fn migrate_names_its_database_keeps_sql_at_debug_and_creates_no_file_to_read() {
    let dir = TempDir::new("posts-cli-migrate-quiet");
    let url = dir.sqlite_url();
    let file = dir.path().join("posts.db");
    let vars = [("DATABASE_URL", url.as_str())];
    for args in [
        ["migrate", "status"],
        ["migrate", "down"],
        ["migrate", "reset"],
    ] {
        let out = run(api(dir.path(), &vars).args(args));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with(&format!("database: {url} (no database yet: ")),
            "{args:?}: {stdout}"
        );
        assert!(!file.exists(), "{args:?} created {}", file.display());
    }

    let out = run(api(dir.path(), &vars).args(["migrate", "up"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some(format!("database: {url}").as_str())
    );
    let log = text(&out.stderr);
    assert!(log.contains("Applying migration"), "{log}");
    assert!(!log.contains("sqlx::query"), "SQL at info: {log}");
    assert!(file.exists());

    let out = run(api(dir.path(), &[vars[0], ("RUST_LOG", "debug")]).args(["migrate", "down"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("sqlx::query"), "SQL at debug");
}

#[test]
fn migrate_names_an_unusable_database_url() {
    let dir = TempDir::new("posts-cli-migrate-bad");
    let out = run(api(dir.path(), &[("DATABASE_URL", "mysql://nope")]).args(["migrate", "up"]));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("DATABASE_URL"),
        "{err}"
    );
}

/// The server, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn healthcheck_passes_on_a_ready_server_and_fails_without_one() {
    let dir = TempDir::new("posts-cli-health");
    let url = dir.sqlite_url();
    let port = free_port().to_string();
    let mut server = Server(
        api(
            dir.path(),
            &[
                ("DATABASE_URL", url.as_str()),
                ("HOST", "127.0.0.1"),
                ("PORT", &port),
                ("RUST_LOG", "warn"),
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server"),
    );
    let started = Instant::now();
    // A container's HOST is the wildcard: the check then asks this machine.
    let check = |host: &str, port: &str| {
        run(api(dir.path(), &[("HOST", host), ("PORT", port)]).arg("healthcheck"))
    };
    while !check("0.0.0.0", &port).status.success() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server never became healthy"
        );
        assert!(
            server.0.try_wait().ok().flatten().is_none(),
            "the server exited"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(check("127.0.0.1", &port).status.success());

    let out = check("127.0.0.1", &free_port().to_string());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("unhealthy: "),
        "{}",
        text(&out.stderr)
    );
}
