//! Password hashing and checking with bcrypt, kept from starving everything else.
//!
//! bcrypt is slow on purpose, so it never runs on an async worker: each hash or check runs on
//! tokio's blocking pool, and a semaphore keeps at most the configured number in flight, so a
//! login flood queues here. The threads that run it also give way to all other work
//! ([`lower_this_threads_priority`]). An unknown email is checked against a dummy hash, so
//! the answer takes as long as a wrong password and does not tell which emails exist.
//!
//! Stored hashes may have another cost than the configured one (a database adopted from the
//! course, or `BCRYPT_COST` changed), and a check costs what its hash's cost says: twice the
//! time per step of cost. So the dummy hash has the cost most stored hashes have (read from
//! the database at start and every [`TYPICAL_COST_TTL`] after), and a successful login
//! rehashes a password of another cost at the configured one, so that the costs converge.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use tokio::sync::Semaphore;

use super::{Auth, AuthConfig};
use crate::Error;
use crate::domain::Password;

/// How long the typical stored cost is trusted before it is read again.
pub const TYPICAL_COST_TTL: Duration = Duration::from_secs(600);

/// bcrypt's costs run from 4 to 31.
const COSTS: usize = 32;

/// The cost of new hashes, the dummy hashes, and the permits that bound bcrypt's concurrency.
pub(super) struct Hashing {
    cost: u32,
    /// Checked against when the email is unknown, one per cost, each made on first use.
    dummy_hashes: Arc<[OnceLock<String>; COSTS]>,
    /// The cost most stored hashes have: the dummy hash checked has it.
    typical_cost: Arc<AtomicU32>,
    /// When the typical cost was last read from the database.
    typical_read: Mutex<Option<Instant>>,
    permits: Arc<Semaphore>,
}

impl Hashing {
    /// `config`'s cost, with at least one permit.
    pub(super) fn new(config: &AuthConfig) -> Self {
        Self {
            cost: config.bcrypt_cost,
            dummy_hashes: Arc::new(std::array::from_fn(|_| OnceLock::new())),
            typical_cost: Arc::new(AtomicU32::new(config.bcrypt_cost)),
            typical_read: Mutex::new(None),
            permits: Arc::new(Semaphore::new(config.hash_concurrency.max(1))),
        }
    }

    /// Runs `f` on the blocking pool once a permit is free.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("hash pool closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            lower_this_threads_priority();
            f()
        })
        .await
        .map_err(|e| Error::Internal(format!("hash task failed: {e}")))
    }
}

impl Auth {
    /// Computes the dummy hash of the typical cost in the background, so the first login with
    /// an unknown email takes no longer than the others.
    pub fn warm_up(&self) {
        let dummies = Arc::clone(&self.hashing.dummy_hashes);
        let cost = self.hashing.typical_cost.load(Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            dummy_hash(&dummies, cost);
        });
    }

    /// The bcrypt cost the dummy hash has: the one most stored hashes have.
    pub fn typical_cost(&self) -> u32 {
        self.hashing.typical_cost.load(Ordering::Relaxed)
    }

    /// Reads which bcrypt cost most stored hashes have, if it was last read more than
    /// [`TYPICAL_COST_TTL`] ago (or never, or `force`), and makes the dummy hash that cost.
    /// With no users, the configured cost.
    ///
    /// # Errors
    /// The database failing.
    pub async fn refresh_typical_cost<C: ConnectionTrait>(
        &self,
        db: &C,
        force: bool,
    ) -> Result<(), Error> {
        {
            let mut read = self
                .hashing
                .typical_read
                .lock()
                .map_err(|_| Error::Internal("typical cost lock poisoned".into()))?;
            if !force && read.is_some_and(|at| at.elapsed() < TYPICAL_COST_TTL) {
                return Ok(());
            }
            *read = Some(Instant::now());
        }
        let cost = crate::users::typical_hash_cost(db)
            .await?
            .filter(|c| (4..=31).contains(c))
            .unwrap_or(self.hashing.cost);
        let before = self.hashing.typical_cost.swap(cost, Ordering::Relaxed);
        if before != cost || force {
            log::info!(
                "bcrypt: most stored hashes have cost {cost} (new hashes: {}); unknown emails are checked at {cost}",
                self.hashing.cost
            );
        }
        if before != cost {
            self.warm_up();
        }
        Ok(())
    }

    /// Whether `hash` has another cost than the configured one (an unreadable hash too).
    pub(crate) fn needs_rehash(&self, hash: &str) -> bool {
        hash.parse::<bcrypt::HashParts>()
            .map_or(true, |parts| parts.get_cost() != self.hashing.cost)
    }

    /// Hashes a password already checked against its stored hash, at the configured cost.
    ///
    /// # Errors
    /// `Internal` if the blocking pool or bcrypt fails.
    pub(crate) async fn rehash(&self, password: &str) -> Result<String, Error> {
        let password = password.to_owned();
        let cost = self.hashing.cost;
        self.hashing
            .blocking(move || bcrypt::hash(password, cost))
            .await?
            .map_err(|e| Error::Internal(format!("bcrypt: {e}")))
    }

    /// Hashes `password` with bcrypt (`$2b$`, configured cost).
    ///
    /// # Errors
    /// `Internal` if the blocking pool fails.
    pub async fn hash_password(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        let cost = self.hashing.cost;
        self.hashing
            .blocking(move || bcrypt::hash(password, cost))
            .await?
            .map_err(|e| Error::Internal(format!("bcrypt: {e}")))
    }

    /// Whether `password` matches `hash`; with no hash (unknown user), checks against a dummy
    /// hash so the answer takes as long, and returns false.
    ///
    /// # Errors
    /// `Internal` if the blocking pool fails.
    pub async fn check_password(
        &self,
        password: &str,
        hash: Option<String>,
    ) -> Result<bool, Error> {
        // bcrypt ignores bytes past 72: a longer password must not match a hash made of its
        // first 72 (registration refuses such passwords, so none can be right).
        let too_long = password.len() > Password::MAX_BYTES;
        let password = password.to_owned();
        let dummies = Arc::clone(&self.hashing.dummy_hashes);
        let cost = self.typical_cost();
        self.hashing
            .blocking(move || {
                let known = hash.is_some();
                let hash = hash.unwrap_or_else(|| dummy_hash(&dummies, cost).to_owned());
                let matches = bcrypt::verify(password, &hash).unwrap_or(false);
                known && matches && !too_long
            })
            .await
    }
}

