//! What every handler shares.

use std::sync::Arc;

use service::auth::Auth;
use service::email::AccountMail;
use service::throttle::LoginThrottle;

/// One per worker: the worker's own database pool, and what all workers share.
pub struct AppState {
    pub db: service::Db,
    pub auth: Arc<Auth>,
    pub login_throttle: Arc<LoginThrottle>,
    /// The mailer, and whether recovery and verification are on.
    pub account_mail: Arc<AccountMail>,
    /// Recovery and verification mail requests, per address and per client: every request
    /// counts.
    pub mail_throttle: Arc<LoginThrottle>,
    /// Refused reset and verification tokens, per client (the login throttle's client limit
    /// and window).
    pub token_throttle: Arc<LoginThrottle>,
}
