//! Two server processes on one database: SQLite's file shared by two processes (WAL, busy
//! timeout, migrations under the file's write lock), or one PostgreSQL database (the
//! advisory lock).

use std::sync::Barrier;
use std::thread;

use reqwest::Method;
use serde_json::{Value, json};

use tests::send_sync;

use super::{BOUND, HTTP, PASSWORD, Server, post_body, request, test_db};

/// Two servers started at the same moment on one fresh database, three times: both migrate
/// it (the second waits for the first's lock, then finds nothing pending), both come up, and
/// what is written through one is read through the other: a user registered through the
/// first logs in through the second, a post created through the second is read through the
/// first, a vote cast through the first is counted through the second.
#[test]
fn two_servers_started_at_once_on_one_fresh_database_share_it() {
    for round in 0..3 {
        let database = test_db();
        let url = database.url();
        let barrier = Barrier::new(2);
        let (a, b) = thread::scope(|s| {
            let start = || {
                barrier.wait();
                Server::start(url, &[], BOUND)
            };
            let a = s.spawn(start);
            let b = s.spawn(start);
            (a.join(), b.join())
        });
        let (a, b) = (
            a.unwrap_or_else(|_| panic!("round {round}: the first did not start")),
            b.unwrap_or_else(|_| panic!("round {round}: the second did not start")),
        );
        let email = format!("shared{round}@example.com");
        let user = json!({"email": email, "password": PASSWORD});
        let registered = request(a.addr(), Method::POST, "/users/", None, Some(&user));
        assert_eq!(registered.ok().map(|r| r.0), Some(201), "round {round}");
        let form = [("username", email.as_str()), ("password", PASSWORD)];
        let login = HTTP.post(format!("http://{}/login", b.addr())).form(&form);
        let logged_in = send_sync(login).expect("login");
        assert_eq!(logged_in.0, 200, "round {round}: {logged_in:?}");
        let token = json_of(&logged_in)["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let created = call(
            &b,
            Method::POST,
            "/posts/",
            &token,
            Some(&post_body("shared")),
        );
        assert_eq!(created.0, 201, "round {round}: {created:?}");
        let id = json_of(&created)["id"].as_i64().expect("id");
        let read = call(&a, Method::GET, &format!("/posts/{id}"), &token, None);
        assert_eq!(read.0, 200, "round {round}: {read:?}");
        assert_eq!(json_of(&read)["Post"]["title"], "shared");
        let vote = json!({"post_id": id, "dir": 1});
        let voted = call(&a, Method::POST, "/vote/", &token, Some(&vote));
        assert_eq!(voted.0, 201, "round {round}: {voted:?}");
        let counted = call(&b, Method::GET, &format!("/posts/{id}"), &token, None);
        assert_eq!(json_of(&counted)["votes"], 1, "round {round}: {counted:?}");
        if round == 0 {
            writes_through_both_at_once(&a, &b, &token);
        }
        for (name, server) in [("first", &a), ("second", &b)] {
            let log = server.stderr();
            assert!(
                !log.contains("ERROR") && !log.contains("error:"),
                "round {round}, {name} server: {log}"
            );
        }
    }
}

/// Posts created through both servers at once, 8 writers at a time: every one is 201 (the
/// busy timeout waits for the other process's write lock, never a "database is locked"), and
/// every one is there.
fn writes_through_both_at_once(a: &Server, b: &Server, token: &str) {
    const WRITERS: usize = 8;
    const EACH: usize = 12;
    let statuses: Vec<u16> = thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let server = if w % 2 == 0 { a } else { b };
                s.spawn(move || {
                    (0..EACH)
                        .map(|n| {
                            let body = post_body(&format!("busy {w} {n}"));
                            call(server, Method::POST, "/posts/", token, Some(&body)).0
                        })
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().expect("a writer"))
            .collect()
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let listed = call(a, Method::GET, "/posts/?limit=100&search=busy", token, None);
    let posts = json_of(&listed);
    assert_eq!(
        posts.as_array().map(Vec::len),
        Some(WRITERS * EACH),
        "{listed:?}"
    );
}

fn call(
    server: &Server,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, String) {
    request(server.addr(), method, path, Some(token), body).expect("an answer")
}

fn json_of(reply: &(u16, String)) -> Value {
    serde_json::from_str(&reply.1).expect("JSON")
}
