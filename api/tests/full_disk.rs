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
//! Every wait is bounded; the server is killed, the database dropped and the file system
//! unmounted on drop, also when an assertion fails.

// Test code: a failed unwrap or expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::{Value, json};
use tests::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use tests::{PgDatabase, TempDir, admin_execute_detached, api_binary, capture, sigterm, unique};

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

/// A tmpfs mounted on a scratch directory; unmounted on drop.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = TempDir::new("posts-full-disk");
        mount(
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0777"),
                "tmpfs",
            ],
            dir.path(),
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Grows (or shrinks) the file system in place: the files on it stay open and intact.
    fn resize(&self, size: &str) {
        mount(&["-o", &format!("remount,size={size}")], self.path());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .expect("run mount (this test needs util-linux's mount, as root)");
    assert!(
        out.status.success(),
        "mount {args:?} {} failed (this test needs root): {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL tablespace in a directory of the tmpfs; dropped on drop (after the
/// databases using it, which are declared after it).
struct Tablespace {
    admin_url: String,
    name: String,
}

impl Tablespace {
    async fn create(admin_url: &str, disk: &Tmpfs) -> Self {
        let dir = disk.path().join("pg");
        std::fs::create_dir(&dir).expect("tablespace directory");
        let chown = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("run chown");
        assert!(chown.success(), "chown postgres {}", dir.display());
        let name = unique("posts_full_disk");
        let admin = Database::connect(admin_url).await.expect("admin connects");
        admin
            .execute_unprepared(&format!(
                "CREATE TABLESPACE {name} LOCATION '{}'",
                dir.display()
            ))
            .await
            .expect("create the tablespace (PostgreSQL must run on this machine)");
        admin.close().await.ok();
        Tablespace {
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for Tablespace {
    fn drop(&mut self) {
        let sql = format!("DROP TABLESPACE IF EXISTS {}", self.name);
        if !admin_execute_detached(&self.admin_url, sql) {
            eprintln!("warning: could not drop tablespace {}", self.name);
        }
    }
}

/// The server binary, its log captured; killed on drop if still running.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl Server {
    fn start(database_url: &str) -> Self {
        let dir = TempDir::new("posts-full-disk-cwd");
        let mut child = api_binary(env!("CARGO_BIN_EXE_api"), dir.path())
            .env("DATABASE_URL", database_url)
            .env("PORT", "0")
            .env("SECRET_KEY", "full-disk-test-secret-key-0123456789abcdef")
            .env("BCRYPT_COST", "4")
            .env("WORKERS", "2")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        capture(child.stderr.take().expect("stderr"), Arc::clone(&log), tx);
        let port = rx.recv_timeout(BOUND).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!(
                "the server did not start ({e:?}): {:?}",
                log.lock().map(|l| l.join("\n"))
            )
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// SIGTERM, then waits for the exit (bounded).
    fn stop(&mut self) {
        sigterm(&self.child);
        let deadline = std::time::Instant::now() + BOUND;
        while matches!(self.child.try_wait(), Ok(None)) {
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    body: Value,
}

/// One write a client may send.
#[derive(Debug, Clone)]
enum Write {
    /// `POST /posts/` by the author: a title and the length of its content.
    Post(String, usize),
    /// `POST /users/` with this email.
    Register(String),
    /// `POST /vote/` by the voter, on this post.
    Vote(i64),
    /// `PUT /posts/{id}` by the author, with this title.
    Replace(i64, String),
    /// `DELETE /posts/{id}` by the author.
    Delete(i64),
}

impl Write {
    fn kind(&self) -> &'static str {
        match self {
            Write::Post(..) => "POST /posts/",
            Write::Register(_) => "POST /users/",
            Write::Vote(_) => "POST /vote/",
            Write::Replace(..) => "PUT /posts/{id}",
            Write::Delete(_) => "DELETE /posts/{id}",
        }
    }

    /// The status that acknowledges it.
    fn acknowledged(&self) -> u16 {
        match self {
            Write::Post(..) | Write::Register(_) | Write::Vote(_) => 201,
            Write::Replace(..) => 200,
            Write::Delete(_) => 204,
        }
    }
}

/// What the server acknowledged, to be found in the database afterwards.
#[derive(Default)]
struct Ledger {
    /// Post id → its title as last acknowledged.
    posts: HashMap<i64, String>,
    /// Post id → acknowledged votes on it.
    votes: HashMap<i64, i64>,
    /// Acknowledged registrations.
    emails: Vec<String>,
    /// Refusals, by kind of write.
    refused: HashMap<&'static str, usize>,
}

impl Ledger {
    /// Records `write` as acknowledged, or checks that `reply` is the full disk's refusal;
    /// returns whether it was acknowledged.
    fn settle(&mut self, write: Write, reply: &Reply) -> bool {
        if reply.status != write.acknowledged() {
            assert_eq!(
                (reply.status, &reply.body),
                (507, &json!({"detail": "insufficient storage"})),
                "{write:?}: neither acknowledged nor the full disk's refusal"
            );
            *self.refused.entry(write.kind()).or_default() += 1;
            return false;
        }
        match write {
            Write::Post(title, _) => {
                assert_eq!(reply.body["title"], title.as_str(), "{reply:?}");
                let id = reply.body["id"].as_i64().expect("post id");
                self.posts.insert(id, title);
            }
            Write::Register(email) => self.emails.push(email),
            Write::Vote(id) => *self.votes.entry(id).or_default() += 1,
            Write::Replace(id, title) => {
                self.posts.insert(id, title);
            }
            Write::Delete(id) => {
                self.posts.remove(&id);
                self.votes.remove(&id);
            }
        }
        true
    }
}

/// The server, with the tokens of the two users who write.
struct Api {
    client: Client,
    base: String,
    author: String,
    voter: String,
}

impl Api {
    async fn send(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .timeout(BOUND);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Reply { status, body }
    }

    async fn apply(&self, write: &Write) -> Reply {
        let (method, path, token, body) = match write {
            Write::Post(title, len) => {
                let body = json!({"title": title, "content": incompressible(title, *len)});
                (Method::POST, "/posts/".to_owned(), &self.author, Some(body))
            }
            Write::Register(email) => {
                let body = json!({"email": email, "password": PASSWORD});
                (
                    Method::POST,
                    "/users/".to_owned(),
                    &String::new(),
                    Some(body),
                )
            }
            Write::Vote(id) => {
                let body = json!({"post_id": id, "dir": 1});
                (Method::POST, "/vote/".to_owned(), &self.voter, Some(body))
            }
            Write::Replace(id, title) => {
                let body = json!({"title": title, "content": incompressible(title, 2_000)});
                (
                    Method::PUT,
                    format!("/posts/{id}"),
                    &self.author,
                    Some(body),
                )
            }
            Write::Delete(id) => (Method::DELETE, format!("/posts/{id}"), &self.author, None),
        };
        self.send(method, &path, token, body).await
    }

    /// Sends `write`, records it in `ledger`; returns whether it was acknowledged.
    async fn write(&self, ledger: &mut Ledger, write: Write) -> bool {
        let reply = self.apply(&write).await;
        ledger.settle(write, &reply)
    }
}

/// Logs in; `None` when refused.
async fn login(client: &Client, base: &str, email: &str) -> Option<String> {
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", email), ("password", PASSWORD)])
        .timeout(BOUND)
        .send()
        .await
        .expect("the server answers");
    if res.status() != 200 {
        return None;
    }
    let body: Value = res.json().await.expect("JSON");
    body["access_token"].as_str().map(str::to_owned)
}

/// Registers `name@example.com` and logs in; returns the token.
async fn register_and_login(api: &Api, ledger: &mut Ledger, name: &str) -> String {
    let email = format!("{name}@example.com");
    assert!(
        api.write(ledger, Write::Register(email.clone())).await,
        "register {email}"
    );
    login(&api.client, &api.base, &email).await.expect("log in")
}

/// `len` characters that compress badly (PostgreSQL would squeeze a repeated one into a
/// few bytes), different for each `seed`.
fn incompressible(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x = seed.bytes().fold(0x9e37_79b9_7f4a_7c15_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// Sends `make(0)`, `make(1)`, ... until [`REFUSED_IN_A_ROW`] in a row are refused.
async fn fill(api: &Api, ledger: &mut Ledger, make: impl Fn(usize) -> Write) {
    let mut in_a_row = 0;
    for i in 0..MOST_WRITES {
        if api.write(ledger, make(i)).await {
            in_a_row = 0;
        } else {
            in_a_row += 1;
            if in_a_row == REFUSED_IN_A_ROW {
                return;
            }
        }
    }
    panic!(
        "{MOST_WRITES} writes like {:?} did not fill a {SMALL} disk",
        make(0)
    );
}

/// Every acknowledged write is there, through the API.
async fn assert_acknowledged_readable(api: &Api, ledger: &Ledger) {
    for (id, title) in &ledger.posts {
        let path = format!("/posts/{id}");
        let reply = api.send(Method::GET, &path, &api.author, None).await;
        assert_eq!(reply.status, 200, "acknowledged post {id}: {reply:?}");
        assert_eq!(reply.body["Post"]["title"], title.as_str(), "post {id}");
        let votes = ledger.votes.get(id).copied().unwrap_or(0);
        assert_eq!(reply.body["votes"], votes, "votes on post {id}");
    }
    for email in &ledger.emails {
        assert!(
            login(&api.client, &api.base, email).await.is_some(),
            "acknowledged registration {email} cannot log in"
        );
    }
}

/// Reads answer while the disk is full.
async fn assert_reads_work(api: &Api) {
    let page = api
        .send(Method::GET, "/posts/?limit=5", &api.author, None)
        .await;
    assert_eq!(page.status, 200, "GET /posts/ on a full disk: {page:?}");
    assert_eq!(page.body.as_array().map(Vec::len), Some(5), "{page:?}");
    let me = api.send(Method::GET, "/users/me", &api.author, None).await;
    assert_eq!(me.status, 200, "GET /users/me on a full disk: {me:?}");
    let ready = api.send(Method::GET, "/ready", "", None).await;
    assert_eq!(ready.status, 200, "GET /ready on a full disk: {ready:?}");
}

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
    assert_acknowledged_readable(&api, &ledger).await;
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
    assert_acknowledged_readable(&api, &ledger).await;
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
