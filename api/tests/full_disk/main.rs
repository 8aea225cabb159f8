//! A full disk: the database's files on a small tmpfs that the test's own writes fill up.
//! `.ci/full-disk.sh` runs it, as root (it mounts file systems):
//!
//! ```sh
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo test -p api --test full_disk -- --ignored
//! ```
//!
//! On SQLite the database file lives on the tmpfs; on PostgreSQL (a server on this machine,
//! reached through `TEST_DATABASE_URL`) the test database's tables and indexes are moved to a
//! tablespace on it. Without root, `mount`, or (for the PostgreSQL test) `TEST_DATABASE_URL`,
//! the test fails; it never skips. What it proves, on both:
//!
//! 1. Filled by `POST /posts/` until every write is refused, then by registrations, votes,
//!    `PUT` and `DELETE`: every write answered 2xx is there afterwards, and no refused one is
//!    (the set of posts in the database is exactly the acknowledged one). This is the bug it
//!    was written for: SQLite answered 201 for posts whose commit had failed.
//! 2. Every refused write is 507 `{"detail": "insufficient storage"}`, and the server logs an
//!    ERROR line naming the cause.
//! 3. Reads keep working while the disk is full.
//! 4. Once the file system has room again (remounted larger), every kind of write works
//!    without a restart.
//! 5. SQLite's `PRAGMA integrity_check` says `ok` afterwards.
//!
//! And, on SQLite: with the database file made read-only under the running server (immutable,
//! which binds root too), `/ready` answers 503 while `/health` stays 200, and it is 200 again
//! once the file is writable again.
//!
//! Every wait is bounded; the server is killed, the database dropped and the file system
//! unmounted on drop, also when an assertion fails.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client;
mod disk;
mod ledger;
mod server;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Client;
use tests::PgDatabase;
use tests::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use client::{Api, assert_acknowledged_readable, assert_reads_work, fill, register_and_login};
use disk::{Tablespace, Tmpfs};
use ledger::{Ledger, Write};
use server::Server;

/// The most any single wait may take; reaching it fails the test.
const BOUND: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct-horse-battery";
/// The file system's size while it fills, and once it has room again.
const SMALL: &str = "2m";
const ROOMY: &str = "64m";
/// Writes in a row refused before the disk counts as full.
const REFUSED_IN_A_ROW: usize = 10;
/// The most writes of one kind the fill sends (a 2 MiB disk takes about a hundred big posts).
const MOST_WRITES: usize = 2_000;

/// The whole scenario against a server on `database_url`, whose storage is `disk`; `cause`
/// is how the database's own message names a full disk.
async fn fill_refuse_recover(disk: &Tmpfs, database_url: &str, cause: &str) {
    let mut server = Server::start(database_url);
    let mut api = Api {
        client: Client::new(),
        base: server.base.clone(),
        author: String::new(),
        voter: String::new(),
    };
    let mut ledger = Ledger::default();
    api.author = register_and_login(&api, &mut ledger, "author").await;
    api.voter = register_and_login(&api, &mut ledger, "voter").await;

    // Big posts fill the disk fast; small ones then take what room is left; then each other
    // kind of write, registrations until they too are refused.
    fill(&api, &mut ledger, |i| {
        Write::Post(format!("big {i}"), 16_000)
    })
    .await;
    fill(&api, &mut ledger, |i| Write::Post(format!("small {i}"), 10)).await;
    fill(&api, &mut ledger, |i| {
        Write::Register(format!("fill-{i}@example.com"))
    })
    .await;
    let mut ids: Vec<i64> = ledger.posts.keys().copied().collect();
    ids.sort_unstable();
    for &id in ids.iter().take(3) {
        api.write(&mut ledger, Write::Vote(id)).await;
    }
    for &id in ids.iter().rev().take(3) {
        api.write(&mut ledger, Write::Replace(id, format!("replaced {id}")))
            .await;
    }
    // Deleting frees room, but SQLite's write-ahead log and PostgreSQL's pages need some
    // to record it: acknowledged or refused, both are right.
    api.write(&mut ledger, Write::Delete(ids[ids.len() / 2]))
        .await;
    eprintln!(
        "full disk: {} posts and {} registrations acknowledged; refused: {:?}",
        ledger.posts.len(),
        ledger.emails.len(),
        ledger.refused
    );
    for kind in [
        "POST /posts/",
        "POST /users/",
        "POST /vote/",
        "PUT /posts/{id}",
    ] {
        assert!(
            ledger.refused.get(kind).is_some_and(|&n| n > 0),
            "the full disk refused no {kind}: {:?}",
            ledger.refused
        );
    }
    assert_reads_work(&api).await;
    assert_acknowledged_readable(&api, &ledger, true).await;
    let log = server.log();
    assert!(
        log.lines().any(|l| l.contains("ERROR")
            && l.contains("database storage full")
            && l.contains(cause)),
        "no ERROR line naming the cause ({cause}) in the log:\n{log}"
    );

    // Room again: every kind of write works, with no restart.
    disk.resize(ROOMY);
    let title = "after".to_owned();
    let writes = [
        Write::Register("after@example.com".to_owned()),
        Write::Post(title.clone(), 10_000),
    ];
    for write in writes {
        assert!(
            api.write(&mut ledger, write).await,
            "refused once there was room"
        );
    }
    let (&id, _) = ledger
        .posts
        .iter()
        .find(|(_, t)| **t == title)
        .expect("the post written after");
    for write in [
        Write::Vote(id),
        Write::Replace(id, "after, replaced".to_owned()),
    ] {
        assert!(
            api.write(&mut ledger, write).await,
            "refused once there was room"
        );
    }
    assert_acknowledged_readable(&api, &ledger, false).await;
    server.stop();

    // The database itself: exactly the acknowledged posts, intact.
    let db = Database::connect(database_url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, title FROM posts",
        ))
        .await
        .expect("read posts");
    let stored: HashMap<i64, String> = rows
        .iter()
        .map(|r| {
            let id: i32 = r.try_get("", "id").expect("id");
            (i64::from(id), r.try_get("", "title").expect("title"))
        })
        .collect();
    assert_eq!(
        stored, ledger.posts,
        "the posts stored are not the acknowledged ones"
    );
    if db.get_database_backend() == DbBackend::Sqlite {
        let check = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .expect("integrity_check")
            .expect("a row");
        let verdict: String = check.try_get_by_index(0).expect("verdict");
        assert_eq!(verdict, "ok", "PRAGMA integrity_check");
    }
    db.close().await.ok();
}

