//! Who a caller is: passwords (bcrypt), access tokens (JWT), and the login use case.
//!
//! [`Auth`] is the one handle callers hold, built once from an [`AuthConfig`]. Its token
//! methods live with the token code (`jwt`), its password methods with the hashing code
//! (`password`); [`login()`] uses both, after asking the [`throttle`] whether the attempt may
//! be made at all.

mod jwt;
mod login;
mod password;
pub mod throttle;

use jsonwebtoken::Algorithm;

pub use jwt::Token;
pub use login::{LoginAttempt, login};

/// How tokens and password hashes are made.
#[derive(Clone)]
pub struct AuthConfig {
    /// The HMAC key tokens are signed with.
    pub secret: String,
    /// HS256, HS384 or HS512.
    pub algorithm: Algorithm,
    /// Token lifetime in seconds.
    pub token_ttl_secs: i64,
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
            .field("bcrypt_cost", &self.bcrypt_cost)
            .finish_non_exhaustive()
    }
}

/// Signs and checks tokens, hashes and checks passwords. Built once at start-up, shared.
pub struct Auth {
    tokens: jwt::Tokens,
    hashing: password::Hashing,
}

impl Auth {
    /// The keys, token lifetime and hashing pool that `config` describes.
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            tokens: jwt::Tokens::new(config),
            hashing: password::Hashing::new(config),
        }
    }
}
