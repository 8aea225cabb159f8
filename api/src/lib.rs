//! The HTTP layer of the posts API (actix-web): settings, start-up, routes, DTOs,
//! extractors, error mapping and the OpenAPI document with Swagger UI and ReDoc.
//!
//! Handlers stay thin: extract, call one `service` function, map the result. Every failure
//! becomes an [`error::ApiError`], the only `ResponseError`, which writes the contract's
//! `{"detail": ...}` bodies. No SQL and no business rules here.

pub mod cli;
mod conditional;
mod cursor;
pub mod docs;
mod dto;
pub mod error;
mod extract;
mod idempotent;
pub mod logging;
mod metrics;
mod request_id;
mod routes;
pub mod settings;
pub mod startup;
mod state;

pub use settings::Settings;
pub use startup::{Application, StartError};
