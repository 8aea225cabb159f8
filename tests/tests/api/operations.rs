//! Operational surface: `X-Request-Id` on every response, and `/metrics` in Prometheus'
//! format, outside the public document.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{json_of, spawn_app, spawn_app_with};

fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", res.status(), res.url()))
        .to_owned()
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test]
async fn every_response_has_a_fresh_request_id() {
    let app = spawn_app().await;
    let big = "x".repeat(70 * 1024);
    let mut seen = std::collections::HashSet::new();
    let responses = [
        app.get("/health", None).await,
        app.get("/posts/", None).await, // 401
        app.get("/nope", None).await,   // 404
        app.request(Method::DELETE, "/login", None)
            .send()
            .await
            .unwrap(), // 405
        app.post_json("/users/", None, &json!({"email": "x"})).await, // 422
        app.request(Method::POST, "/posts/", None)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap(), // 413
        app.get("/docs/", None).await,
        app.get("/metrics", None).await,
    ];
    for res in &responses {
        let id = request_id(res);
        assert!(is_uuid(&id), "{} {}: {id}", res.status(), res.url());
        assert!(seen.insert(id), "ids are unique");
    }
}

#[tokio::test]
async fn a_client_request_id_is_kept_and_an_unusable_one_replaced() {
    let app = spawn_app().await;
    let send = |id: String| {
        app.request(Method::GET, "/posts/1", None)
            .header("x-request-id", id)
            .send()
    };
    let res = send("client-trace-0001".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(request_id(&res), "client-trace-0001");
    let longest = "a".repeat(128);
    assert_eq!(request_id(&send(longest.clone()).await.unwrap()), longest);
    for unusable in [
        "has space".to_owned(),
        "a".repeat(129),
        "tab\tin".to_owned(),
    ] {
        let res = send(unusable.clone()).await.unwrap();
        assert!(is_uuid(&request_id(&res)), "{unusable:?} is replaced");
    }
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let all = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            (metric == name && all).then(|| value.parse().ok())?
        })
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = spawn_app().await;
    let user = app.user("metrics").await;
    for _ in 0..3 {
        assert_eq!(app.get_post(&user, 999).await.status(), 404);
    }
    assert_eq!(app.list_posts(&user, &[]).await.status(), 200);
    for path in ["/random/a", "/random/b", "/x/y/z"] {
        assert_eq!(app.get(path, None).await.status(), 404);
    }
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
    );
    let text = res.text().await.unwrap();
    let total = |endpoint: &str, status: &str| {
        sample(
            &text,
            "api_http_requests_total",
            &[
                ("endpoint", endpoint),
                ("method", "GET"),
                ("status", status),
            ],
        )
    };
    assert_eq!(total("/posts/{id}", "404"), Some(3.0), "{text}");
    assert_eq!(total("/posts/", "200"), Some(1.0), "{text}");
    // Unmatched paths share one label: clients cannot grow the series.
    assert_eq!(total("UNMATCHED", "404"), Some(3.0), "{text}");
    assert!(!text.contains("/random/"), "{text}");
    let latency = sample(
        &text,
        "api_http_requests_duration_seconds_count",
        &[("endpoint", "/posts/{id}"), ("status", "404")],
    );
    assert_eq!(latency, Some(3.0), "{text}");
    assert!(sample(&text, "api_db_pool_max_connections", &[]).is_some_and(|n| n >= 1.0));
    // The pool: the test's requests are over, so every open connection is soon idle (sqlx
    // gives a SQLite connection back to its pool in a task of its own, after the response).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = app.get("/metrics", None).await.text().await.unwrap();
        let idle = sample(&text, "api_db_pool_connections", &[("state", "idle")]);
        let in_use = sample(&text, "api_db_pool_connections", &[("state", "in_use")]);
        if idle.is_some_and(|n| n >= 1.0) && in_use == Some(0.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Several workers (PostgreSQL: a pool each; SQLite: one shared pool) never hold more
/// connections at once than `DATABASE_MAX_CONNECTIONS`, however the load spreads over them.
#[tokio::test]
async fn workers_together_stay_within_the_connection_budget() {
    let app = spawn_app_with(&[("WORKERS", "3"), ("DATABASE_MAX_CONNECTIONS", "4")]).await;
    let user = app.user("budget").await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let request = app.request(Method::GET, "/posts/", Some(&user.token));
        requests.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.expect("task").expect("answer"), StatusCode::OK);
    }
    let text = app.get("/metrics", None).await.text().await.unwrap();
    let gauge = |state: &str| {
        sample(&text, "api_db_pool_connections", &[("state", state)]).expect("pool gauge")
    };
    let open = gauge("idle") + gauge("in_use");
    assert!(
        (1.0..=4.0).contains(&open),
        "{open} connections open: {text}"
    );
    assert_eq!(sample(&text, "api_db_pool_max_connections", &[]), Some(4.0));
}

#[tokio::test]
async fn made_up_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    for i in 0..20 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let res = app.request(method, "/posts/", None).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(!text.contains("MADEUP"), "{text}");
    let other = sample(
        &text,
        "api_http_requests_total",
        &[
            ("endpoint", "/posts/"),
            ("method", "OTHER"),
            ("status", "405"),
        ],
    );
    assert_eq!(other, Some(20.0), "{text}");
}

#[tokio::test]
async fn metrics_are_operational_not_part_of_the_public_document() {
    let app = spawn_app().await;
    let doc = json_of(app.get("/openapi.json", None).await).await;
    assert!(doc["paths"].get("/metrics").is_none());
    let res = app
        .request(Method::POST, "/metrics", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET");
}
