//! The auth group: `APP_ENV`, and the JWT and bcrypt variables it constrains.

use jsonwebtoken::Algorithm;
use service::auth::AuthConfig;

use super::vars::Vars;
use super::{ConfigError, DEVELOPMENT_SECRET_KEY};

/// `APP_ENV`: whether this is production.
pub(super) fn production<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
) -> Result<bool, ConfigError> {
    match vars
        .text("APP_ENV")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("development" | "dev" | "test") => Ok(false),
        Some("production" | "prod") => Ok(true),
        Some(_) => Err(ConfigError::new(
            "APP_ENV",
            "must be development or production",
        )),
    }
}

/// The JWT key (refusing the development key and short keys in production), algorithm and
/// lifetime, and bcrypt's cost and concurrency.
pub(super) fn auth<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    production: bool,
    cores: usize,
) -> Result<AuthConfig, ConfigError> {
    let secret = vars
        .text("SECRET_KEY")
        .unwrap_or_else(|| DEVELOPMENT_SECRET_KEY.to_owned());
    if production && secret == DEVELOPMENT_SECRET_KEY {
        return Err(ConfigError::new(
            "SECRET_KEY",
            "must be set to a secret of your own when APP_ENV=production",
        ));
    }
    if production && secret.len() < 32 {
        return Err(ConfigError::new(
            "SECRET_KEY",
            "must be at least 32 bytes when APP_ENV=production",
        ));
    }
    let algorithm = match vars
        .text("ALGORITHM")
        .map(|v| v.to_ascii_uppercase())
        .as_deref()
    {
        None | Some("HS256") => Algorithm::HS256,
        Some("HS384") => Algorithm::HS384,
        Some("HS512") => Algorithm::HS512,
        Some(_) => {
            return Err(ConfigError::new(
                "ALGORITHM",
                "must be HS256, HS384 or HS512",
            ));
        }
    };
    let minutes: i64 = vars.number("ACCESS_TOKEN_EXPIRE_MINUTES", 60, 1..=525_600)?;
    Ok(AuthConfig {
        secret,
        algorithm,
        token_ttl_secs: minutes * 60,
        refresh_ttl_secs: vars.number::<i64>("REFRESH_TOKEN_EXPIRE_DAYS", 30, 1..=3650)? * 86_400,
        require_email_verification: vars.flag("REQUIRE_EMAIL_VERIFICATION", false)?,
        bcrypt_cost: vars.number("BCRYPT_COST", 12, 4..=31)?,
        hash_concurrency: vars.number("BCRYPT_CONCURRENCY", cores, 1..=1024)?,
    })
}
