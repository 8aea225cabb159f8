//! Login throttling, counted in the database so that every replica and every restart sees the
//! same counts: after too many failed logins within a window, further attempts are refused
//! until the window ends — before any bcrypt work is spent on them.
//!
//! Three things are counted, each in its own row of `login_failures`:
//! - the **pair** of an account and a client address: `max_per_account` failures, then that
//!   client may not try that account again;
//! - the **account**, from any client: `max_per_account` failures, then the account is closed
//!   to every client it does not know (one that has never logged in to it) — but not to those
//!   it does. An attacker guessing from new addresses gets no more tries than before, and the
//!   owner, on a device the account knows, still gets in; an attacker sharing the owner's
//!   address is held by the pair count;
//! - the **client address**, across accounts: `max_per_client` failures.
//!
//! An attempt is counted **before** its password is checked ([`LoginThrottle::reserve`]: one
//! upsert that answers the new counts), and refused if that takes a count over its limit; a
//! success gives its count back ([`LoginThrottle::succeeded`]). So concurrent attempts, on
//! one replica or many, can never get more than the limit between them: each holds its place
//! in the count while bcrypt runs. A success forgets its pair's failures only: the account's
//! count goes on, so a success cannot buy an attacker a fresh budget. It also records the
//! client as **known** to the account's user (a row of its own, keyed by user id, kept for
//! [`KNOWN_FOR`] whatever becomes of the session), which is what exempts the owner from the
//! account's count. The count and the give-back write a login's rows in one order
//! (`Scope`'s), so that on PostgreSQL they never deadlock on each other.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use entity::{login_failure, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::Error;
use crate::users::now;

mod rows;

use rows::{Count, Scope, give_back, known_subject, pair};

/// How many failures are allowed, per what, and for how long they count.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Failed logins per account (from clients it does not know), and per account and client
    /// pair, within the window; 0 turns both off.
    pub max_per_account: u32,
    /// Failed logins per client address within the window; 0 turns this limit off.
    pub max_per_client: u32,
    pub window: Duration,
}

/// Failed-login counts per account, per client address and per pair, in the database.
pub struct LoginThrottle {
    config: ThrottleConfig,
    /// Failures recorded by this process: every [`SWEEP_EVERY`]th sweeps ended windows.
    recorded: AtomicU32,
}

/// Ended windows are deleted once every this many recorded failures (per process).
const SWEEP_EVERY: u32 = 256;
/// How long a client that logged in to an account stays known to it after its last login.
pub const KNOWN_FOR: TimeDelta = TimeDelta::days(180);

