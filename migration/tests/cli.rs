//! The `migration` binary, run as a pipeline would: it reads `.env` as the server does.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

/// A scratch directory of its own, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        Scratch(dir)
    }

    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn migration(dir: &Scratch, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_migration"))
        .args(args)
        .current_dir(&dir.0)
        .env_clear()
        .output()
        .expect("run the migration binary")
}

#[test]
fn an_env_file_that_cannot_be_parsed_stops_it_before_any_database_is_touched() {
    let dir = Scratch::new("posts-migration-broken-env");
    let file = dir.0.join(".env");
    std::fs::write(&file, "DATABASE_URL='postgres://app:pw@db/posts\n").expect("write .env");
    for args in [&["status"][..], &["up"], &[]] {
        let out = migration(&dir, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim(),
            format!(
                "error: cannot read {}: line 1: DATABASE_URL: a quote is opened and never closed",
                file.display()
            )
        );
        assert_eq!(dir.entries(), [".env"], "{args:?}: no database created");
    }
}

#[test]
fn status_without_a_database_creates_none() {
    let dir = Scratch::new("posts-migration-status");
    let out = migration(&dir, &["status"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("database: sqlite://posts.db?mode=rwc (no database yet: "),
        "{stdout}"
    );
    assert!(stdout.contains("pending"), "{stdout}");
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}
