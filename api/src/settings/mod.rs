//! Configuration: environment variables (or `.env`), read and checked once at start-up, in
//! groups: where to listen, the database, auth, login throttling, CORS, mail.
//!
//! An unusable value stops the server with one line naming the variable, never a panic.
//! What each variable means and its default is in the README's configuration table.

use std::time::Duration;

use service::auth::AuthConfig;
use service::db::DatabaseSettings;
use service::throttle::ThrottleConfig;

mod auth;
mod cors;
mod mail;
mod vars;

pub use cors::CorsOrigins;
pub use mail::{DEFAULT_MAIL_FROM, DEFAULT_OUTBOX_DIR, MailSettings};
use vars::Vars;

/// The JWT key used when `SECRET_KEY` is unset. Fine for trying the API out; refused when
/// `APP_ENV=production`.
pub const DEVELOPMENT_SECRET_KEY: &str = "development-only-secret-key-do-not-use-in-production";

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen and with how many workers.
    pub server: ServerSettings,
    /// `DATABASE_URL` (or the course's `DATABASE_*` variables) and the `DATABASE_*` limits.
    pub database: DatabaseSettings,
    /// Apply pending migrations at start (`AUTO_MIGRATE`, default true).
    pub auto_migrate: bool,
    /// `APP_ENV=production`: the development JWT key and short keys are refused.
    pub production: bool,
    /// JWT and bcrypt (`SECRET_KEY`, `ALGORITHM`, `ACCESS_TOKEN_EXPIRE_MINUTES`, `BCRYPT_*`).
    pub auth: AuthConfig,
    /// Failed-login limits (`LOGIN_MAX_FAILURES`, `LOGIN_MAX_FAILURES_PER_CLIENT`,
    /// `LOGIN_FAILURE_WINDOW_SECS`).
    pub throttle: ThrottleConfig,
    /// How long the response to an `Idempotency-Key` is kept (`IDEMPOTENCY_KEY_TTL_HOURS`).
    pub idempotency_ttl: Duration,
    /// Which browser origins may call the API (`CORS_ORIGINS`).
    pub cors: CorsOrigins,
    /// Mail, password recovery, email verification (`SMTP_URL`, `MAIL_*`, `PASSWORD_*`,
    /// `EMAIL_VERIFICATION_EXPIRE_HOURS`).
    pub mail: MailSettings,
}

/// The HTTP server itself.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// HTTP worker threads.
    pub workers: usize,
    /// How long a graceful stop (SIGTERM) waits for requests in flight.
    pub shutdown_timeout: Duration,
    /// How long, after SIGTERM, the server keeps serving with `/ready` at 503 before it stops
    /// accepting, so that a load balancer can take it out first.
    pub drain: Duration,
    /// The most a request's body may take to arrive, from the first read of it to its end
    /// (`REQUEST_BODY_TIMEOUT_SECS`): past it the answer is 408 and the connection closes.
    pub body_timeout: Duration,
    /// How long data written to a client may stay unacknowledged, a client that stops reading
    /// included, before the kernel drops the connection (`RESPONSE_WRITE_TIMEOUT_SECS`, set
    /// as `TCP_USER_TIMEOUT` on Linux).
    pub write_timeout: Duration,
}

/// A configuration variable with an unusable value. Displays as one line naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

impl From<migration::DatabaseUrlError> for ConfigError {
    fn from(e: migration::DatabaseUrlError) -> Self {
        Self::new(e.variable, e.problem)
    }
}

