//! One integration binary, one module per resource.

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
