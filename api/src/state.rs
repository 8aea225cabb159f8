//! What every handler shares.

use service::auth::Auth;
use service::throttle::LoginThrottle;

/// Built once at start-up; each worker holds a reference.
pub struct AppState {
    pub db: service::Db,
    pub auth: Auth,
    pub login_throttle: LoginThrottle,
}
