//! What every handler shares.

use std::sync::Arc;

use service::auth::Auth;
use service::throttle::LoginThrottle;

/// One per worker: the worker's own database pool, and what all workers share.
pub struct AppState {
    pub db: service::Db,
    pub auth: Arc<Auth>,
    pub login_throttle: Arc<LoginThrottle>,
    /// How long an `Idempotency-Key`'s response is kept.
    pub idempotency_ttl: chrono::TimeDelta,
}
