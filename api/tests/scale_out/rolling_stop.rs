//! Step 5: a rolling stop of replica A under a load through nginx, and what it cost.
//!
//! nginx is run as an orchestrator runs a balancer: when A's `/ready` turns 503 (it drains),
//! A is taken out of the upstreams and nginx reloaded, well before A stops listening. Without
//! that, passive failover alone leaves a gap: a connection nginx opens in the instant A closes
//! its listening socket is reset rather than refused, and a POST sent on it fails (nginx
//! rightly does not resend a POST it sent).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use tokio::task::JoinSet;

use super::load::{Op, load_client, probe};
use super::nginx::{Nginx, Reloader};
use super::replicas::{Replica, column, wait_exit};
use super::requests::{client, create_post, fresh_connections};
use super::{BOUND, LOAD_CLIENTS, SHUTDOWN_DRAIN, SHUTDOWN_TIMEOUT};

/// Step 5: SIGTERM to `a` under a read/write load through `nginx`, `b` probed directly
/// throughout, `a` taken out of nginx once its `/ready` says it drains; then every answer
/// classified and the posts in the database checked.
pub(super) async fn stop_a_under_load(
    http: &Client,
    database_url: &str,
    a: &mut Replica,
    b: &Replica,
    nginx: &Nginx,
    token: &str,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let stop_probe = Arc::new(AtomicBool::new(false));
    let mut load = JoinSet::new();
    for w in 0..LOAD_CLIENTS {
        load.spawn(load_client(
            fresh_connections(),
            nginx.base(),
            token.to_owned(),
            w,
            Arc::clone(&stop),
        ));
    }
    let probing = tokio::spawn(probe(
        client(),
        b.base(),
        token.to_owned(),
        Arc::clone(&stop_probe),
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let term = Instant::now();
    a.sigterm();
    let taking_out = tokio::spawn(take_out_when_draining(
        a.base(),
        nginx.reloader(),
        b.upstream(),
    ));
    let status = wait_exit(
        &mut a.child,
        SHUTDOWN_DRAIN + SHUTDOWN_TIMEOUT + Duration::from_secs(2),
    )
    .await
    .unwrap_or_else(|| {
        panic!(
            "A still running {:?} after SIGTERM:\n{}",
            term.elapsed(),
            a.log()
        )
    });
    let exited = Instant::now();
    let exit_took = exited - term;
    assert!(status.success(), "A's exit status {status}:\n{}", a.log());
    let taken_out = tokio::time::timeout(BOUND, taking_out)
        .await
        .expect("A is taken out of nginx")
        .expect("taking A out");
    assert!(
        taken_out < exited,
        "A was taken out of nginx {:?} after the SIGTERM, after it exited ({exit_took:?})",
        taken_out - term
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    let deadline = tokio::time::Instant::now() + BOUND;
    while let Some(done) = tokio::time::timeout_at(deadline, load.join_next())
        .await
        .expect("the load clients finish within the bound")
    {
        samples.extend(done.expect("load client"));
    }
    stop_probe.store(true, Ordering::Relaxed);
    let probed = tokio::time::timeout(BOUND, probing)
        .await
        .expect("the probe finishes")
        .expect("probe");

    // B answered the direct probe throughout.
    assert!(probed.len() > 50, "B probed only {} times", probed.len());
    let probe_failures: Vec<_> = probed.iter().filter(|s| *s != "200").collect();
    assert!(
        probe_failures.is_empty(),
        "B failed its probe while A stopped: {probe_failures:?}"
    );

    // Every request through nginx got an answer; classify them.
    let (a_up, b_up) = (a.upstream(), b.upstream());
    let mut before = (0, 0); // (served by A, by B) before the SIGTERM
    let mut retried = 0; // answers after nginx tried A first, then B
    let mut acknowledged = Vec::new();
    for s in &samples {
        let (status, upstream) = match &s.outcome {
            Ok(answer) => answer,
            Err(e) => panic!("{:?} {:?}: no answer from nginx: {e}", s.op, s.title),
        };
        let last = upstream.rsplit(", ").next().unwrap_or_default();
        if s.ended < term {
            match last {
                u if u == a_up => before.0 += 1,
                u if u == b_up => before.1 += 1,
                _ => {}
            }
        }
        if upstream.contains(&a_up) && last == b_up {
            retried += 1;
        }
        let ok = match s.op {
            Op::Post => *status == StatusCode::CREATED,
            Op::List | Op::Get => *status == StatusCode::OK,
        };
        if ok {
            if let Some(title) = &s.title {
                acknowledged.push(title.clone());
            }
            continue;
        }
        // None fails: A was taken out of nginx while it drained, and the requests nginx had
        // already sent it were answered before it stopped.
        panic!(
            "{:?} {:?} through nginx: {status} from {upstream:?} \
             (started {:?} after the SIGTERM, A exited {exit_took:?} after it)\n\
             nginx error log:\n{}",
            s.op,
            s.title,
            s.started.checked_duration_since(term),
            nginx.error_log()
        );
    }
    assert!(
        before.0 > 0 && before.1 > 0,
        "before the stop, nginx spread the load over both replicas: {before:?}"
    );
    let after: Vec<_> = samples.iter().filter(|s| s.started > exited).collect();
    assert!(
        after.len() > 20,
        "only {} requests after A's exit",
        after.len()
    );
    for s in &after {
        let Ok((_, upstream)) = &s.outcome else {
            unreachable!("checked above")
        };
        assert!(
            upstream.ends_with(&b_up),
            "after A's exit, answered by B: {upstream}"
        );
    }

    // No POST applied twice; every one answered 201 is there.
    let titles = column(
        database_url,
        "SELECT title FROM posts WHERE title LIKE 'load %'",
    )
    .await;
    let distinct: HashSet<&String> = titles.iter().collect();
    assert_eq!(
        distinct.len(),
        titles.len(),
        "a POST through nginx applied twice"
    );
    for title in &acknowledged {
        assert!(
            distinct.contains(title),
            "{title}: answered 201 but not in the database"
        );
    }

    // The remaining replica keeps serving, directly and through nginx.
    for base in [b.base(), nginx.base()] {
        let r = http
            .get(format!("{base}/ready"))
            .send()
            .await
            .expect("ready");
        assert_eq!(r.status(), StatusCode::OK, "{base}/ready after the stop");
    }
    create_post(http, &nginx.base(), token, "after the stop").await;
    let log_a = a.log();
    assert!(!log_a.contains("panicked"), "A:\n{log_a}");

    let count = |op: Op| samples.iter().filter(|s| s.op == op).count();
    eprintln!(
        "step 5: {} requests through nginx from {LOAD_CLIENTS} clients ({} POST, {} list, {} \
         get) in {:?}; before the SIGTERM A served {}, B {}; A exited 0 {exit_took:?} after \
         SIGTERM (timeout {SHUTDOWN_TIMEOUT:?}), taken out of nginx {:?} after it; {retried} \
         answers came from B after nginx tried A; 0 failed; {} requests after A's exit, all answered by B; B answered all {} \
         direct probes; {} acknowledged POSTs all in the database, none twice",
        samples.len(),
        count(Op::Post),
        count(Op::List),
        count(Op::Get),
        samples
            .iter()
            .map(|s| s.ended)
            .max()
            .zip(samples.iter().map(|s| s.started).min())
            .map(|(end, start)| end - start)
            .unwrap_or_default(),
        before.0,
        before.1,
        taken_out - term,
        after.len(),
        probed.len(),
        acknowledged.len(),
    );
}

/// What an orchestrator does: polls `a`'s `/ready` until it answers 503 (A drains), then
/// reloads nginx with `b` alone; returns when the new configuration answers.
async fn take_out_when_draining(a: String, nginx: Reloader, b: String) -> Instant {
    let http = fresh_connections();
    let deadline = Instant::now() + SHUTDOWN_DRAIN;
    loop {
        let status = http
            .get(format!("{a}/ready"))
            .send()
            .await
            .map(|r| r.status());
        if matches!(status, Ok(StatusCode::SERVICE_UNAVAILABLE)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A's /ready did not turn 503 within its drain ({SHUTDOWN_DRAIN:?}): {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nginx.reload(&[b]).await;
    Instant::now()
}
