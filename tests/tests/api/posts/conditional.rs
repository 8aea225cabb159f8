//! Conditional requests: ETags and 304 on the five cacheable GETs, If-Match and 412 on the
//! writes, decided by the database even under concurrent writers.

use reqwest::header::{CACHE_CONTROL, ETAG, IF_MATCH, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{TestApp, TestUser, json_of, spawn_app};
use tokio::task::JoinSet;

use super::id_of;

const CHANGED: &str = "the post has changed since the If-Match tag was made";

async fn etag_of(app: &TestApp, user: &TestUser, path: &str) -> String {
    let res = app.get(path, Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()[CACHE_CONTROL], "private, no-cache", "{path}");
    let tag = res.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
        "{tag}"
    );
    tag
}

async fn get_if_none_match(
    app: &TestApp,
    user: &TestUser,
    path: &str,
    tags: &str,
) -> reqwest::Response {
    app.request(Method::GET, path, Some(&user.token))
        .header(IF_NONE_MATCH, tags)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_five_gets_answer_an_etag_and_304_for_it() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = id_of(&app.post(&ann, "tagged", true).await);
    for path in [
        "/posts/".to_owned(),
        "/posts/latest".to_owned(),
        format!("/posts/{id}"),
        "/users/me".to_owned(),
        format!("/users/{}", ann.id),
    ] {
        let tag = etag_of(&app, &ann, &path).await;
        for sent in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".to_owned(),
        ] {
            let res = get_if_none_match(&app, &ann, &path, &sent).await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path} {sent}");
            assert_eq!(res.headers()[ETAG], tag.as_str());
            assert_eq!(res.headers()[CACHE_CONTROL], "private, no-cache");
            assert!(res.bytes().await.unwrap().is_empty());
        }
        let res = get_if_none_match(&app, &ann, &path, "\"stale\"").await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_vote_changes_the_tag_of_the_post_and_of_the_list() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let id = id_of(&app.post(&ann, "vote me", true).await);
    let path = format!("/posts/{id}");
    let (post, list) = (
        etag_of(&app, &ann, &path).await,
        etag_of(&app, &ann, "/posts/").await,
    );
    assert_eq!(app.vote(&bob, id, 1).await.status(), StatusCode::CREATED);
    let res = get_if_none_match(&app, &ann, &path, &post).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["votes"], 1);
    assert_eq!(
        get_if_none_match(&app, &ann, "/posts/", &list)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn send_if_match(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    id: i64,
    tag: &str,
) -> reqwest::Response {
    let mut req = app
        .request(method.clone(), &format!("/posts/{id}"), Some(&user.token))
        .header(IF_MATCH, tag);
    if method != Method::DELETE {
        req = req.json(&json!({"title": "changed", "content": "new content"}));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let id = id_of(&app.post(&ann, "original", true).await);
    let path = format!("/posts/{id}");
    let tag = etag_of(&app, &ann, &path).await;
    // Someone votes: the tag ann holds is stale now.
    assert_eq!(app.vote(&bob, id, 1).await.status(), StatusCode::CREATED);
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        for stale in [tag.as_str(), "\"nope\"", "W/\"x\"", "garbage"] {
            let res = send_if_match(&app, &ann, method.clone(), id, stale).await;
            assert_eq!(
                res.status(),
                StatusCode::PRECONDITION_FAILED,
                "{method} {stale}"
            );
            assert_eq!(json_of(res).await, json!({"detail": CHANGED}));
        }
    }
    let post = json_of(app.get_post(&ann, id).await).await;
    assert_eq!(post["Post"]["title"], "original");
    // The weak form of the current tag never matches an If-Match either.
    let current = etag_of(&app, &ann, &path).await;
    let res = send_if_match(&app, &ann, Method::PATCH, id, &format!("W/{current}")).await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn a_current_if_match_writes_and_answers_the_new_tag() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let id = id_of(&app.post(&ann, "original", true).await);
    let path = format!("/posts/{id}");
    let tag = etag_of(&app, &ann, &path).await;
    let res = send_if_match(&app, &ann, Method::PATCH, id, &format!("\"other\", {tag}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let new = res.headers()[ETAG].to_str().unwrap().to_owned();
    assert_ne!(new, tag);
    assert_eq!(
        new,
        etag_of(&app, &ann, &path).await,
        "the tag GET answers now"
    );
    // Without If-Match, or with *, writes are unconditional and answer the tag too.
    for star in [None, Some("*")] {
        let mut req = app
            .request(Method::PUT, &path, Some(&ann.token))
            .json(&json!({"title": format!("{star:?}"), "content": "c"}));
        if let Some(s) = star {
            req = req.header(IF_MATCH, s);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{star:?}");
        let written = res.headers()[ETAG].to_str().unwrap().to_owned();
        assert_eq!(
            written,
            etag_of(&app, &ann, &path).await,
            "{star:?}: the tag GET answers now"
        );
    }
    let tag = etag_of(&app, &ann, &path).await;
    let res = send_if_match(&app, &ann, Method::DELETE, id, &tag).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_post(&ann, id).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn if_match_comes_after_forbidden_and_a_missing_post_is_412_unless_star() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let id = id_of(&app.post(&ann, "ann's", true).await);
    let res = send_if_match(&app, &bob, Method::PUT, id, "\"stale\"").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // No current representation matches a listed tag (RFC 9110 §13.1.1).
    let draft = id_of(&app.post(&ann, "ann's draft", false).await);
    for missing in [id + 1000, draft] {
        let res = send_if_match(&app, &bob, Method::DELETE, missing, "\"stale\"").await;
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "{missing}");
        let res = send_if_match(&app, &bob, Method::DELETE, missing, "*").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn of_concurrent_writers_with_one_tag_one_wins_and_the_rest_get_412() {
    const N: usize = 20;
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let id = id_of(&app.post(&ann, "contended", true).await);
        let path = format!("/posts/{id}");
        let tag = etag_of(&app, &ann, &path).await;
        let mut set = JoinSet::new();
        for n in 0..N {
            let mut req = app
                .request(method.clone(), &path, Some(&ann.token))
                .header(IF_MATCH, tag.as_str());
            if method != Method::DELETE {
                req = req.json(&json!({"title": format!("writer {n}"), "content": "c"}));
            }
            set.spawn(async move { req.send().await.map(|r| r.status()) });
        }
        let statuses: Vec<StatusCode> = set
            .join_all()
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let won = statuses.iter().filter(|s| s.is_success()).count();
        let lost = statuses
            .iter()
            .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
            .count();
        assert_eq!((won, lost), (1, N - 1), "{method}: {statuses:?}");
    }
}

#[tokio::test]
async fn an_if_match_write_answers_the_tag_of_its_own_version_not_of_a_later_writer() {
    // A conditional PATCH races an unconditional one. Whichever lands last, the conditional
    // writer's tag must be of the version it wrote: were it the other writer's (a read after
    // the write), its next If-Match would overwrite that writer's edit unseen.
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let mut outcomes = (0, 0);
    for round in 0..24 {
        let id = id_of(&app.post(&ann, "raced", true).await);
        let path = format!("/posts/{id}");
        let tag = etag_of(&app, &ann, &path).await;
        let conditional = app
            .request(Method::PATCH, &path, Some(&ann.token))
            .header(IF_MATCH, tag.as_str())
            .json(&json!({"title": "mine"}));
        let other = app
            .request(Method::PATCH, &path, Some(&ann.token))
            .json(&json!({"title": "theirs"}));
        // The other writer starts a little later each round, so that some rounds it lands
        // just after the conditional write, between that write and any read after it.
        let delay = std::time::Duration::from_micros(250 * round);
        let later = async move {
            tokio::time::sleep(delay).await;
            other.send().await
        };
        let (mine, theirs) = tokio::join!(conditional.send(), later);
        assert_eq!(theirs.unwrap().status(), StatusCode::OK, "round {round}");
        let mine = mine.unwrap();
        if mine.status() == StatusCode::PRECONDITION_FAILED {
            continue; // the other writer got in before the check
        }
        assert_eq!(mine.status(), StatusCode::OK, "round {round}");
        let written = mine.headers()[ETAG].to_str().unwrap().to_owned();
        assert_eq!(json_of(mine).await["title"], "mine", "round {round}");
        let now = json_of(app.get_post(&ann, id).await).await;
        let current = etag_of(&app, &ann, &path).await;
        if now["Post"]["title"] == "mine" {
            assert_eq!(written, current, "round {round}: written last");
            outcomes.0 += 1;
        } else {
            assert_ne!(
                written, current,
                "round {round}: overwritten after, by the other writer"
            );
            outcomes.1 += 1;
        }
    }
    assert!(
        outcomes.0 + outcomes.1 > 0,
        "no conditional write won a round"
    );
}

#[tokio::test]
async fn the_lists_tag_covers_its_links_and_its_count() {
    // A post deleted off the page changes neither the page's posts nor its body, but it
    // changes the count and whether a next page exists: a 304 would leave the client both.
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let oldest = id_of(&app.post(&ann, "oldest", true).await);
    for n in 0..2 {
        app.post(&ann, &format!("post {n}"), true).await;
    }
    let path = "/posts/?limit=2";
    // The page with its count, revalidating `held` if given.
    let counted = async |held: Option<&str>| {
        let mut req = app
            .request(Method::GET, path, Some(&ann.token))
            .header("Prefer", "count=exact");
        if let Some(tag) = held {
            req = req.header(IF_NONE_MATCH, tag);
        }
        req.send().await.unwrap()
    };
    let first = counted(None).await;
    assert_eq!(first.headers()["x-total-count"], "3");
    assert!(first.headers().contains_key("link"));
    let tag = first.headers()[ETAG].to_str().unwrap().to_owned();
    // Without the count asked for, the same page is another representation.
    assert_ne!(etag_of(&app, &ann, path).await, tag);
    let res = app.delete_post(&ann, oldest).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let again = counted(Some(&tag)).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the count and the links changed"
    );
    assert_eq!(again.headers()["x-total-count"], "2");
    assert!(!again.headers().contains_key("link"), "no next page now");
    let tag = again.headers()[ETAG].to_str().unwrap().to_owned();
    assert_eq!(counted(Some(&tag)).await.status(), StatusCode::NOT_MODIFIED);
}
