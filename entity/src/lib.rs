//! SeaORM models, one per table of the schema that `migration` creates.
//!
//! Only table shapes and relations live here: no queries, no validation, no business rules
//! (those belong in `service`). Table and column names are the FastAPI course's, so a database
//! built by its Alembic migrations reads the same; the tables the course does not have
//! (sessions and account state) sit beside them.

pub mod account_state;
pub mod account_token;
pub mod idempotency_key;
pub mod login_failure;
pub mod post;
pub mod retired_refresh_token;
pub mod session;
pub mod user;
pub mod vote;
