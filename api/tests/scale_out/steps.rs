//! Steps 1 to 4: both replicas migrating at once, nginx over them, shared state, votes.

use std::sync::Arc;
use std::time::Instant;

use migration::MigratorTrait;
use reqwest::{Client, StatusCode};
use tests::unique;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::nginx::Nginx;
use super::replicas::{Replica, column};
use super::requests::{create_post, login, register, vote, votes_on};
use super::{BOUND, VOTERS};

/// Step 1: replicas A and B spawned at the same moment on the fresh database at
/// `database_url`; returned once both are ready and the migrations checked.
pub(super) async fn start_both(http: &Client, database_url: &str) -> (Replica, Replica) {
    let t0 = Instant::now();
    let mut a = Replica::spawn("A", database_url);
    let mut b = Replica::spawn("B", database_url);
    a.wait_ready(http, BOUND).await;
    b.wait_ready(http, BOUND).await;
    eprintln!(
        "step 1: replicas A ({}) and B ({}) ready {:?} after both were spawned",
        a.port,
        b.port,
        t0.elapsed()
    );
    let expected: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let applied = column(
        database_url,
        "SELECT version FROM seaql_migrations ORDER BY version",
    )
    .await;
    assert_eq!(applied, expected, "each migration recorded exactly once");
    let (log_a, log_b) = (a.log(), b.log());
    for name in &expected {
        let needle = format!("Applying migration '{name}'");
        let times = log_a.matches(&needle).count() + log_b.matches(&needle).count();
        // sea-orm-migration logs each migration it applies (at info): across both replicas,
        // once. Only checked when its log lines reach the output at all.
        if log_a.contains("Applying migration") || log_b.contains("Applying migration") {
            assert_eq!(
                times, 1,
                "{name} applied {times} times:\nA:\n{log_a}\nB:\n{log_b}"
            );
        }
    }
    for (name, log) in [("A", &log_a), ("B", &log_b)] {
        assert!(!log.contains("panicked"), "replica {name}:\n{log}");
    }
    let applied_by = |log: &str| log.matches("Applying migration '").count();
    eprintln!(
        "step 1: seaql_migrations holds each of the {} migrations once; applied by A: {}, \
         by B: {} (per their logs)",
        expected.len(),
        applied_by(&log_a),
        applied_by(&log_b)
    );
    (a, b)
}

