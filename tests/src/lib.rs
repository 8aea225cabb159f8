//! Black-box HTTP tests of the posts API: `tests/api/` starts the real server on a free port
//! against a fresh database per test (a temporary SQLite file, or a new PostgreSQL database
//! when `TEST_DATABASE_URL` is set) and talks to it over HTTP only.
//!
//! This library part is empty on purpose; the tests live in `tests/api/`.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
