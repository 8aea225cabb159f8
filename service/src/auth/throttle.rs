//! Login throttling: after too many failed logins for one account, or from one client
//! address, within a window, further attempts are refused until the window ends — before any
//! bcrypt work is spent on them.
//!
//! The counts live in this process's memory: each replica counts on its own, and a restart
//! forgets them. That bounds password guessing to a known rate per replica, which is what
//! this is for; it is not an account lock-out.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures are allowed, per what, and for how long they count.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Failed logins per account within the window; 0 turns throttling off.
    pub max_per_account: u32,
    /// Failed logins per client address within the window; 0 turns this limit off.
    pub max_per_client: u32,
    pub window: Duration,
}

struct Failures {
    count: u32,
    since: Instant,
}

struct Counter<K> {
    max: u32,
    entries: Mutex<HashMap<K, Failures>>,
}

/// Above this many tracked keys, expired ones are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

impl<K: Eq + Hash> Counter<K> {
    fn new(max: u32) -> Self {
        Self {
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn blocked_for(&self, key: &K, window: Duration, now: Instant) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let f = entries.get(key)?;
        let ends = f.since + window;
        (f.count >= self.max && ends > now).then(|| ends - now)
    }

    fn fail(&self, key: K, window: Duration, now: Instant) {
        if self.max == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, f| f.since + window > now);
        }
        let f = entries.entry(key).or_insert(Failures {
            count: 0,
            since: now,
        });
        if f.since + window <= now {
            *f = Failures {
                count: 0,
                since: now,
            };
        }
        f.count = f.count.saturating_add(1);
    }

    fn clear(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// Failed-login counts per account and per client address.
pub struct LoginThrottle {
    window: Duration,
    accounts: Counter<String>,
    clients: Counter<IpAddr>,
}

impl LoginThrottle {
    /// A throttle with no failures counted yet.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            window: config.window,
            accounts: Counter::new(config.max_per_account),
            clients: Counter::new(config.max_per_client),
        }
    }

    /// How long until `account` from `client` may try again, if it may not now.
    pub fn blocked_for(&self, account: &str, client: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let by_account = self
            .accounts
            .blocked_for(&account.to_owned(), self.window, now);
        let by_client = client.and_then(|ip| self.clients.blocked_for(&ip, self.window, now));
        by_account.max(by_client)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, account: &str, client: Option<IpAddr>) {
        let now = Instant::now();
        self.accounts.fail(account.to_owned(), self.window, now);
        if let Some(ip) = client {
            self.clients.fail(ip, self.window, now);
        }
    }

    /// Forgets the account's failures after a successful login (the client's stay).
    pub fn succeeded(&self, account: &str) {
        self.accounts.clear(&account.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(account: u32, client: u32) -> LoginThrottle {
        LoginThrottle::new(ThrottleConfig {
            max_per_account: account,
            max_per_client: client,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn blocks_an_account_after_max_failures_until_success_clears_it() {
        let t = throttle(3, 0);
        for _ in 0..3 {
            assert!(t.blocked_for("a", None).is_none());
            t.failed("a", None);
        }
        let wait = t.blocked_for("a", None).unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(t.blocked_for("b", None).is_none());
        t.succeeded("a");
        assert!(t.blocked_for("a", None).is_none());
    }

    #[test]
    fn blocks_a_client_across_accounts() {
        let t = throttle(100, 2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        t.failed("a", Some(ip));
        t.failed("b", Some(ip));
        assert!(t.blocked_for("c", Some(ip)).is_some());
        assert!(t.blocked_for("c", Some([10, 0, 0, 2].into())).is_none());
    }

    #[test]
    fn zero_turns_it_off() {
        let t = throttle(0, 0);
        for _ in 0..100 {
            t.failed("a", Some([10, 0, 0, 1].into()));
        }
        assert!(t.blocked_for("a", Some([10, 0, 0, 1].into())).is_none());
    }
}