impl Settings {
    /// Reads the process environment. The binary has loaded `.env` into it first
    /// ([`migration::load_env_file`]).
    ///
    /// # Errors
    /// The first unusable variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `var` (a map in tests). Empty values count as unset.
    ///
    /// # Errors
    /// The first unusable variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Read in one fixed order (a test pins it), so that of two unusable variables the same
        // one is always reported; hence the server's and the database's groups are each read
        // in two parts.
        let url = migration::database_url(&var)?;
        let prepared_statements = migration::prepared_statements(&var, &url)?;
        let migration_url = migration::migration_url(&var)?;
        let vars = Vars(var);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let production = auth::production(&vars)?;
        let auth = auth::auth(&vars, production, cores)?;
        let host = vars.text("HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
        let port = vars.number("PORT", 8000, 0..=65_535)?;
        let auto_migrate = vars.flag("AUTO_MIGRATE", true)?;
        let cors = cors::origins(&vars)?;
        let throttle = ThrottleConfig {
            max_per_account: vars.number("LOGIN_MAX_FAILURES", 10, 0..=1_000_000)?,
            max_per_client: vars.number("LOGIN_MAX_FAILURES_PER_CLIENT", 100, 0..=1_000_000)?,
            window: vars.seconds("LOGIN_FAILURE_WINDOW_SECS", 300, 86_400)?,
        };
        let idempotency_hours: u64 = vars.number("IDEMPOTENCY_KEY_TTL_HOURS", 24, 1..=720)?;
        let database = DatabaseSettings {
            url,
            max_connections: vars.number("DATABASE_MAX_CONNECTIONS", 10, 1..=1000)?,
            acquire_timeout: vars.seconds("DATABASE_ACQUIRE_TIMEOUT_SECS", 3, 300)?,
            connect_timeout: vars.seconds("DATABASE_CONNECT_TIMEOUT_SECS", 10, 3600)?,
            statement_timeout: vars.seconds("DATABASE_STATEMENT_TIMEOUT_SECS", 10, 3600)?,
            prepared_statements,
            migration_url,
        };
        let server = ServerSettings {
            host,
            port,
            workers: vars.number("WORKERS", cores, 1..=256)?,
            shutdown_timeout: vars.seconds("SHUTDOWN_TIMEOUT_SECS", 30, 3600)?,
            drain: Duration::from_secs(vars.number("SHUTDOWN_DRAIN_SECS", 0, 0..=3600)?),
            body_timeout: vars.seconds("REQUEST_BODY_TIMEOUT_SECS", 10, 3600)?,
            write_timeout: vars.seconds("RESPONSE_WRITE_TIMEOUT_SECS", 30, 3600)?,
        };
        let mail = mail::mail(&vars, production, auth.require_email_verification)?;
        Ok(Settings {
            server,
            database,
            auto_migrate,
            production,
            auth,
            throttle,
            idempotency_ttl: Duration::from_secs(idempotency_hours * 3600),
            cors,
            mail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::Algorithm;
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
        assert_eq!((s.server.host.as_str(), s.server.port), ("127.0.0.1", 8000));
        assert_eq!(s.auth.algorithm, Algorithm::HS256);
        assert_eq!(s.auth.token_ttl_secs, 3600);
        assert_eq!(s.auth.bcrypt_cost, 12);
        assert!(s.auto_migrate);
        assert_eq!(s.cors, CorsOrigins::Any);
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
        let smtp = "smtps://mail.example.com";
        assert!(
            settings(&[
                ("APP_ENV", "production"),
                ("SECRET_KEY", &key),
                ("SMTP_URL", smtp)
            ])
            .is_ok()
        );
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
            ("DATABASE_PREPARED_STATEMENTS", "sometimes"),
            ("DATABASE_MIGRATION_URL", "mysql://x"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "-1"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var, "{var}={value}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn of_several_unusable_variables_the_first_read_is_reported() {
        let order = [
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_PREPARED_STATEMENTS", "sometimes"),
            ("DATABASE_MIGRATION_URL", "mysql://x"),
            ("APP_ENV", "staging"),
            ("ALGORITHM", "RS256"),
            ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("BCRYPT_COST", "3"),
            ("BCRYPT_CONCURRENCY", "0"),
            ("PORT", "70000"),
            ("AUTO_MIGRATE", "maybe"),
            ("CORS_ORIGINS", "not an origin"),
            ("LOGIN_MAX_FAILURES", "-1"),
            ("LOGIN_MAX_FAILURES_PER_CLIENT", "-1"),
            ("LOGIN_FAILURE_WINDOW_SECS", "0"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "0"),
            ("DATABASE_CONNECT_TIMEOUT_SECS", "0"),
            ("DATABASE_STATEMENT_TIMEOUT_SECS", "0"),
            ("WORKERS", "0"),
            ("SHUTDOWN_TIMEOUT_SECS", "0"),
            ("SHUTDOWN_DRAIN_SECS", "-1"),
            ("REQUEST_BODY_TIMEOUT_SECS", "0"),
            ("RESPONSE_WRITE_TIMEOUT_SECS", "0"),
            ("SMTP_URL", "http://mail.example.com"),
            ("MAIL_FROM", "not an address"),
            ("PASSWORD_RECOVERY", "maybe"),
            ("PASSWORD_RESET_EXPIRE_MINUTES", "0"),
            ("EMAIL_VERIFICATION_EXPIRE_HOURS", "0"),
            ("MAIL_MAX_REQUESTS", "-1"),
            ("MAIL_MAX_REQUESTS_PER_CLIENT", "-1"),
            ("MAIL_REQUEST_WINDOW_SECS", "0"),
        ];
        for (i, (expected, _)) in order.iter().enumerate() {
            let err = settings(&order[i..]).unwrap_err();
            assert_eq!(err.variable, *expected);
        }
        assert!(settings(&[]).is_ok());
    }

    #[test]
    fn production_needs_an_smtp_server_unless_nothing_sends_mail() {
        let key = "k".repeat(40);
        let base = [("APP_ENV", "production"), ("SECRET_KEY", key.as_str())];
        let err = settings(&base).unwrap_err();
        assert_eq!(err.variable, "SMTP_URL");
        assert!(!err.to_string().contains('\n'));
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            settings(&vars)
        };
        assert!(with(&[("SMTP_URL", "smtps://u:p@mail.example.com")]).is_ok());
        assert!(with(&[("PASSWORD_RECOVERY", "false")]).is_ok());
        assert_eq!(
            with(&[
                ("PASSWORD_RECOVERY", "false"),
                ("REQUIRE_EMAIL_VERIFICATION", "true")
            ])
            .unwrap_err()
            .variable,
            "SMTP_URL"
        );
        // Development writes mail into the outbox instead.
        let dev = settings(&[]).unwrap();
        assert_eq!(
            dev.mail.delivery.outbox_dir(),
            Some(std::path::Path::new("mail-outbox"))
        );
        assert!(dev.mail.accounts.password_recovery);
        assert_eq!(dev.mail.accounts.reset_ttl_secs, 1800);
        assert_eq!(dev.mail.accounts.verification_ttl_secs, 48 * 3600);
    }

    #[test]
    fn the_smtp_password_never_shows_in_an_error_or_in_debug() {
        let err = settings(&[("SMTP_URL", "ftp://ann:hunter22@mail.example.com")]).unwrap_err();
        assert_eq!(err.variable, "SMTP_URL");
        assert!(!err.to_string().contains("hunter22"), "{err}");
        let ok = settings(&[("SMTP_URL", "smtp://ann:hunter22@mail.example.com:2525")]).unwrap();
        assert!(!format!("{ok:?}").contains("hunter22"));
    }

    #[test]
    fn cors_origins_are_a_list_or_any() {
        let s = settings(&[("CORS_ORIGINS", "https://a.example, http://localhost:3000")]).unwrap();
        assert_eq!(
            s.cors,
            CorsOrigins::Only(vec![
                "https://a.example".to_owned(),
                "http://localhost:3000".to_owned()
            ])
        );
        assert_eq!(
            settings(&[("CORS_ORIGINS", "*")]).unwrap().cors,
            CorsOrigins::Any
        );
    }
}