#[tokio::test]
#[ignore = "mounts a tmpfs, so needs root: run by .ci/full-disk.sh"]
async fn sqlite_with_a_read_only_file_is_not_ready_until_it_is_writable_again() {
    let disk = Tmpfs::mount(ROOMY);
    let url = format!("sqlite://{}/posts.db?mode=rwc", disk.path().display());
    let server = Server::start(&url);
    let client = Client::new();
    let status = |path: &'static str| {
        let request = client.get(format!("{}{path}", server.base)).send();
        async move { request.await.expect("answer").status().as_u16() }
    };
    assert_eq!(status("/ready").await, 200);
    disk.set_immutable("posts.db", true);
    let res = client
        .get(format!("{}/ready", server.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        res.status().as_u16(),
        503,
        "/ready on a read-only file system"
    );
    let body: serde_json::Value = res.json().await.expect("JSON body");
    assert_eq!(body["detail"], "database unavailable", "{body}");
    assert_eq!(status("/health").await, 200);
    disk.set_immutable("posts.db", false);
    assert_eq!(status("/ready").await, 200, "/ready once writable again");
}

#[tokio::test]
#[ignore = "mounts a tmpfs, so needs root: run by .ci/full-disk.sh"]
async fn sqlite_on_a_full_disk_refuses_writes_it_cannot_keep_and_recovers() {
    let disk = Tmpfs::mount(SMALL);
    let url = format!("sqlite://{}/posts.db?mode=rwc", disk.path().display());
    fill_refuse_recover(&disk, &url, "database or disk is full").await;
}

#[tokio::test]
#[ignore = "mounts a tmpfs for a tablespace, so needs root: run by .ci/full-disk.sh"]
async fn postgres_on_a_full_disk_refuses_writes_it_cannot_keep_and_recovers() {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL: an admin URL of a PostgreSQL server on this machine");
    let disk = Tmpfs::mount(SMALL);
    let space = Tablespace::create(&admin_url, &disk).await;
    let database = PgDatabase::create(&admin_url, "posts_full_disk").await;
    // Migrated as the server would, then every table and index moved onto the small disk
    // (the database's catalogs stay where they are).
    {
        let db = Database::connect(&database.url).await.expect("connect");
        migration::run(&db, migration::Command::Up(None))
            .await
            .expect("migrate");
        for kind in ["TABLE", "INDEX"] {
            db.execute_unprepared(&format!(
                "ALTER {kind} ALL IN TABLESPACE pg_default SET TABLESPACE {}",
                space.name
            ))
            .await
            .expect("move onto the small disk");
        }
        db.close().await.ok();
    }
    fill_refuse_recover(&disk, &database.url, "No space left on device").await;
}