/// Gives the calling thread (one of tokio's blocking threads, running bcrypt) a nice value of
/// 10 and the shortest time slice Linux allows (0.1 ms), once: while the CPU is contended, the
/// threads doing any other work run first and, when one wakes, it waits at most that slice
/// for a hashing thread to give way, so a login flood slows logins rather than everything
/// else. With the CPU idle, bcrypt still gets all of it. The slice needs Linux 6.12 or later
/// (older kernels take the nice value alone); the nice value belongs to the thread. Elsewhere
/// this does nothing.
fn lower_this_threads_priority() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if LOWERED.get() {
        return;
    }
    LOWERED.set(true);
    #[cfg(target_os = "linux")]
    if crate::sched::set_this_thread(HASHING_NICE, crate::sched::SHORTEST_SLICE_NS).is_err() {
        // SAFETY: setpriority takes plain integers and touches no memory of ours; `who` 0 is
        // the calling thread on Linux, whose nice value is per thread.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE) } != 0 {
            log::debug!(
                "could not lower a bcrypt thread's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// The nice value of the threads that run bcrypt.
#[cfg(target_os = "linux")]
const HASHING_NICE: i32 = 10;

/// The dummy hash of `cost` (4 to 31), made on first use.
fn dummy_hash(dummies: &[OnceLock<String>; COSTS], cost: u32) -> &str {
    let cost = cost.clamp(4, 31);
    let cell = &dummies[usize::try_from(cost).unwrap_or(4)];
    cell.get_or_init(|| bcrypt::hash("not a real password", cost).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::Algorithm;

    use super::super::{Auth, AuthConfig};
    use crate::domain::Password;

    #[tokio::test]
    async fn passwords_hash_as_2b_and_check() {
        let a = Auth::new(&AuthConfig {
            secret: "k".into(),
            algorithm: Algorithm::HS256,
            token_ttl_secs: 60,
            refresh_ttl_secs: 3600,
            require_email_verification: false,
            bcrypt_cost: 4,
            hash_concurrency: 2,
        });
        let p = Password::parse("correct horse".into()).unwrap();
        let h = a.hash_password(&p).await.unwrap();
        assert!(h.starts_with("$2b$04$"));
        assert!(
            a.check_password("correct horse", Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!a.needs_rehash(&h), "a hash of the configured cost stays");
        let other = bcrypt::hash("correct horse", 5).unwrap();
        assert!(
            a.needs_rehash(&other),
            "a hash of another cost is made anew"
        );
        assert!(!a.check_password("wrong horse", Some(h)).await.unwrap());
        assert!(!a.check_password("correct horse", None).await.unwrap());
    }
}
