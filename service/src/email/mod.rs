//! What hangs on the account's address: password recovery and email verification, by mail,
//! and changing the address (what else a user does to the account is [`crate::accounts`]').
//!
//! Each sends a single-use token by mail ([`tokens`], [`messages`], delivered by
//! [`crate::mail`]). The two requests anyone may make about any address — a reset mail, a
//! verification mail again — answer alike whether or not the address is registered, and in
//! the same time: before answering they only count the request (the same write whatever the
//! address), and the token is stored and mailed afterwards, in the background, where neither
//! the answer nor its timing can show which addresses exist. A failure there is logged (WARN,
//! never the token or the address) and the mail is simply not sent, as for an unknown address.
//!
//! Counting ([`MailThrottles`]): those mail requests are counted per address and per client,
//! every request (each may send a mail); presenting a token counts only the refused ones, per
//! client.

mod change;
mod messages;
mod recovery;
mod throttles;
mod tokens;
mod verification;

use std::sync::Arc;

use chrono::TimeDelta;
use sea_orm::ConnectionTrait;

pub use change::{EmailChange, change_email};
pub use recovery::{cancel_resets, request_reset, reset_password};
pub use throttles::MailThrottles;
pub use verification::{register, resend_verification, verify_email};

use crate::auth::secret::Secret;
use crate::mail::Mailer;
use tokens::{Purpose, Whose};

/// What recovery and verification need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct AccountMailConfig {
    /// Whether `POST /password-recovery` and `POST /reset-password` work at all.
    pub password_recovery: bool,
    /// Whether registration sends a verification mail (and login requires the address
    /// verified: [`crate::auth::Auth::requires_verified_email`]).
    pub require_email_verification: bool,
    /// How long a reset token is accepted, in seconds.
    pub reset_ttl_secs: i64,
    /// How long a verification token is accepted, in seconds.
    pub verification_ttl_secs: i64,
}

/// The mailer and the rules of the mails an account gets (recovery, verification). Built once
/// at start-up, shared.
pub struct AccountMail {
    mailer: Mailer,
    recovery: bool,
    verification: bool,
    reset_ttl: TimeDelta,
    verification_ttl: TimeDelta,
}

impl AccountMail {
    /// The rules `config` sets, mailing through `mailer`.
    pub fn new(config: &AccountMailConfig, mailer: Mailer) -> Self {
        Self {
            mailer,
            recovery: config.password_recovery,
            verification: config.require_email_verification,
            reset_ttl: TimeDelta::seconds(config.reset_ttl_secs),
            verification_ttl: TimeDelta::seconds(config.verification_ttl_secs),
        }
    }

    /// Whether password recovery works at all (`POST /password-recovery` and
    /// `POST /reset-password`).
    pub fn recovery_enabled(&self) -> bool {
        self.recovery
    }

    /// Whether addresses are verified: registration and email changes mail a token, and
    /// login requires the address verified.
    pub fn verification_required(&self) -> bool {
        self.verification
    }

    fn ttl(&self, purpose: Purpose) -> TimeDelta {
        match purpose {
            Purpose::PasswordReset => self.reset_ttl,
            Purpose::EmailVerification => self.verification_ttl,
        }
    }
}

/// Stores `secret` as the `purpose` token of the account `whose` names, and mails it there,
/// after the answer has gone: nothing of it reaches the client. With no such account nothing
/// is sent; a failure is logged.
fn issue_in_background<C>(
    db: &C,
    account_mail: &Arc<AccountMail>,
    purpose: Purpose,
    whose: Whose,
    secret: Secret,
) where
    C: ConnectionTrait + Clone + Send + Sync + 'static,
{
    let db = db.clone();
    let account_mail = Arc::clone(account_mail);
    tokio::spawn(async move {
        let ttl = account_mail.ttl(purpose);
        match tokens::issue(&db, purpose, &whose, &secret.hash, ttl).await {
            Ok(Some(holder)) => {
                let mail = messages::mail(purpose, holder.email, &secret.plain, ttl);
                account_mail.mailer.deliver(mail).await;
            }
            Ok(None) => {}
            Err(e) => log::warn!(
                "mail: {} token not stored, no message sent: {}",
                purpose.as_str(),
                crate::error::chain(&e)
            ),
        }
    });
}
