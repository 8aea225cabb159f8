//! Who a caller is: passwords (bcrypt), access tokens (JWT), and the login use case.
//!
//! [`Auth`] is the one handle callers hold, built once from an [`AuthConfig`]. Its token
//! methods live with the token code (`jwt`), its password methods with the hashing code
//! (`password`); [`login()`] uses both, after asking the [`throttle`] whether the attempt may
//! be made at all.

mod caller;
mod jwt;
mod login;
mod password;
pub mod secret;
pub mod throttle;

use jsonwebtoken::Algorithm;

pub(crate) use caller::Gate;
pub use caller::{Caller, Claimed, authenticate, confirm};
pub use jwt::{Token, Verified};
pub use login::{LoginAttempt, login};

/// How tokens and password hashes are made.
#[derive(Clone)]
pub struct AuthConfig {
    /// The HMAC key tokens are signed with.
    pub secret: String,
    /// HS256, HS384 or HS512.
    pub algorithm: Algorithm,
    /// Access token lifetime in seconds.
    pub token_ttl_secs: i64,
    /// Refresh token (session) lifetime in seconds, renewed by each refresh.
    pub refresh_ttl_secs: i64,
    /// Whether login refuses an account whose email is not verified.
    pub require_email_verification: bool,
    /// bcrypt cost of new hashes (4..=31).
    pub bcrypt_cost: u32,
    /// How many bcrypt computations may run at once.
    pub hash_concurrency: usize,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &"***")
            .field("algorithm", &self.algorithm)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("refresh_ttl_secs", &self.refresh_ttl_secs)
            .field(
                "require_email_verification",
                &self.require_email_verification,
            )
            .field("bcrypt_cost", &self.bcrypt_cost)
            .finish_non_exhaustive()
    }
}

/// Signs and checks tokens, hashes and checks passwords. Built once at start-up, shared.
pub struct Auth {
    tokens: jwt::Tokens,
    hashing: password::Hashing,
    refresh_ttl_secs: i64,
    require_email_verification: bool,
}

impl Auth {
    /// The keys, token lifetime and hashing pool that `config` describes.
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            tokens: jwt::Tokens::new(config),
            hashing: password::Hashing::new(config),
            refresh_ttl_secs: config.refresh_ttl_secs,
            require_email_verification: config.require_email_verification,
        }
    }

    /// Whether login refuses an account whose email is not verified.
    pub fn requires_verified_email(&self) -> bool {
        self.require_email_verification
    }

    /// How long a session's refresh token is accepted after it was issued.
    pub(crate) fn refresh_ttl(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.refresh_ttl_secs)
    }
}
