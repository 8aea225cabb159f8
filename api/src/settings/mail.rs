//! The mail group: where mail goes (`SMTP_URL`, or the outbox), whom it is from, password
//! recovery and email verification, and the throttle of mail requests.

use std::path::PathBuf;

use service::email::AccountMailConfig;
use service::mail::{MailConfig, MailConfigError};
use service::throttle::ThrottleConfig;

use super::ConfigError;
use super::vars::Vars;

/// The sender when `MAIL_FROM` is unset.
pub const DEFAULT_MAIL_FROM: &str = "Posts API <no-reply@localhost>";
/// The outbox when `MAIL_OUTBOX_DIR` is unset, relative to the working directory.
pub const DEFAULT_OUTBOX_DIR: &str = "mail-outbox";

/// Mail, and what sends it.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_URL` (or, without it, `MAIL_OUTBOX_DIR`) and `MAIL_FROM`.
    pub delivery: MailConfig,
    /// `PASSWORD_RECOVERY`, `PASSWORD_RESET_EXPIRE_MINUTES`, `EMAIL_VERIFICATION_EXPIRE_HOURS`
    /// (and `REQUIRE_EMAIL_VERIFICATION`, read with the auth group).
    pub accounts: AccountMailConfig,
    /// `MAIL_MAX_REQUESTS`, `MAIL_MAX_REQUESTS_PER_CLIENT`, `MAIL_REQUEST_WINDOW_SECS`: how
    /// many recovery and verification mails may be asked for, per address and per client.
    pub throttle: ThrottleConfig,
}

/// Reads the group. With `APP_ENV=production` and no `SMTP_URL`, refuses to start unless
/// nothing would send mail (`PASSWORD_RECOVERY=false`, verification off): the outbox is a
/// development convenience, and in production a reset mail written to a file is one no user
/// ever gets.
pub(super) fn mail<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
    production: bool,
    require_email_verification: bool,
) -> Result<MailSettings, ConfigError> {
    let smtp_url = vars.text("SMTP_URL");
    let from = vars
        .text("MAIL_FROM")
        .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
    let outbox = vars
        .text("MAIL_OUTBOX_DIR")
        .unwrap_or_else(|| DEFAULT_OUTBOX_DIR.to_owned());
    let delivery = match &smtp_url {
        Some(url) => MailConfig::smtp(url, &from),
        None => MailConfig::outbox(PathBuf::from(outbox), &from),
    }
    .map_err(|e| match e {
        MailConfigError::SmtpUrl(why) => ConfigError::new("SMTP_URL", why),
        MailConfigError::From(why) => ConfigError::new("MAIL_FROM", why),
    })?;
    let password_recovery = vars.flag("PASSWORD_RECOVERY", true)?;
    let reset_minutes: i64 = vars.number("PASSWORD_RESET_EXPIRE_MINUTES", 30, 1..=10_080)?;
    let verification_hours: i64 = vars.number("EMAIL_VERIFICATION_EXPIRE_HOURS", 48, 1..=8_760)?;
    let throttle = ThrottleConfig {
        max_per_account: vars.number("MAIL_MAX_REQUESTS", 5, 0..=1_000_000)?,
        max_per_client: vars.number("MAIL_MAX_REQUESTS_PER_CLIENT", 50, 0..=1_000_000)?,
        window: vars.seconds("MAIL_REQUEST_WINDOW_SECS", 3600, 86_400)?,
    };
    if production && smtp_url.is_none() && (password_recovery || require_email_verification) {
        return Err(ConfigError::new(
            "SMTP_URL",
            "must be set when APP_ENV=production, since password recovery and email \
             verification send mail (or set PASSWORD_RECOVERY=false and leave \
             REQUIRE_EMAIL_VERIFICATION off)",
        ));
    }
    Ok(MailSettings {
        delivery,
        accounts: AccountMailConfig {
            password_recovery,
            require_email_verification,
            reset_ttl_secs: reset_minutes * 60,
            verification_ttl_secs: verification_hours * 3600,
        },
        throttle,
    })
}
