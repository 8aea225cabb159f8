//! `GET /posts/` by cursor: the `Link` header, keyset pages that neither repeat nor skip a post
//! while others write, refused cursors, and `Prefer: count=exact`.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tests::{TestApp, TestUser, assert_422, json_of, spawn_app};

use super::{id_of, ids};

/// The `rel` → URL pairs of a `Link` header.
fn links(res: &reqwest::Response) -> Vec<(String, String)> {
    let Some(value) = res.headers().get("link") else {
        return Vec::new();
    };
    value
        .to_str()
        .unwrap()
        .split(", ")
        .map(|link| {
            let (url, rel) = link.split_once("; ").unwrap();
            let url = url.strip_prefix('<').unwrap().strip_suffix('>').unwrap();
            let rel = rel
                .strip_prefix("rel=\"")
                .unwrap()
                .strip_suffix('"')
                .unwrap();
            (rel.to_owned(), url.to_owned())
        })
        .collect()
}

fn rel(res: &reqwest::Response, name: &str) -> Option<String> {
    links(res)
        .into_iter()
        .find(|(r, _)| r == name)
        .map(|(_, u)| u)
}

/// A page by URL (path and query, as `Link` gives it): its ids and `next`/`prev` URLs.
async fn page(
    app: &TestApp,
    user: &TestUser,
    url: &str,
) -> (Vec<i64>, Option<String>, Option<String>) {
    let res = app.get(url, Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    let (next, prev) = (rel(&res, "next"), rel(&res, "prev"));
    let items = json_of(res).await;
    (ids(items.as_array().unwrap()), next, prev)
}

async fn posts(app: &TestApp, user: &TestUser, n: usize, title: &str) -> Vec<i64> {
    let mut made = Vec::new();
    for i in 0..n {
        made.push(id_of(&app.post(user, &format!("{title} {i}"), true).await));
    }
    made
}

#[tokio::test]
async fn following_next_links_walks_the_whole_list_once_and_prev_walks_back() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let mut all = posts(&app, &ann, 7, "post").await;
    all.reverse();
    let (first, mut next, prev) = page(&app, &ann, "/posts/?limit=3").await;
    assert_eq!(first, all[..3]);
    assert_eq!(prev, None, "the first page has none before it");
    let mut seen = first.clone();
    let mut pages = vec![first];
    while let Some(url) = next {
        assert!(
            url.starts_with("/posts/?cursor=") && url.contains("&limit=3"),
            "{url}"
        );
        let (ids, n, p) = page(&app, &ann, &url).await;
        assert!(p.is_some(), "a page after the first has a prev: {url}");
        seen.extend(&ids);
        pages.push(ids);
        next = n;
    }
    assert_eq!(seen, all, "every post once, in order");
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
    // And back: prev from the last page gives the pages before it, the same ones.
    let (_, _, mut prev) = page(&app, &ann, &rel_url(&app, &ann, &pages).await).await;
    let mut back = vec![];
    while let Some(url) = prev {
        let (ids, _, p) = page(&app, &ann, &url).await;
        back.push(ids);
        prev = p;
    }
    assert_eq!(back, [pages[1].clone(), pages[0].clone()]);
}

/// The URL of the last page, reached by `next` links from the first.
async fn rel_url(app: &TestApp, user: &TestUser, pages: &[Vec<i64>]) -> String {
    let mut url = "/posts/?limit=3".to_owned();
    for _ in 1..pages.len() {
        url = page(app, user, &url).await.1.unwrap();
    }
    url
}

#[tokio::test]
async fn cursor_pages_neither_repeat_nor_skip_while_others_create_and_delete() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let mut before = posts(&app, &bob, 12, "old").await;
    before.reverse();
    let (first, mut next, _) = page(&app, &ann, "/posts/?limit=4").await;
    let mut seen = first.clone();
    let mut deleted = BTreeSet::new();
    let mut seen_then_deleted = BTreeSet::new();
    while let Some(url) = next {
        // Between pages: new posts at the top, and a post not yet reached deleted.
        posts(&app, &bob, 2, "new").await;
        if let Some(victim) = before
            .iter()
            .rev()
            .find(|id| !seen.contains(id) && !deleted.contains(*id))
        {
            assert_eq!(
                app.delete_post(&bob, victim).await.status(),
                StatusCode::NO_CONTENT
            );
            deleted.insert(*victim);
        }
        // And posts already seen: the page's last (the one the cursor starts after) and the
        // one before it. The next page still starts right after the boundary.
        for &gone in seen.iter().rev().take(2) {
            if !deleted.contains(&gone) {
                let res = app.delete_post(&bob, gone).await;
                assert_eq!(res.status(), StatusCode::NO_CONTENT);
                seen_then_deleted.insert(gone);
            }
        }
        deleted.extend(seen_then_deleted.iter().copied());
        let (ids, n, _) = page(&app, &ann, &url).await;
        seen.extend(ids);
        next = n;
    }
    let expected: Vec<i64> = before
        .iter()
        .copied()
        .filter(|id| !deleted.contains(id) || seen_then_deleted.contains(id))
        .collect();
    assert!(seen_then_deleted.len() >= 4, "{seen_then_deleted:?}");
    assert_eq!(
        seen, expected,
        "no duplicates, no gaps, none of the new posts"
    );
}

