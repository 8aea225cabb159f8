//! `GET /posts/`: its shape, vote counts, paging, and its query parameters' validation.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{assert_422, json_of, keys_in_order, spawn_app};

use super::{id_of, ids, list, post_with_votes_keys};

#[tokio::test]
async fn list_posts_returns_post_with_votes_in_contract_order() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let post = app.post(&ann, "only", true).await;
    let res = app.list_posts(&ann, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.text().await.unwrap();
    assert_eq!(keys_in_order(&raw), post_with_votes_keys(), "{raw}");
    let items: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(items, json!([{"Post": post, "votes": 0}]));
}

#[tokio::test]
async fn list_posts_is_empty_without_posts() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    assert_eq!(list(&app, &ann, &[]).await, Vec::<Value>::new());
}

#[tokio::test]
async fn list_and_get_count_votes_as_they_change() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let cat = app.user("cat").await;
    let first = id_of(&app.post(&ann, "first", true).await);
    let second = id_of(&app.post(&bob, "second", true).await);
    let votes = |items: &[Value]| -> Vec<(i64, i64)> {
        items
            .iter()
            .map(|i| {
                (
                    i["Post"]["id"].as_i64().unwrap(),
                    i["votes"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        votes(&list(&app, &ann, &[]).await),
        [(second, 0), (first, 0)]
    );
    for (voter, post) in [(&ann, first), (&bob, first), (&cat, first), (&cat, second)] {
        assert_eq!(app.vote(voter, post, 1).await.status(), StatusCode::CREATED);
    }
    assert_eq!(
        votes(&list(&app, &ann, &[]).await),
        [(second, 1), (first, 3)]
    );
    assert_eq!(json_of(app.get_post(&cat, first).await).await["votes"], 3);
    assert_eq!(app.vote(&bob, first, 0).await.status(), StatusCode::CREATED);
    assert_eq!(
        votes(&list(&app, &bob, &[]).await),
        [(second, 1), (first, 2)]
    );
    assert_eq!(json_of(app.get_post(&ann, first).await).await["votes"], 2);
    assert_eq!(json_of(app.get_post(&ann, second).await).await["votes"], 1);
    let latest = json_of(app.latest_post(&ann).await).await;
    assert_eq!(
        (latest["Post"]["id"].as_i64(), &latest["votes"]),
        (Some(second), &json!(1))
    );
}

#[tokio::test]
async fn list_posts_pages_newest_first_without_overlap() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let mut created = Vec::new();
    for n in 0..25 {
        let owner = if n % 2 == 0 { &ann } else { &bob };
        created.push(id_of(&app.post(owner, &format!("post {n}"), true).await));
    }
    let mut newest_first = created.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        newest_first,
        created.iter().rev().copied().collect::<Vec<_>>(),
        "ids grow"
    );

    let default_page = ids(&list(&app, &ann, &[]).await);
    assert_eq!(
        default_page,
        newest_first[..10],
        "default limit 10, newest first"
    );
    assert_eq!(
        ids(&list(&app, &ann, &[("limit", "100")]).await),
        newest_first
    );
    assert_eq!(
        ids(&list(&app, &ann, &[("limit", "0")]).await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&list(&app, &ann, &[("skip", "20")]).await),
        newest_first[20..]
    );
    assert_eq!(
        ids(&list(&app, &ann, &[("skip", "25")]).await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&list(&app, &ann, &[("skip", "9223372036854775807")]).await),
        Vec::<i64>::new(),
        "a huge skip is just past the end"
    );
    assert_eq!(
        ids(&list(&app, &ann, &[("limit", "3"), ("skip", "4")]).await),
        newest_first[4..7]
    );

    let mut paged = Vec::new();
    for skip in (0..25).step_by(7) {
        let page = ids(&list(&app, &bob, &[("limit", "7"), ("skip", &skip.to_string())]).await);
        assert!(page.len() == 7 || skip == 21, "page at {skip}: {page:?}");
        paged.extend(page);
    }
    assert_eq!(paged, newest_first, "pages cover everything once, in order");
}

#[tokio::test]
async fn list_query_parameters_are_validated() {
    let app = spawn_app().await;
    let ann = app.user("ann").await;
    let cases = [
        ("limit", "-1", "greater_than_equal"),
        ("limit", "101", "less_than_equal"),
        ("limit", "abc", "int_parsing"),
        ("limit", "1e3", "int_parsing"),
        ("limit", "1.5", "int_parsing"),
        ("limit", "", "int_parsing"),
        ("skip", "-1", "greater_than_equal"),
        ("skip", "abc", "int_parsing"),
        ("skip", "2.0", "int_parsing"),
    ];
    for (name, value, kind) in cases {
        let res = app.list_posts(&ann, &[(name, value)]).await;
        assert_eq!(res.status(), 422, "{name}={value:?}");
        assert_422(res, json!(["query", name]), kind).await;
    }
    let res = app
        .list_posts(&ann, &[("limit", "-1"), ("skip", "x")])
        .await;
    let body = assert_422(res, json!(["query", "limit"]), "greater_than_equal").await;
    assert!(
        body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["loc"] == json!(["query", "skip"])),
        "one entry per problem: {body}"
    );

    let term = "s".repeat(201);
    let res = app.list_posts(&ann, &[("search", term.as_str())]).await;
    assert_422(res, json!(["query", "search"]), "string_too_long").await;
    for (case, term) in [
        ("200 ascii", "s".repeat(200)),
        ("200 two-byte characters", "é".repeat(200)),
    ] {
        let res = app.list_posts(&ann, &[("search", term.as_str())]).await;
        assert_eq!(res.status(), StatusCode::OK, "search of {case}");
        assert_eq!(json_of(res).await, json!([]), "{case}");
    }
    for (name, value) in [("limit", "0"), ("limit", "100"), ("skip", "0")] {
        let res = app.list_posts(&ann, &[(name, value)]).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}={value}");
    }
}
