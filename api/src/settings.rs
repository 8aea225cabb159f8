//! Configuration: environment variables (or `.env`), read and checked once at start-up.
//!
//! An unusable value stops the server with one line naming the variable, never a panic.

use std::time::Duration;

use jsonwebtoken::Algorithm;
pub use migration::ConfigError;
use service::auth::AuthConfig;
use service::db::DatabaseSettings;
use service::throttle::ThrottleConfig;

/// The JWT key used when `SECRET_KEY` is unset. Fine for trying the API out; refused when
/// `APP_ENV=production`.
pub const DEVELOPMENT_SECRET_KEY: &str = "development-only-secret-key-do-not-use-in-production";

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL` (or the course's `DATABASE_*` variables) and the `DATABASE_*` limits.
    pub database: DatabaseSettings,
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    pub production: bool,
    pub auth: AuthConfig,
    /// Failed-login limits (`LOGIN_MAX_FAILURES`, `LOGIN_MAX_FAILURES_PER_CLIENT`,
    /// `LOGIN_FAILURE_WINDOW_SECS`).
    pub login_throttle: ThrottleConfig,
    /// Apply pending migrations at start (`AUTO_MIGRATE`, default true).
    pub auto_migrate: bool,
    /// Allowed CORS origins; `None` allows any origin (without credentials).
    pub cors_origins: Option<Vec<String>>,
    /// HTTP worker threads.
    pub workers: usize,
    /// How long a graceful stop (SIGTERM) waits for requests in flight.
    pub shutdown_timeout: Duration,
}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl Settings {
    /// Reads the process environment, after loading `.env` from the working directory if
    /// there is one (variables already set win).
    ///
    /// # Errors
    /// The first unusable variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `var` (a map in tests). Empty values count as unset.
    ///
    /// # Errors
    /// The first unusable variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let database_url = migration::database_url(&var)?;

        let production = match get("APP_ENV").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("development") | Some("dev") | Some("test") => false,
            Some("production") | Some("prod") => true,
            Some(_) => {
                return Err(invalid("APP_ENV", "must be development or production"));
            }
        };
        let secret = get("SECRET_KEY").unwrap_or_else(|| DEVELOPMENT_SECRET_KEY.to_owned());
        if production && secret == DEVELOPMENT_SECRET_KEY {
            return Err(invalid(
                "SECRET_KEY",
                "must be set to a secret of your own when APP_ENV=production",
            ));
        }
        if production && secret.len() < 32 {
            return Err(invalid(
                "SECRET_KEY",
                "must be at least 32 bytes when APP_ENV=production",
            ));
        }
        let algorithm = match get("ALGORITHM").map(|v| v.to_ascii_uppercase()).as_deref() {
            None | Some("HS256") => Algorithm::HS256,
            Some("HS384") => Algorithm::HS384,
            Some("HS512") => Algorithm::HS512,
            Some(_) => return Err(invalid("ALGORITHM", "must be HS256, HS384 or HS512")),
        };
        let minutes = number(&get, "ACCESS_TOKEN_EXPIRE_MINUTES", 60, 1, 525_600)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let auth = AuthConfig {
            secret,
            algorithm,
            token_ttl_secs: minutes * 60,
            bcrypt_cost: u32::try_from(number(&get, "BCRYPT_COST", 12, 4, 31)?).unwrap_or(12),
            hash_concurrency: usize::try_from(number(
                &get,
                "BCRYPT_CONCURRENCY",
                cores as i64,
                1,
                1024,
            )?)
            .unwrap_or(cores),
        };

        let host = get("HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
        let port = u16::try_from(number(&get, "PORT", 8000, 0, 65_535)?).unwrap_or(8000);
        let auto_migrate = boolean(&get, "AUTO_MIGRATE", true)?;
        let cors_origins = match get("CORS_ORIGINS") {
            None => None,
            Some(list) if list == "*" => None,
            Some(list) => Some(origins(&list)?),
        };
        let secs = |name, default, max| {
            number(&get, name, default, 1, max).map(|s| Duration::from_secs(s.unsigned_abs()))
        };
        let login_throttle = ThrottleConfig {
            max_per_account: u32::try_from(number(&get, "LOGIN_MAX_FAILURES", 10, 0, 1_000_000)?)
                .unwrap_or(10),
            max_per_client: u32::try_from(number(
                &get,
                "LOGIN_MAX_FAILURES_PER_CLIENT",
                100,
                0,
                1_000_000,
            )?)
            .unwrap_or(100),
            window: secs("LOGIN_FAILURE_WINDOW_SECS", 300, 86_400)?,
        };
        let database = DatabaseSettings {
            url: database_url,
            max_connections: u32::try_from(number(&get, "DATABASE_MAX_CONNECTIONS", 10, 1, 1000)?)
                .unwrap_or(10),
            acquire_timeout: secs("DATABASE_ACQUIRE_TIMEOUT_SECS", 3, 300)?,
            connect_timeout: secs("DATABASE_CONNECT_TIMEOUT_SECS", 10, 3600)?,
            statement_timeout: secs("DATABASE_STATEMENT_TIMEOUT_SECS", 10, 3600)?,
        };
        Ok(Settings {
            database,
            login_throttle,
            host,
            port,
            production,
            auth,
            auto_migrate,
            cors_origins,
            workers: usize::try_from(number(&get, "WORKERS", cores as i64, 1, 256)?)
                .unwrap_or(cores),
            shutdown_timeout: secs("SHUTDOWN_TIMEOUT_SECS", 30, 3600)?,
        })
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| invalid(name, format!("must be an integer from {min} to {max}"))),
    }
}

fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(_) => Err(invalid(name, "must be true or false")),
    }
}

/// `https://a.example, http://localhost:3000`: scheme and host, no path.
fn origins(list: &str) -> Result<Vec<String>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && o.split_once("://")
                    .is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
                && actix_web::http::header::HeaderValue::from_str(o).is_ok();
            if ok {
                Ok(o.trim_end_matches('/').to_owned())
            } else {
                Err(invalid(
                    "CORS_ORIGINS",
                    "must be * or a comma-separated list of origins like https://app.example.com",
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database.url, "sqlite://posts.db?mode=rwc");
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 8000));
        assert_eq!(s.auth.algorithm, Algorithm::HS256);
        assert_eq!(s.auth.token_ttl_secs, 3600);
        assert_eq!(s.auth.bcrypt_cost, 12);
        assert!(s.auto_migrate);
        assert!(s.cors_origins.is_none());
    }

    #[test]
    fn production_refuses_the_development_key() {
        let err = settings(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(err.variable, "SECRET_KEY");
        assert!(
            err.to_string()
                .starts_with("invalid configuration: SECRET_KEY")
        );
        let key = "k".repeat(40);
        assert!(settings(&[("APP_ENV", "production"), ("SECRET_KEY", &key)]).is_ok());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("ALGORITHM", "RS256"),
            ("ALGORITHM", "none"),
            ("PORT", "http"),
            ("PORT", "70000"),
            ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("BCRYPT_COST", "3"),
            ("AUTO_MIGRATE", "maybe"),
            ("CORS_ORIGINS", "not an origin"),
            ("APP_ENV", "staging"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "-1"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var, "{var}={value}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn cors_origins_are_a_list_or_any() {
        let s = settings(&[("CORS_ORIGINS", "https://a.example, http://localhost:3000")]).unwrap();
        assert_eq!(
            s.cors_origins.unwrap(),
            vec!["https://a.example", "http://localhost:3000"]
        );
        assert!(
            settings(&[("CORS_ORIGINS", "*")])
                .unwrap()
                .cors_origins
                .is_none()
        );
    }
}
