//! What every handler shares.

use sea_orm::DatabaseConnection;
use service::auth::Auth;
use service::throttle::LoginThrottle;

/// Built once at start-up; each worker holds a reference.
pub struct AppState {
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub login_throttle: LoginThrottle,
}
