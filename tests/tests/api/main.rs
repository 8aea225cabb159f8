//! One integration binary, one module per resource.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod adoption;
mod auth;
mod concurrency;
mod faults;
mod health;
mod migrations;
mod operations;
mod posts;
mod security;
mod users;
mod validation;
mod votes;
