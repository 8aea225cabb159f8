//! The use cases of the posts API: users, authentication, posts and votes.
//!
//! This crate owns the rules (who may see or change what, how passwords and tokens work) and
//! every database query, one module per aggregate: [`users`], [`auth`], [`sessions`], [`accounts`],
//! [`email`] (recovery, verification, email change), [`posts`], [`votes`]; outgoing mail is
//! [`mail`]'s.
//! It knows nothing of HTTP: callers hand it validated domain values ([`domain`]) and get back
//! plain data or an [`Error`] that says what failed and, when the database failed, whether
//! trying again may help; how a client is told is the caller's business. How the database is
//! reached (connecting, pools, running statements, what its errors mean) is [`db`]'s alone;
//! a thread's place in the operating system's scheduler, [`sched`]'s.

pub mod accounts;
pub mod auth;
pub mod db;
pub mod domain;
pub mod email;
pub mod error;
pub mod idempotency;
pub mod mail;
pub mod posts;
pub mod sched;
pub mod sessions;
pub mod users;
pub mod votes;

/// Callers build the throttle from their own settings and hold it beside [`auth::Auth`].
pub use auth::throttle;
pub use db::Db;
pub use error::Error;

/// Re-exported so callers can name the error the database gave without depending on SeaORM.
pub use sea_orm::DbErr;
