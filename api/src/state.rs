//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use service::auth::Auth;
use service::email::{AccountMail, MailThrottles};
use service::throttle::LoginThrottle;

/// One per worker: the worker's own database pool, and what all workers share.
pub struct AppState {
    pub db: service::Db,
    pub auth: Arc<Auth>,
    /// Seals and opens the cursors of `GET /posts/`.
    pub cursors: Arc<crate::cursor::CursorKey>,
    pub login_throttle: Arc<LoginThrottle>,
    /// The mailer, and whether recovery and verification are on.
    pub account_mail: Arc<AccountMail>,
    /// Recovery and verification mail requests per address and per client (every request
    /// counts), and refused mailed tokens per client.
    pub mail_throttles: Arc<MailThrottles>,
    /// How long an `Idempotency-Key`'s response is kept.
    pub idempotency_ttl: chrono::TimeDelta,
    /// Set on SIGTERM while the server drains: `/ready` answers 503.
    pub draining: Arc<AtomicBool>,
}
