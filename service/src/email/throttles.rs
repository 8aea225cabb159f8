//! How often the address-bound routes may be used: mail requests per address and per client
//! (every request counts: each may send a mail), and refused tokens per client.
//!
//! Counted in the database like failed logins, so every replica and every restart sees the
//! same counts: each count is a [`LoginThrottle`] of its own over `login_failures`, counting
//! one subject per attempt under names no login can produce (a login's account is
//! lower-cased; these subjects start in capitals): `MAIL-TO <address>`, `MAIL-FROM <client>`,
//! `TOKEN-FROM <client>`.

use std::net::IpAddr;
use std::time::Duration;

use sea_orm::ConnectionTrait;

use crate::Error;
use crate::throttle::{LoginThrottle, Reserved, ThrottleConfig};

/// The counts of the mail routes.
pub struct MailThrottles {
    per_address: LoginThrottle,
    per_client: LoginThrottle,
    tokens: LoginThrottle,
}

impl MailThrottles {
    /// Mail requests as `mail` says (`max_per_account` per address, `max_per_client` per
    /// client); refused tokens per client as the login throttle `login` counts clients.
    pub fn new(mail: ThrottleConfig, login: ThrottleConfig) -> Self {
        let one = |max: u32, window: Duration| {
            LoginThrottle::new(ThrottleConfig {
                max_per_account: max,
                max_per_client: 0,
                window,
            })
        };
        Self {
            per_address: one(mail.max_per_account, mail.window),
            per_client: one(mail.max_per_client, mail.window),
            tokens: one(login.max_per_client, login.window),
        }
    }

    /// Counts a mail request for `address` from `client`, unless either is over its limit.
    ///
    /// # Errors
    /// `TooManyRequests` (policy `mail`); database errors.
    pub(super) async fn admit_mail_request<C: ConnectionTrait>(
        &self,
        db: &C,
        address: &str,
        client: Option<IpAddr>,
    ) -> Result<(), Error> {
        let to = format!("MAIL-TO {}", address.trim().to_lowercase());
        let from = client.map(|ip| format!("MAIL-FROM {ip}"));
        // Counted as they are checked, each in one statement, so that concurrent requests
        // cannot get past a limit together. A request refused is not counted at all: the
        // address's count is given back when the client's refuses.
        let counted = as_requests("mail", self.per_address.reserve(db, &to, None).await)?;
        if let Some(from) = &from
            && let Err(refused) = as_requests("mail", self.per_client.reserve(db, from, None).await)
        {
            self.per_address.release(db, counted).await?;
            return Err(refused);
        }
        drop(counted); // the request is made: it stays counted
        Ok(())
    }

    /// Counts a presented token against its client before it is looked at, refusing a
    /// client that has presented too many refused tokens; the count is given back if the
    /// token works ([`accepted_token`](Self::accepted_token)), so only refused tokens count.
    /// Counted first, so that tokens presented at once cannot get past the limit together.
    ///
    /// # Errors
    /// `TooManyRequests` (policy `token`); database errors.
    pub(super) async fn admit_token<C: ConnectionTrait>(
        &self,
        db: &C,
        client: Option<IpAddr>,
    ) -> Result<Option<Reserved>, Error> {
        match client {
            Some(ip) => {
                let from = format!("TOKEN-FROM {ip}");
                as_requests("token", self.tokens.reserve(db, &from, None).await).map(Some)
            }
            None => Ok(None),
        }
    }

    /// A token that worked: its count is given back.
    ///
    /// # Errors
    /// Database errors.
    pub(super) async fn accepted_token<C: ConnectionTrait>(
        &self,
        db: &C,
        attempt: Option<Reserved>,
    ) -> Result<(), Error> {
        match attempt {
            Some(reserved) => self.tokens.release(db, reserved).await,
            None => Ok(()),
        }
    }
}

/// A refused token: its count stays. The refusal to answer with.
pub(super) fn refused_token(attempt: Option<Reserved>) -> Error {
    drop(attempt);
    Error::InvalidAccountToken
}

/// The login throttle's refusal, in the words of this one.
fn as_requests<T>(policy: &'static str, checked: Result<T, Error>) -> Result<T, Error> {
    checked.map_err(|e| match e {
        Error::TooManyAttempts {
            retry_after_secs,
            limit,
            window_secs,
        } => Error::TooManyRequests {
            policy,
            retry_after_secs,
            limit,
            window_secs,
        },
        other => other,
    })
}
