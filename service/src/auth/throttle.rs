//! Login throttling, counted in the database so that every replica and every restart sees the
//! same counts: after too many failed logins within a window, further attempts are refused
//! until the window ends — before any bcrypt work is spent on them.
//!
//! Three things are counted, each in its own row of `login_failures`:
//! - the **pair** of an account and a client address: `max_per_account` failures, then that
//!   client may not try that account again;
//! - the **account**, from any client: `max_per_account` failures, then the account is closed
//!   to every client that has never logged in to it (no session of the account came from its
//!   address) — but not to those that have. An attacker guessing from new addresses gets no
//!   more tries than before, and the owner, on a device the account knows, still gets in; an
//!   attacker sharing the owner's address is held by the pair count;
//! - the **client address**, across accounts: `max_per_client` failures.
//!
//! A successful login forgets its pair's failures only: the account's count goes on, so a
//! success cannot buy an attacker a fresh budget.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use entity::{login_failure, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use crate::Error;
use crate::users::now;

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

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Account,
    Client,
    Pair,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Client => "client",
            Scope::Pair => "pair",
        }
    }
}

/// Failed-login counts per account, per client address and per pair, in the database.
pub struct LoginThrottle {
    config: ThrottleConfig,
    /// Failures recorded by this process: every [`SWEEP_EVERY`]th sweeps ended windows.
    recorded: AtomicU32,
}

/// Ended windows are deleted once every this many recorded failures (per process).
const SWEEP_EVERY: u32 = 256;
/// Counts are swept once their window started this long ago: longer than any window the
/// settings allow (`LOGIN_FAILURE_WINDOW_SECS`, `MAIL_REQUEST_WINDOW_SECS`: at most a day).
const SWEEP_AFTER: TimeDelta = TimeDelta::days(1);

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
        }
    }

    /// The counted rows of an attempt on `account` from `client`, with their limits.
    fn subjects(&self, account: &str, client: Option<IpAddr>) -> Vec<(Scope, String)> {
        let mut subjects = vec![(Scope::Account, account.to_owned())];
        if let Some(ip) = client {
            subjects.push((Scope::Client, ip.to_string()));
            subjects.push((Scope::Pair, format!("{account} {ip}")));
        }
        subjects.retain(|(scope, _)| self.limit(*scope) > 0);
        subjects
    }

    /// Refuses an attempt on `account` (lower-cased) from `client` while it is throttled.
    ///
    /// # Errors
    /// `TooManyAttempts`, with how long to wait and the limit that was reached; database
    /// errors.
    pub async fn check<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<(), Error> {
        let subjects = self.subjects(account, client);
        if subjects.is_empty() {
            return Ok(());
        }
        let mut any = Condition::any();
        for (scope, subject) in &subjects {
            any = any.add(
                Condition::all()
                    .add(login_failure::Column::Scope.eq(scope.as_str()))
                    .add(login_failure::Column::Subject.eq(subject.as_str())),
            );
        }
        let rows: Vec<(String, i32, DateTime<FixedOffset>)> = login_failure::Entity::find()
            .select_only()
            .columns([
                login_failure::Column::Scope,
                login_failure::Column::Failures,
                login_failure::Column::WindowStart,
            ])
            .filter(any)
            .into_tuple()
            .all(db)
            .await?;
        let now = now();
        let mut refusal: Option<(Scope, TimeDelta)> = None;
        for (scope, failures, start) in rows {
            let Some(scope) = [Scope::Account, Scope::Client, Scope::Pair]
                .into_iter()
                .find(|s| s.as_str() == scope)
            else {
                continue;
            };
            let ends = start + self.window();
            let reached = u32::try_from(failures).unwrap_or(0) >= self.limit(scope);
            if reached && ends > now && refusal.is_none_or(|(_, wait)| ends - now > wait) {
                if scope == Scope::Account && known(db, account, client).await? {
                    continue;
                }
                refusal = Some((scope, ends - now));
            }
        }
        match refusal {
            None => Ok(()),
            Some((scope, wait)) => {
                let wait = wait.to_std().unwrap_or_default();
                Err(Error::TooManyAttempts {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    limit: self.limit(scope),
                    window_secs: self.config.window.as_secs(),
                })
            }
        }
    }

    /// Counts a failed attempt on `account` from `client`, starting a new window for a count
    /// whose window has ended.
    ///
    /// # Errors
    /// Database errors.
    pub async fn failed<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<(), Error> {
        let subjects = self.subjects(account, client);
        if subjects.is_empty() {
            return Ok(());
        }
        let now = now();
        let ended = now - self.window();
        let table = login_failure::Entity;
        let window_ended =
            || Expr::col((table, login_failure::Column::WindowStart)).lte(Expr::val(ended));
        let mut upsert = Query::insert();
        upsert.into_table(table).columns([
            login_failure::Column::Scope,
            login_failure::Column::Subject,
            login_failure::Column::Failures,
            login_failure::Column::WindowStart,
        ]);
        for (scope, subject) in subjects {
            upsert.values_panic([scope.as_str().into(), subject.into(), 1.into(), now.into()]);
        }
        upsert.on_conflict(
            OnConflict::columns([login_failure::Column::Scope, login_failure::Column::Subject])
                .values([
                    (
                        login_failure::Column::Failures,
                        Expr::case(window_ended(), 1)
                            .finally(Expr::col((table, login_failure::Column::Failures)).add(1))
                            .into(),
                    ),
                    (
                        login_failure::Column::WindowStart,
                        Expr::case(window_ended(), Expr::val(now))
                            .finally(Expr::col((table, login_failure::Column::WindowStart)))
                            .into(),
                    ),
                ])
                .to_owned(),
        );
        db.execute(&upsert).await?;
        if self.recorded.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // A day back, not this throttle's own window: other throttles (the mail routes')
            // keep their counts in the same table with windows of up to a day.
            db.execute(
                &login_failure::Entity::delete_many()
                    .filter(login_failure::Column::WindowStart.lte(now - SWEEP_AFTER))
                    .into_query(),
            )
            .await?;
        }
        Ok(())
    }

    /// Forgets the failures of `account` from `client` after a successful login. The account's
    /// own count stays: a success must not reset an attacker's budget.
    ///
    /// # Errors
    /// Database errors.
    pub async fn succeeded<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        client: Option<IpAddr>,
    ) -> Result<(), Error> {
        let Some(ip) = client else {
            return Ok(());
        };
        db.execute(
            &login_failure::Entity::delete_many()
                .filter(login_failure::Column::Scope.eq(Scope::Pair.as_str()))
                .filter(login_failure::Column::Subject.eq(format!("{account} {ip}")))
                .into_query(),
        )
        .await?;
        Ok(())
    }
}

/// Whether some session of `account` logged in from `client`: a client the account knows.
async fn known<C: ConnectionTrait>(
    db: &C,
    account: &str,
    client: Option<IpAddr>,
) -> Result<bool, Error> {
    let Some(ip) = client else {
        return Ok(false);
    };
    let select = Query::select()
        .column((session::Entity, session::Column::Id))
        .from(session::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((session::Entity, session::Column::UserId)),
        )
        .and_where(
            Expr::expr(Func::lower(Expr::col((user::Entity, user::Column::Email)))).eq(account),
        )
        .and_where(Expr::col((session::Entity, session::Column::ClientAddr)).eq(ip.to_string()))
        .limit(1)
        .to_owned();
    Ok(db.query_one(&select).await?.is_some())
}