/// An attempt counted as a failure by [`LoginThrottle::reserve`] until it is known to have
/// succeeded ([`LoginThrottle::succeeded`]). Dropped, it stays counted: a failed attempt, or
/// one whose outcome never came (a database error on the way, say).
#[must_use = "a reserved attempt stays counted as a failure unless it is given back"]
pub struct Reserved {
    /// Each row the attempt was counted in, as the count left it, in [`Scope`]'s order.
    counted: Vec<Count>,
    client: Option<IpAddr>,
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            recorded: AtomicU32::new(0),
        }
    }

    fn window(&self) -> TimeDelta {
        TimeDelta::from_std(self.config.window).unwrap_or(TimeDelta::MAX)
    }

    fn limit(&self, scope: Scope) -> u32 {
        match scope {
            Scope::Account | Scope::Pair => self.config.max_per_account,
            Scope::Client => self.config.max_per_client,
            Scope::Known => 0,
        }
    }

    /// The counted rows of an attempt on `account` from `client`, in [`Scope`]'s order.
    fn subjects(&self, account: &str, client: Option<IpAddr>) -> Vec<(Scope, String)> {
        let mut subjects = vec![(Scope::Account, account.to_owned())];
        if let Some(ip) = client {
            subjects.push((Scope::Client, ip.to_string()));
            subjects.push((Scope::Pair, pair(account, ip)));
        }
        subjects.retain(|(scope, _)| self.limit(*scope) > 0);
        subjects
    }

    /// Counts an attempt on `account` (lower-cased) from `client` as a failure, before its
    /// password is checked, and refuses it if that takes a count over its limit (giving the
    /// count back then: a refused attempt is not counted). One statement: an upsert that
    /// answers the new counts, so concurrent attempts each hold their own place in them.
    ///
    /// # Errors
    /// `TooManyAttempts`, with how long to wait and the limit that was reached; database
    /// errors.
    pub async fn reserve<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<Reserved, Error> {
        let subjects = self.subjects(account, client);
        if subjects.is_empty() {
            return Ok(Reserved {
                counted: Vec::new(),
                client,
            });
        }
        let now = now();
        let upsert = rows::count(&subjects, now, now - self.window());
        let mut counted = Vec::with_capacity(subjects.len());
        for row in db.query_all(&upsert).await? {
            counted.extend(Count::of(&row)?);
        }
        counted.sort();
        let reserved = Reserved { counted, client };
        match self.refusal(db, account, client, &reserved.counted).await? {
            None => {
                self.sweep_now_and_then(db, now).await?;
                Ok(reserved)
            }
            Some(refused) => {
                self.release(db, reserved).await?;
                Err(refused)
            }
        }
    }

    /// Gives back the count of an attempt that succeeded, forgets its pair's failures, and
    /// records its client as known to `user_id`, the account's user. The account's and the
    /// client's failures stay: a success must not reset an attacker's budget. One statement.
    ///
    /// # Errors
    /// Database errors.
    pub async fn succeeded<C: ConnectionTrait>(
        &self,
        db: &C,
        reserved: Reserved,
        user_id: i32,
    ) -> Result<(), Error> {
        let known = reserved.client.map(|ip| known_subject(user_id, ip));
        if let Some(statement) = give_back(&reserved.counted, true, known.as_deref()) {
            db.execute(&statement).await?;
        }
        Ok(())
    }

    /// Gives back the count of an attempt that was not made after all (refused, by this
    /// throttle or another): it counts as nothing, neither failure nor success.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release<C: ConnectionTrait>(
        &self,
        db: &C,
        reserved: Reserved,
    ) -> Result<(), Error> {
        if let Some(statement) = give_back(&reserved.counted, false, None) {
            db.execute(&statement).await?;
        }
        Ok(())
    }

    /// The refusal `counts` (as an attempt's count left them, itself included) call for, if
    /// any: a count whose window has not ended and which this attempt took past its limit.
    /// The account's count does not hold a client the account knows. The longest wait wins.
    async fn refusal<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        client: Option<IpAddr>,
        counts: &[Count],
    ) -> Result<Option<Error>, Error> {
        let now = now();
        let mut refusal: Option<(Scope, TimeDelta)> = None;
        for count in counts {
            let scope = count.scope;
            let ends = count.window_start + self.window();
            let over = u32::try_from(count.failures).unwrap_or(0) > self.limit(scope);
            if over && ends > now && refusal.is_none_or(|(_, wait)| ends - now > wait) {
                if scope == Scope::Account && known(db, account, client, now).await? {
                    continue;
                }
                refusal = Some((scope, ends - now));
            }
        }
        Ok(refusal.map(|(scope, wait)| {
            let wait = wait.to_std().unwrap_or_default();
            Error::TooManyAttempts {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                limit: self.limit(scope),
                window_secs: self.config.window.as_secs(),
            }
        }))
    }

    /// Every [`SWEEP_EVERY`]th count of this process deletes ended windows, and known clients
    /// not seen for [`KNOWN_FOR`].
    async fn sweep_now_and_then<C: ConnectionTrait>(
        &self,
        db: &C,
        now: DateTime<FixedOffset>,
    ) -> Result<(), Error> {
        if self.recorded.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return Ok(());
        }
        db.execute(&rows::sweep(now)).await?;
        Ok(())
    }
}

/// Whether `client` has logged in to `account`'s user within [`KNOWN_FOR`]: a client the
/// account knows. Asked only of an attempt the account's count would refuse.
async fn known<C: ConnectionTrait>(
    db: &C,
    account: &str,
    client: Option<IpAddr>,
    now: DateTime<FixedOffset>,
) -> Result<bool, Error> {
    let Some(ip) = client else {
        return Ok(false);
    };
    let user_id = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(account))
        .into_tuple::<i32>()
        .one(db)
        .await?;
    let Some(user_id) = user_id else {
        return Ok(false);
    };
    let found = login_failure::Entity::find()
        .select_only()
        .column(login_failure::Column::Failures)
        .filter(login_failure::Column::Scope.eq(Scope::Known.as_str()))
        .filter(login_failure::Column::Subject.eq(known_subject(user_id, ip)))
        .filter(login_failure::Column::WindowStart.gt(now - KNOWN_FOR))
        .into_tuple::<i32>()
        .one(db)
        .await?;
    Ok(found.is_some())
}
