//! Posts: create, list (paging, search, drafts), read, latest, replace, patch, delete, and the
//! order of checks 401 → 422 → 404 → 403. This module holds what the test modules share: the
//! contract's key orders and timestamp format, and reading lists.

mod access;
mod change;
mod conditional;
mod create;
mod cursor;
mod list;
mod read;
mod search;

use reqwest::StatusCode;
use serde_json::Value;
use tests::{TestApp, TestUser, json_of};

const FORBIDDEN: &str = "Not authorized to perform requested action";

/// The key order of a Post: its own fields, then the owner's.
const POST_KEYS: [&str; 10] = [
    "title",
    "content",
    "published",
    "id",
    "created_at",
    "owner_id",
    "owner",
    "id",
    "email",
    "created_at",
];

/// The key order of a PostWithVotes.
fn post_with_votes_keys() -> Vec<&'static str> {
    let mut keys = vec!["Post"];
    keys.extend(POST_KEYS);
    keys.push("votes");
    keys
}

/// RFC 3339, UTC written as `+00:00`, exactly six fractional digits.
fn assert_utc_micros(ts: &Value) {
    let ts = ts
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is a string: {ts}"));
    assert!(
        chrono::DateTime::parse_from_rfc3339(ts).is_ok(),
        "not RFC 3339: {ts}"
    );
    let frac = ts
        .strip_suffix("+00:00")
        .and_then(|rest| rest.split_once('.'))
        .map(|(_, frac)| frac);
    assert!(
        frac.is_some_and(|f| f.len() == 6 && f.chars().all(|c| c.is_ascii_digit())),
        "want YYYY-MM-DDTHH:MM:SS.ffffff+00:00, got {ts}"
    );
}

fn id_of(post: &Value) -> i64 {
    post["id"].as_i64().expect("post id")
}

async fn list(app: &TestApp, user: &TestUser, query: &[(&str, &str)]) -> Vec<Value> {
    let res = app.list_posts(user, query).await;
    assert_eq!(res.status(), StatusCode::OK, "list {query:?}");
    match json_of(res).await {
        Value::Array(items) => items,
        other => panic!("list is not an array: {other}"),
    }
}

fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|i| i["Post"]["id"].as_i64().expect("Post.id"))
        .collect()
}

fn titles(items: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = items
        .iter()
        .map(|i| i["Post"]["title"].as_str().expect("Post.title").to_owned())
        .collect();
    t.sort();
    t
}

fn not_found(id: impl std::fmt::Display) -> String {
    format!("post with id: {id} was not found")
}
