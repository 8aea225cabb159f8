//! Scale-out: two replicas of the real server binary on one PostgreSQL database, with nginx
//! load-balancing in front of them. `.ci/scale-out.sh` runs it:
//!
//! ```sh
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo test -p api --test scale_out -- --ignored --nocapture
//! ```
//!
//! It needs PostgreSQL (`TEST_DATABASE_URL`, an admin URL: a fresh database is created and
//! dropped through it) and `nginx` on `PATH` (or at `/usr/sbin/nginx`); with either missing it
//! fails, it never skips. What it proves, step by step:
//!
//! 1. Two replicas started at the same moment on one fresh database, both migrating at start
//!    (`AUTO_MIGRATE` on): both become ready, and the schema was migrated exactly once
//!    (`seaql_migrations` holds each migration once; without the advisory lock the second
//!    replica's `CREATE TABLE` or its bookkeeping insert would fail and it would not start).
//! 2. nginx in front of them spreads requests over both.
//! 3. State is in the database only: a user registered and logged in on one replica uses the
//!    token on the other; a post written through one is read through the other.
//!    Sessions too: a refresh token issued through A is exchanged through B; reusing the
//!    retired one through A ends the session on B; a logout through B and a password change
//!    through A are honoured by the other replica at its next request. And one login budget:
//!    failed logins through A and B in turn add up, and the one past the limit is 429 through
//!    A, B and nginx. And one idempotency store: a `POST /posts/` through A retried through B
//!    with its `Idempotency-Key` is replayed, and makes one post.
//! 4. Votes are exactly-once across replicas: concurrent votes through A, B and nginx are each
//!    201 and a duplicate through another path is 409; the same vote raced through A and B at
//!    once is one 201 and one 409, its removal raced the same way one 201 and one 404; every
//!    count is exact.
//! 5. A rolling stop: under a read/write load through nginx, replica A gets SIGTERM. A drains
//!    for `SHUTDOWN_DRAIN_SECS` (its `/ready` 503, its responses closing their connections);
//!    the test, as an orchestrator would, sees the 503 and reloads nginx without A; A then
//!    stops accepting and exits 0 well within its shutdown timeout; B answers a direct probe
//!    every few milliseconds throughout; **every** request through nginx succeeds; after A's
//!    exit every request is served by B; no POST is applied twice, and every POST answered 201
//!    is in the database.
//!
//! Every wait is bounded; every child process (replicas, nginx) is killed on drop, and the
//! database is dropped on drop, also when an assertion fails.
//!
//! [`nginx_conf`]: nginx::nginx_conf

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod load;
mod nginx;
mod replicas;
mod requests;
mod retries;
mod rolling_stop;
mod sessions;
mod steps;

use std::path::PathBuf;
use std::time::Duration;

use tests::PgDatabase;

use replicas::wait_exit;
use requests::client;

/// The most any single wait may take; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(20);
/// The replicas' `SHUTDOWN_TIMEOUT_SECS`.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// The replicas' `SHUTDOWN_DRAIN_SECS`.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(2);
/// Both replicas sign and check tokens with it: a token from one is good on the other.
const SECRET_KEY: &str = "scale-out-test-secret-key-0123456789abcdef";
const PASSWORD: &str = "correct-horse-battery";
/// Users voting in step 4.
const VOTERS: usize = 12;
/// Client tasks of the load in step 5.
const LOAD_CLIENTS: usize = 6;

// ------------------------------------------------------------------------------------------
// Prerequisites: fail loudly, never skip.

fn admin_url() -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
        Ok(url) if !url.is_empty() => panic!(
            "TEST_DATABASE_URL must be a postgres:// admin URL for the scale-out test, not {url:?}"
        ),
        _ => panic!(
            "TEST_DATABASE_URL is not set: the scale-out test needs PostgreSQL \
             (.ci/scale-out.sh sets it to postgres://postgres@127.0.0.1:5432/postgres)"
        ),
    }
}

fn nginx_binary() -> PathBuf {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx is not on PATH (nor /usr/sbin/nginx): the scale-out test needs it \
                 (.ci/scale-out.sh installs Debian's package)"
            )
        })
}

// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs nginx and PostgreSQL: .ci/scale-out.sh runs it"]
async fn two_replicas_behind_nginx_share_one_database_and_survive_a_rolling_stop() {
    let admin_url = admin_url();
    let _ = nginx_binary(); // fail before anything is started
    let http = client();
    let db = PgDatabase::create(&admin_url, "posts_scale_out").await;

    // 1. Two replicas at the same moment on a fresh database, both migrating at start.
    let (mut a, mut b) = steps::start_both(&http, &db.url).await;

    // 2. nginx in front of both.
    let nginx = steps::balance_over_both(&http, &a, &b).await;

    // 3. A user registered and logged in on A works on B; what one writes the other reads.
    let token = steps::share_state(&http, &a, &b).await;

    // 3b. Sessions: refreshed, reused, ended and revoked through one replica, on the other.
    sessions::sessions_span_replicas(&http, &a, &b).await;

    // 3c. One login budget for both replicas.
    sessions::one_login_budget(&http, &a, &b, &nginx.base()).await;

    // 3d. One idempotency store: a retry through the other replica is a replay.
    retries::a_retry_through_the_other_replica_is_replayed(&http, &db.url, &a, &b, &token).await;

    // 4. Votes across replicas, exactly once.
    steps::vote_exactly_once(&http, &a, &b, &nginx, &token).await;

    // 5. A rolling stop under load through nginx.
    rolling_stop::stop_a_under_load(&http, &db.url, &mut a, &b, &nginx, &token).await;

    // B stops cleanly too.
    b.sigterm();
    let status = wait_exit(
        &mut b.child,
        SHUTDOWN_DRAIN + SHUTDOWN_TIMEOUT + Duration::from_secs(2),
    )
    .await
    .expect("B exits after SIGTERM");
    assert!(status.success(), "B's exit status {status}:\n{}", b.log());
    drop(nginx);
}
