//! Passwords (bcrypt) and access tokens (JWT), and the login use case.
//!
//! bcrypt is slow on purpose, so it never runs on an async worker: each hash or check runs on
//! tokio's blocking pool, and a semaphore keeps at most one per core in flight, so a login
//! flood queues here instead of starving everything else.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::Error;
use crate::domain::Password;
use crate::throttle::LoginThrottle;
use crate::users;

/// How tokens and password hashes are made.
#[derive(Clone)]
pub struct AuthConfig {
    /// The HMAC key tokens are signed with.
    pub secret: String,
    /// HS256, HS384 or HS512.
    pub algorithm: Algorithm,
    /// Token lifetime in seconds.
    pub token_ttl_secs: i64,
    /// bcrypt cost of new hashes (4..=31).
    pub bcrypt_cost: u32,
    /// How many bcrypt computations may run at once.
    pub hash_concurrency: usize,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &"***")
            .field("algorithm", &self.algorithm)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .finish_non_exhaustive()
    }
}

/// Signs and checks tokens, hashes and checks passwords. Built once at start-up, shared.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    ttl_secs: i64,
    cost: u32,
    /// Checked against when the email is unknown, so that answer takes as long as a wrong
    /// password. Computed on first use, at the configured cost.
    dummy_hash: Arc<OnceLock<String>>,
    permits: Arc<Semaphore>,
}

/// The token's payload, as the course's clients and server write it.
#[derive(Serialize, Deserialize)]
struct Claims {
    user_id: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct Token(pub String);

impl Auth {
    pub fn new(config: &AuthConfig) -> Self {
        let mut validation = Validation::new(config.algorithm);
        // jsonwebtoken's default is 60 s; an expired token is expired.
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.required_spec_claims = ["exp".to_owned()].into();
        Self {
            encoding: EncodingKey::from_secret(config.secret.as_bytes()),
            decoding: DecodingKey::from_secret(config.secret.as_bytes()),
            header: Header::new(config.algorithm),
            validation,
            ttl_secs: config.token_ttl_secs,
            cost: config.bcrypt_cost,
            dummy_hash: Arc::new(OnceLock::new()),
            permits: Arc::new(Semaphore::new(config.hash_concurrency.max(1))),
        }
    }

    /// Computes the dummy hash in the background, so the first login with an unknown email
    /// takes no longer than the others.
    pub fn warm_up(&self) {
        let dummy = Arc::clone(&self.dummy_hash);
        let cost = self.cost;
        tokio::task::spawn_blocking(move || {
            dummy_hash(&dummy, cost);
        });
    }

    /// Issues a token for `user_id`, valid for the configured lifetime.
    ///
    /// # Errors
    /// `Internal` if signing fails (it cannot with an HMAC key).
    pub fn issue(&self, user_id: i32) -> Result<Token, Error> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            user_id: i64::from(user_id),
            exp: now + self.ttl_secs,
            iat: Some(now),
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding)
            .map(Token)
            .map_err(|e| Error::Internal(format!("cannot sign token: {e}")))
    }

    /// The `user_id` of a valid token.
    ///
    /// # Errors
    /// `InvalidToken` for a bad signature, another algorithm, no or past `exp`, or a
    /// `user_id` that is not an integer.
    pub fn verify(&self, token: &str) -> Result<i64, Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims.user_id)
            .map_err(|e| {
                // The kind only (expired, bad signature, ...): never the token itself.
                log::debug!("token rejected: {:?}", e.kind());
                Error::InvalidToken
            })
    }

    /// Hashes `password` with bcrypt (`$2b$`, configured cost).
    ///
    /// # Errors
    /// `Internal` if the blocking pool fails.
    pub async fn hash_password(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        let cost = self.cost;
        self.blocking(move || bcrypt::hash(password, cost))
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
        let dummy = Arc::clone(&self.dummy_hash);
        let cost = self.cost;
        self.blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| dummy_hash(&dummy, cost).to_owned());
            let matches = bcrypt::verify(password, &hash).unwrap_or(false);
            known && matches && !too_long
        })
        .await
    }

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

/// Gives the calling thread (one of tokio's blocking threads, running bcrypt) a nice value of
/// 10 and the shortest time slice Linux allows (0.1 ms), once: while the CPU is contended, the
/// threads answering other requests run first and, when one wakes, it waits at most that slice
/// for a hashing thread to give way, so a login flood slows logins rather than every route.
/// With the CPU idle, bcrypt still gets all of it. The slice needs Linux 6.12 or later (older
/// kernels take the nice value alone); the nice value belongs to the thread. Elsewhere this
/// does nothing.
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

/// A login attempt.
pub struct LoginAttempt<'a> {
    /// The email, in any case.
    pub username: &'a str,
    pub password: &'a str,
    /// The client's address, for throttling; `None` when unknown.
    pub client: Option<IpAddr>,
}

/// Logs in with an email (any case) and password.
///
/// # Errors
/// `TooManyAttempts` while the account or client is throttled (checked before any bcrypt
/// work); `InvalidCredentials` for an unknown email or a wrong password, alike in answer and
/// in time.
pub async fn login<C: ConnectionTrait>(
    db: &C,
    auth: &Auth,
    throttle: &LoginThrottle,
    attempt: LoginAttempt<'_>,
) -> Result<Token, Error> {
    let account = attempt.username.trim().to_lowercase();
    if let Some(wait) = throttle.blocked_for(&account, attempt.client) {
        return Err(Error::TooManyAttempts {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        });
    }
    let found = users::find_credentials(db, &account).await?;
    let (user_id, hash) = match found {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    match (auth.check_password(attempt.password, hash).await?, user_id) {
        (true, Some(id)) => {
            throttle.succeeded(&account);
            auth.issue(id)
        }
        _ => {
            throttle.failed(&account, attempt.client);
            Err(Error::InvalidCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(alg: Algorithm, secret: &str, ttl: i64) -> Auth {
        Auth::new(&AuthConfig {
            secret: secret.into(),
            algorithm: alg,
            token_ttl_secs: ttl,
            bcrypt_cost: 4,
            hash_concurrency: 2,
        })
    }

    #[test]
    fn issued_tokens_verify() {
        let a = auth(Algorithm::HS256, "k", 60);
        let t = a.issue(7).unwrap();
        assert_eq!(a.verify(&t.0).unwrap(), 7);
    }

    #[test]
    fn expired_tokens_fail_without_leeway() {
        let a = auth(Algorithm::HS256, "k", -1);
        let t = a.issue(7).unwrap();
        assert!(a.verify(&t.0).is_err());
    }

    #[test]
    fn tampered_or_foreign_tokens_fail() {
        let a = auth(Algorithm::HS256, "k", 60);
        let other_key = auth(Algorithm::HS256, "other", 60).issue(7).unwrap();
        assert!(a.verify(&other_key.0).is_err());
        let other_alg = auth(Algorithm::HS512, "k", 60).issue(7).unwrap();
        assert!(a.verify(&other_alg.0).is_err());
        let mut t = a.issue(7).unwrap().0;
        t.push('x');
        assert!(a.verify(&t).is_err());
    }

    #[tokio::test]
    async fn passwords_hash_as_2b_and_check() {
        let a = auth(Algorithm::HS256, "k", 60);
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