/// Step 2: nginx in front of `a` and `b`, spreading requests over both.
pub(super) async fn balance_over_both(http: &Client, a: &Replica, b: &Replica) -> Nginx {
    let nginx = Nginx::start(http, &[a.upstream(), b.upstream()]).await;
    let mut served_by = Vec::new();
    for _ in 0..6 {
        let r = http
            .get(format!("{}/ready", nginx.base()))
            .send()
            .await
            .expect("ready through nginx");
        assert_eq!(r.status(), StatusCode::OK);
        served_by.push(
            r.headers()
                .get("x-upstream")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert!(
        served_by.contains(&a.upstream()) && served_by.contains(&b.upstream()),
        "nginx spreads requests over both replicas: {served_by:?}"
    );
    eprintln!("step 2: nginx on {} balancing over A and B", nginx.port);
    nginx
}

/// Step 3: a user registered and logged in through `a`, its token used on `b`; returns the
/// token.
pub(super) async fn share_state(http: &Client, a: &Replica, b: &Replica) -> String {
    let email = format!("{}@example.com", unique("owner"));
    let user_id = register(http, &a.base(), &email).await;
    let token = login(http, &a.base(), &email).await;
    let r = http
        .get(format!("{}/posts/", b.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list on B");
    assert_eq!(r.status(), StatusCode::OK, "A's token on B");
    let on_b = create_post(http, &b.base(), &token, "written through B").await;
    let r = http
        .get(format!("{}/posts/{on_b}", a.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get on A");
    assert_eq!(r.status(), StatusCode::OK, "B's post read through A");
    let r = http
        .get(format!("{}/users/{user_id}", b.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("user on B");
    assert_eq!(r.status(), StatusCode::OK, "A's user read through B");
    eprintln!("step 3: token from A accepted by B; writes through one read through the other");
    token
}

/// Step 4: votes through `a`, `b` and `nginx`, by voters registered for it, on posts of
/// `token`'s user.
pub(super) async fn vote_exactly_once(
    http: &Client,
    a: &Replica,
    b: &Replica,
    nginx: &Nginx,
    token: &str,
) {
    let paths = [a.base(), b.base(), nginx.base()];
    let mut voters = Vec::new();
    for i in 0..VOTERS {
        let email = format!("{}@example.com", unique("voter"));
        let base = &paths[i % 3];
        register(http, base, &email).await;
        voters.push(login(http, base, &email).await);
    }
    let post = create_post(http, &nginx.base(), token, "voted on").await;
    // 4a. Each voter once, all at the same moment, through A, B and nginx in turn: all 201.
    let statuses = race(http, &voters, |i| vec![(paths[i % 3].clone(), post, 1)]).await;
    for (i, s) in statuses.iter().enumerate() {
        assert_eq!(
            s,
            &[StatusCode::CREATED],
            "voter {i} through {}",
            paths[i % 3]
        );
    }
    // The same votes again, each through another path: all 409.
    let statuses = race(http, &voters, |i| {
        vec![(paths[(i + 1) % 3].clone(), post, 1)]
    })
    .await;
    for (i, s) in statuses.iter().enumerate() {
        assert_eq!(s, &[StatusCode::CONFLICT], "duplicate vote of voter {i}");
    }
    assert_eq!(
        votes_on(http, &nginx.base(), token, post).await,
        VOTERS as i64
    );
    // 4b. Each voter's vote sent through A and B at the same moment: one 201, one 409.
    let raced = create_post(http, &nginx.base(), token, "raced").await;
    let statuses = race(http, &voters, |_| {
        vec![(a.base(), raced, 1), (b.base(), raced, 1)]
    })
    .await;
    for (i, s) in statuses.iter().enumerate() {
        let mut s = s.clone();
        s.sort();
        assert_eq!(
            s,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "voter {i}'s vote raced through A and B"
        );
    }
    assert_eq!(votes_on(http, &a.base(), token, raced).await, VOTERS as i64);
    // Its removal raced the same way: one 201, one 404 (no such vote any more).
    let statuses = race(http, &voters, |_| {
        vec![(b.base(), raced, 0), (a.base(), raced, 0)]
    })
    .await;
    for (i, s) in statuses.iter().enumerate() {
        let mut s = s.clone();
        s.sort();
        assert_eq!(
            s,
            [StatusCode::CREATED, StatusCode::NOT_FOUND],
            "voter {i}'s removal raced through A and B"
        );
    }
    assert_eq!(votes_on(http, &b.base(), token, raced).await, 0);
    eprintln!(
        "step 4: {VOTERS} concurrent votes through A, B and nginx: all 201, duplicates 409; \
         {VOTERS} votes raced through A and B at once: one 201 + one 409 each, removals one \
         201 + one 404 each; counts exact"
    );
}

/// For each voter `i`, sends the votes `plan(i)` — `(base, post, dir)` — all of every voter's
/// at the same moment (a barrier), and returns each voter's statuses in plan order.
async fn race(
    http: &Client,
    voters: &[String],
    plan: impl Fn(usize) -> Vec<(String, i64, u8)>,
) -> Vec<Vec<StatusCode>> {
    let plans: Vec<_> = (0..voters.len()).map(&plan).collect();
    let total = plans.iter().map(Vec::len).sum();
    let barrier = Arc::new(Barrier::new(total));
    let mut tasks = JoinSet::new();
    for (i, votes) in plans.into_iter().enumerate() {
        for (k, (base, post, dir)) in votes.into_iter().enumerate() {
            let (http, token, barrier) = (http.clone(), voters[i].clone(), Arc::clone(&barrier));
            tasks.spawn(async move {
                barrier.wait().await;
                (i, k, vote(&http, &base, &token, post, dir).await)
            });
        }
    }
    let mut out: Vec<Vec<(usize, StatusCode)>> = vec![Vec::new(); voters.len()];
    let deadline = tokio::time::Instant::now() + BOUND;
    while let Some(done) = tokio::time::timeout_at(deadline, tasks.join_next())
        .await
        .expect("the votes are answered within the bound")
    {
        let (i, k, status) = done.expect("vote task");
        out[i].push((k, status));
    }
    out.into_iter()
        .map(|mut v| {
            v.sort_by_key(|(k, _)| *k);
            v.into_iter().map(|(_, s)| s).collect()
        })
        .collect()
}
