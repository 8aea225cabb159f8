//! The harness of every black-box test of the posts API, shared by this crate's own tests
//! (`tests/api/`: the real server in the test's process, over HTTP) and by the `api` crate's
//! tests of the binary (`api/tests/`: the server as a process of its own).
//!
//! What belongs here: starting the server ([`spawn_app`], [`serve`], [`api_binary`]), a
//! database of each test's own ([`TestDatabase`]: a temporary SQLite file, or a PostgreSQL
//! database created through `TEST_DATABASE_URL` and dropped afterwards), one request helper per
//! endpoint on [`TestApp`], an SMTP server that receives the server's mail ([`MailSink`]),
//! reading and judging answers, and scratch resources. What does not:
//! test cases, and helpers only one test module uses.
//!
//! The `test_postgres` cfg (set by `build.rs` when `TEST_DATABASE_URL` is) marks the tests that
//! only mean something on PostgreSQL: without it they are listed as ignored, never passed.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod binary;
mod database;
mod endpoints;
mod json;
mod mail;
mod scratch;
mod token;

pub use app::{PASSWORD, SECRET, Server, TestApp, TestUser, serve, spawn_app, spawn_app_on};
pub use app::{spawn_app_with, test_settings};
pub use binary::{api_binary, capture, send_sync, sigterm, sync_client};
pub use database::{PgDatabase, TestDatabase, admin_execute_detached, postgres_admin_url};
pub use endpoints::Pair;
pub use json::{
    assert_401, assert_422, assert_422_at, assert_detail, assert_only_missing, has_entry,
};
pub use json::{json_of, json_of_422, keys_in_order};
pub use mail::{Mail, MailSink};
pub use scratch::{TempDir, block_on, free_port, unique};
pub use token::{now, token_with};

/// SeaORM, for tests that arrange or inspect a database directly: `api`'s own tests reach it
/// through here, so that `api/Cargo.toml` names no ORM at all.
pub use sea_orm;
