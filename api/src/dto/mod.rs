//! What goes over the wire: request and response bodies, each one type that is both what is
//! read or written and what its OpenAPI schema is derived from.
//!
//! Entities never appear here: requests hold validated domain values, responses are built
//! from the service's types.

mod request;
mod response;
#[cfg(test)]
mod schema_limits;

pub use request::{
    AccountDeletion, Grant, LoginForm, PasswordChange, PostCreate, PostPatch, UserCreate, VoteIn,
};
pub use response::{
    ErrorBody, Message, OAuthErrorBody, PostOut, PostWithVotesOut, SessionOut, Status, Token,
    UserOut, ValidationErrorBody,
};

// Password recovery, email verification, email change.
mod email;
pub use email::{Accepted, EmailVerification, MailRequest, PasswordReset, UserUpdate};
