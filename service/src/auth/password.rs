//! Password hashing and checking with bcrypt, kept from starving everything else.
//!
//! bcrypt is slow on purpose, so it never runs on an async worker: each hash or check runs on
//! tokio's blocking pool, and a semaphore keeps at most the configured number in flight, so a
//! login flood queues here. The threads that run it also give way to all other work
//! ([`lower_this_threads_priority`]). An unknown email is checked against a dummy hash, so
//! the answer takes as long as a wrong password and does not tell which emails exist.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use super::{Auth, AuthConfig};
use crate::Error;
use crate::domain::Password;

/// The cost of new hashes, the dummy hash, and the permits that bound bcrypt's concurrency.
pub(super) struct Hashing {
    cost: u32,
    /// Checked against when the email is unknown. Computed on first use, at the configured
    /// cost, so it takes as long as a real one.
    dummy_hash: Arc<OnceLock<String>>,
    permits: Arc<Semaphore>,
}

impl Hashing {
    /// `config`'s cost, with at least one permit.
    pub(super) fn new(config: &AuthConfig) -> Self {
        Self {
            cost: config.bcrypt_cost,
            dummy_hash: Arc::new(OnceLock::new()),
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
    /// Computes the dummy hash in the background, so the first login with an unknown email
    /// takes no longer than the others.
    pub fn warm_up(&self) {
        let dummy = Arc::clone(&self.hashing.dummy_hash);
        let cost = self.hashing.cost;
        tokio::task::spawn_blocking(move || {
            dummy_hash(&dummy, cost);
        });
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
        let dummy = Arc::clone(&self.hashing.dummy_hash);
        let cost = self.hashing.cost;
        self.hashing
            .blocking(move || {
                let known = hash.is_some();
                let hash = hash.unwrap_or_else(|| dummy_hash(&dummy, cost).to_owned());
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
    {
        let attr = libc::sched_attr {
            size: u32::try_from(std::mem::size_of::<libc::sched_attr>()).unwrap_or(48),
            sched_policy: libc::SCHED_OTHER as u32,
            sched_flags: 0,
            sched_nice: HASHING_NICE,
            sched_priority: 0,
            sched_runtime: HASHING_SLICE_NS,
            sched_deadline: 0,
            sched_period: 0,
        };
        // SAFETY: `attr` is a valid `sched_attr` that lives across the call, which only reads
        // it; pid 0 is the calling thread and flags 0 asks for nothing else.
        let sliced = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &raw const attr, 0) } == 0;
        // SAFETY: setpriority takes plain integers and touches no memory of ours; `who` 0 is
        // the calling thread on Linux, whose nice value is per thread.
        if !sliced && unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE) } != 0 {
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
/// Their time slice, in nanoseconds: the least Linux takes.
#[cfg(target_os = "linux")]
const HASHING_SLICE_NS: u64 = 100_000;

fn dummy_hash(cell: &OnceLock<String>, cost: u32) -> &str {
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
        assert!(!a.check_password("wrong horse", Some(h)).await.unwrap());
        assert!(!a.check_password("correct horse", None).await.unwrap());
    }
}