#[tokio::test]
async fn a_cursor_keeps_its_search_and_limit_and_refuses_another_search() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    posts(&app, &ann, 3, "Rust & more").await;
    posts(&app, &ann, 3, "other").await;
    let res = app
        .list_posts(&ann, &[("limit", "2"), ("search", "rust &")])
        .await;
    let next = rel(&res, "next").unwrap();
    assert!(next.ends_with("&limit=2&search=rust+%26"), "{next}");
    let (ids, none, prev) = page(&app, &ann, &next).await;
    assert_eq!((ids.len(), none, prev.is_some()), (1, None, true));
    let cursor = next
        .split("cursor=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    for query in [
        vec![("cursor", cursor.as_str())],
        vec![("cursor", cursor.as_str()), ("search", "other")],
        vec![
            ("cursor", cursor.as_str()),
            ("search", "rust &"),
            ("skip", "0"),
        ],
        vec![
            ("cursor", "AQAAAAAKxxxxxxxxxxxxxxxxxxxxxx"),
            ("search", "rust &"),
        ],
        vec![("cursor", ""), ("search", "rust &")],
    ] {
        let res = app.list_posts(&ann, &query).await;
        assert_422(res, serde_json::json!(["query", "cursor"]), "value_error").await;
    }
    // Flipping any character of the cursor is refused, never a 500.
    for i in 0..cursor.len() {
        let mut bytes = cursor.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(bytes).unwrap();
        let res = app
            .list_posts(&ann, &[("cursor", forged.as_str()), ("search", "rust &")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{forged}");
    }
}

#[tokio::test]
async fn link_is_left_out_where_the_list_does_not_go_on() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    posts(&app, &ann, 2, "p").await;
    for query in [
        vec![],
        vec![("limit", "2")],
        vec![("limit", "0")],
        vec![("skip", "5")],
    ] {
        let res = app.list_posts(&ann, &query).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(links(&res).is_empty(), "{query:?}: {:?}", links(&res));
    }
    let res = app.list_posts(&ann, &[("limit", "1"), ("skip", "1")]).await;
    assert_eq!(
        links(&res).into_iter().map(|(r, _)| r).collect::<Vec<_>>(),
        ["prev"],
        "a skip page past the start has a prev"
    );
}

#[tokio::test]
async fn prefer_count_exact_counts_visible_matching_posts_and_only_then() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    posts(&app, &ann, 3, "match").await;
    app.post(&ann, "match draft", false).await;
    app.post(&bob, "match of bob, a draft", false).await;
    app.post(&bob, "else", true).await;
    let ask = |user: &TestUser, prefer: Option<&str>| {
        let mut req = app.request(
            Method::GET,
            "/posts/?search=MATCH&limit=1",
            Some(&user.token),
        );
        if let Some(p) = prefer {
            req = req.header("Prefer", p);
        }
        req.send()
    };
    let res = ask(&ann, Some("count=exact")).await.unwrap();
    assert_eq!(
        res.headers()["x-total-count"],
        "4",
        "3 published and ann's draft"
    );
    assert_eq!(res.headers()["preference-applied"], "count=exact");
    let res = ask(&bob, Some("return=minimal, Count=\"exact\""))
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-total-count"],
        "4",
        "3 published and bob's draft"
    );
    for prefer in [None, Some("count=planned")] {
        let res = ask(&ann, prefer).await.unwrap();
        assert!(res.headers().get("x-total-count").is_none(), "{prefer:?}");
        assert!(
            res.headers().get("preference-applied").is_none(),
            "{prefer:?}"
        );
    }
    let _: Value = json_of(ask(&ann, None).await.unwrap()).await;
}
