//! bcrypt's threads yield to the threads that answer requests, and those take the shortest
//! time slice (Linux: thread priorities are read from `/proc`).

use super::{BOUND, Server, test_db};

/// bcrypt runs on threads with a nice value of 10 (Linux), so that a login flood yields the
/// CPU to every other route, and, from Linux 6.12, with a time slice of 0.1 ms, so that a
/// woken request waits at most that long for one; the threads answering requests keep their
/// nice value and, from Linux 6.12, take the 0.1 ms slice too, where other threads keep the
/// default.
#[test]
fn bcrypt_runs_on_lowered_priority_threads_and_the_workers_on_short_slices() {
    let db = test_db();
    let server = Server::start(db.url(), &[], BOUND);
    server.user("nice"); // a registration and a login: two hashes on the blocking pool
    // (name, nice value, the time slice it asked for in ns where the kernel shows one)
    let threads: Vec<(String, i64, Option<u64>)> =
        std::fs::read_dir(format!("/proc/{}/task", server.child.id()))
            .expect("the server's threads")
            .filter_map(|t| {
                let path = t.ok()?.path();
                // "tid (name) state ...": fields after the name; nice is field 19 of stat.
                let stat = std::fs::read_to_string(path.join("stat")).ok()?;
                let (head, rest) = stat.rsplit_once(')')?;
                let name = head.split_once('(')?.1.to_owned();
                let nice = rest.split_whitespace().nth(16)?.parse().ok()?;
                // "se.slice   :   100000" in sched.
                let sched = std::fs::read_to_string(path.join("sched")).unwrap_or_default();
                let slice = sched
                    .lines()
                    .find(|l| l.starts_with("se.slice"))
                    .and_then(|l| l.rsplit(':').next()?.trim().parse().ok());
                Some((name, nice, slice))
            })
            .collect();
    assert!(
        threads.iter().any(|(_, nice, _)| *nice == 10),
        "no thread at nice 10: {threads:?}"
    );
    assert!(
        threads
            .iter()
            .any(|(name, nice, _)| name.starts_with("actix") && *nice == 0),
        "the workers must keep their priority: {threads:?}"
    );

    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut version = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    if (version.next(), version.next()) < (Some(6), Some(12)) {
        eprintln!("skipped the slice check: Linux {release} sets no slice of a thread's own");
        return;
    }
    assert!(
        threads
            .iter()
            .filter(|(_, nice, _)| *nice == 10)
            .all(|(_, _, slice)| *slice == Some(100_000)),
        "bcrypt threads with another slice: {threads:?}"
    );
    let workers: Vec<_> = threads
        .iter()
        .filter(|(name, _, _)| name.starts_with("actix-rt"))
        .collect();
    assert!(
        !workers.is_empty() && workers.iter().all(|(_, _, slice)| *slice == Some(100_000)),
        "the workers must take the shortest slice: {threads:?}"
    );
    assert!(
        threads
            .iter()
            .any(|(_, _, slice)| slice.is_some_and(|s| s != 100_000)),
        "other threads keep the default slice: {threads:?}"
    );
}
