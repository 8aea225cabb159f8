//! The writes a client sends, and the ledger of what the server acknowledged.

use std::collections::HashMap;

use serde_json::{Value, json};

#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Value,
}

/// One write a client may send.
#[derive(Debug, Clone)]
pub(super) enum Write {
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
pub(super) struct Ledger {
    /// Post id → its title as last acknowledged.
    pub(super) posts: HashMap<i64, String>,
    /// Post id → acknowledged votes on it.
    pub(super) votes: HashMap<i64, i64>,
    /// Acknowledged registrations.
    pub(super) emails: Vec<String>,
    /// Refusals, by kind of write.
    pub(super) refused: HashMap<&'static str, usize>,
}

impl Ledger {
    /// Records `write` as acknowledged, or checks that `reply` is the full disk's refusal;
    /// returns whether it was acknowledged.
    pub(super) fn settle(&mut self, write: Write, reply: &Reply) -> bool {
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
