//! The API client: the writes sent, the logins, the fill, and the checks of what it reads.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use super::ledger::{Ledger, Reply, Write};
use super::{BOUND, MOST_WRITES, PASSWORD, REFUSED_IN_A_ROW, SMALL};

/// The server, with the tokens of the two users who write.
pub(super) struct Api {
    pub(super) client: Client,
    pub(super) base: String,
    pub(super) author: String,
    pub(super) voter: String,
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
    pub(super) async fn write(&self, ledger: &mut Ledger, write: Write) -> bool {
        let reply = self.apply(&write).await;
        ledger.settle(write, &reply)
    }
}

/// Logs in: the status, and the token when there is one.
async fn login(client: &Client, base: &str, email: &str) -> (u16, Option<String>) {
    let res = client
        .post(format!("{base}/login"))
        .form(&[("username", email), ("password", PASSWORD)])
        .timeout(BOUND)
        .send()
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    let body: Value = res.json().await.expect("JSON");
    (status, body["access_token"].as_str().map(str::to_owned))
}

/// Registers `name@example.com` and logs in; returns the token.
pub(super) async fn register_and_login(api: &Api, ledger: &mut Ledger, name: &str) -> String {
    let email = format!("{name}@example.com");
    assert!(
        api.write(ledger, Write::Register(email.clone())).await,
        "register {email}"
    );
    login(&api.client, &api.base, &email)
        .await
        .1
        .expect("log in")
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
pub(super) async fn fill(api: &Api, ledger: &mut Ledger, make: impl Fn(usize) -> Write) {
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

/// Every acknowledged write is there, through the API. A login starts a session, a write:
/// while the disk is full it is 507, which still tells a stored account (its password
/// checked) from a lost one (403).
pub(super) async fn assert_acknowledged_readable(api: &Api, ledger: &Ledger, disk_full: bool) {
    for (id, title) in &ledger.posts {
        let path = format!("/posts/{id}");
        let reply = api.send(Method::GET, &path, &api.author, None).await;
        assert_eq!(reply.status, 200, "acknowledged post {id}: {reply:?}");
        assert_eq!(reply.body["Post"]["title"], title.as_str(), "post {id}");
        let votes = ledger.votes.get(id).copied().unwrap_or(0);
        assert_eq!(reply.body["votes"], votes, "votes on post {id}");
    }
    let logged_in: &[u16] = if disk_full { &[200, 507] } else { &[200] };
    for email in &ledger.emails {
        let (status, _) = login(&api.client, &api.base, email).await;
        assert!(
            logged_in.contains(&status),
            "acknowledged registration {email}: login answered {status}"
        );
    }
}

/// Reads answer while the disk is full.
pub(super) async fn assert_reads_work(api: &Api) {
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
