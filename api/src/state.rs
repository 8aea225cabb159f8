//! What every handler shares.

use sea_orm::DatabaseConnection;
use service::auth::Auth;

/// Built once at start-up; each worker holds a reference.
pub struct AppState {
    pub db: DatabaseConnection,
    pub auth: Auth,
}
