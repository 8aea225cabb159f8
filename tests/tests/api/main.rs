//! Black-box HTTP tests of the posts API: each test starts the real server on a free port
//! against a fresh database of its own (a temporary SQLite file, or a new PostgreSQL database
//! when `TEST_DATABASE_URL` is set) and talks to it over HTTP only; the harness is this
//! crate's library. One integration binary, one module per resource.
//!
//! A test runs past ~50 lines only where its table of cases, or the steps of its scenario,
//! read best in one place.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adoption;
mod auth;
mod concurrency;
mod contract_doc;
mod docs;
mod faults;
mod health;
mod idempotency;
mod mail;
mod migrations;
mod operations;
mod pooler;
mod posts;
mod protocol;
mod round_trips;
mod security;
mod sessions;
mod users;
mod validation;
mod votes;
