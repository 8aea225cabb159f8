//! Root, health, readiness, docs, routing (404, 405, both slash spellings) and CORS.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{PASSWORD, assert_detail, json_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn root_says_hello_world() {
    let app = spawn_app().await;
    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(json_of(res).await, json!({"message": "Hello World"}));
}

#[tokio::test]
async fn health_and_ready_answer_ok_without_a_token() {
    let app = spawn_app().await;
    for path in ["/health", "/ready", "/health/", "/ready/"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(json_of(res).await, json!({"status": "ok"}), "{path}");
    }
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = spawn_app().await;
    for path in ["/nope", "/posts/1/extra", "/users/1/2", "/votes/"] {
        let res = app.get(path, None).await;
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_detail(res, 404, "Not Found").await;
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405_with_allow() {
    let app = spawn_app().await;
    let cases = [
        (Method::DELETE, "/posts/", "GET, POST"),
        (Method::PUT, "/posts", "GET, POST"),
        (Method::POST, "/posts/1", "GET, PUT, DELETE, PATCH"),
        (Method::GET, "/login", "POST"),
        (Method::GET, "/vote/", "POST"),
        (Method::DELETE, "/", "GET"),
        (Method::POST, "/health", "GET"),
        (Method::PUT, "/users/me", "GET"),
        // A concrete path is not an `{id}` (OpenAPI matches it first): not a 422 for "latest".
        (Method::PUT, "/posts/latest", "GET"),
        (Method::PATCH, "/posts/latest/", "GET"),
        (Method::DELETE, "/posts/latest", "GET"),
        (Method::POST, "/posts/latest", "GET"),
    ];
    for (method, path, allow) in cases {
        let res = app
            .request(method.clone(), path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some(allow.to_owned()),
            "{method} {path}"
        );
        assert_detail(res, 405, "Method Not Allowed").await;
    }
}

#[tokio::test]
async fn both_slash_spellings_answer_the_same() {
    let app = spawn_app().await;
    let user = app.user("slash").await;
    let post = app.post(&user, "slashes", true).await;
    let id = post["id"].as_i64().unwrap();
    for (a, b) in [
        ("/posts/".to_owned(), "/posts".to_owned()),
        (format!("/posts/{id}"), format!("/posts/{id}/")),
        ("/users/me".to_owned(), "/users/me/".to_owned()),
        ("/posts/latest".to_owned(), "/posts/latest/".to_owned()),
    ] {
        let ra = app.get(&a, Some(&user.token)).await;
        let rb = app.get(&b, Some(&user.token)).await;
        assert_eq!(ra.status(), StatusCode::OK, "{a}");
        assert_eq!(rb.status(), StatusCode::OK, "{b}");
        assert_eq!(json_of(ra).await, json_of(rb).await, "{a} vs {b}");
    }
    let res = app
        .client
        .post(app.url("/login/"))
        .form(&[("username", user.email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.vote(&user, id, 1).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .request(Method::POST, "/vote", Some(&user.token))
        .json(&json!({"post_id": id, "dir": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn docs_redoc_and_openapi_are_served() {
    let app = spawn_app().await;
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("swagger"));
    let res = app.get("/docs", None).await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/redoc", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"<script src="/redoc/redoc.standalone.js">"#),
        "{page}"
    );
    assert!(
        !page.contains("https://"),
        "ReDoc's page loads from elsewhere: {page}"
    );
    // The bundle is ours to serve, and asks no CDN for anything (its logo included).
    let res = app.get("/redoc/redoc.standalone.js", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let bundle = res.text().await.unwrap();
    assert!(bundle.contains("Redoc") && bundle.len() > 500_000);
    assert!(!bundle.contains("cdn.redoc.ly"));
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = json_of(res).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/redoc/", "/openapi.json/"] {
        assert_eq!(app.get(path, None).await.status(), StatusCode::OK, "{path}");
    }
    assert_detail(
        app.get("/docs/no-such-file.js", None).await,
        404,
        "Not Found",
    )
    .await;
    let res = app
        .request(Method::POST, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET");
    assert_detail(res, 405, "Method Not Allowed").await;
}

#[tokio::test]
async fn cors_allows_any_origin_by_default_and_answers_preflight() {
    let app = spawn_app().await;
    let res = app
        .request(Method::OPTIONS, "/posts/", None)
        .header("Origin", "https://client.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(
        res.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let res = app
        .request(Method::GET, "/", None)
        .header("Origin", "https://client.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn cors_origins_limit_who_is_allowed() {
    let app = spawn_app_with(&[("CORS_ORIGINS", "https://good.example")]).await;
    let res = app
        .request(Method::GET, "/", None)
        .header("Origin", "https://good.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://good.example"
    );
    let res = app
        .request(Method::GET, "/", None)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_status_and_limit() {
    let app = spawn_app().await;
    let doc = json_of(app.get("/openapi.json", None).await).await;

    let scheme = &doc["components"]["securitySchemes"]["OAuth2PasswordBearer"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/login");

    let expected_paths = [
        "/",
        "/health",
        "/ready",
        "/users/",
        "/users/me",
        "/users/{id}",
        "/login",
        "/posts/",
        "/posts/latest",
        "/posts/{id}",
        "/vote/",
    ];
    let paths = doc["paths"].as_object().unwrap();
    let mut names: Vec<&str> = paths.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = expected_paths.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);

    let mut operation_ids = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            operation_ids.push(op["operationId"].as_str().unwrap().to_owned());
            let responses = op["responses"].as_object().unwrap();
            let secured = op.get("security").is_some();
            let has_body = op.get("requestBody").is_some();
            let mut needed: Vec<&str> = Vec::new();
            if secured {
                needed.extend(["401", "500", "503"]);
                assert_eq!(
                    op["security"],
                    json!([{"OAuth2PasswordBearer": []}]),
                    "{what}"
                );
            }
            if has_body {
                needed.extend(["413", "422", "503"]);
            }
            if path.contains("{id}") {
                needed.extend(["404", "422"]);
            }
            for status in needed {
                let response = responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{what} lacks {status}"));
                assert!(
                    response["content"]["application/json"]["schema"].is_object(),
                    "{what} {status} has no body schema"
                );
            }
        }
    }
    let count = operation_ids.len();
    operation_ids.sort();
    operation_ids.dedup();
    assert_eq!(operation_ids.len(), count, "operationIds are unique");
    assert_eq!(count, 15);

    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["PostCreate"]["properties"]["title"]["maxLength"],
        300
    );
    assert_eq!(schemas["PostCreate"]["properties"]["title"]["minLength"], 1);
    assert_eq!(
        schemas["PostCreate"]["properties"]["content"]["maxLength"],
        20000
    );
    assert_eq!(
        schemas["UserCreate"]["properties"]["password"]["minLength"],
        8
    );
    assert_eq!(
        schemas["UserCreate"]["properties"]["password"]["maxLength"],
        72
    );
    assert!(schemas["PostWithVotesOut"]["properties"]["Post"].is_object());
    let vote = &paths["/vote/"]["post"]["responses"]["201"]["content"]["application/json"];
    assert_eq!(vote["schema"]["$ref"], "#/components/schemas/Message");
    let list = &paths["/posts/"]["get"]["parameters"];
    let limit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["maximum"], 100);
    assert_eq!(limit["schema"]["minimum"], 0);

    // What lengths cannot say, as patterns: no NUL in any string the server reads, and a title
    // needs a character outside Unicode's White_Space.
    let no_nul = r"^[^\u0000]*$";
    let title = r"^[^\u0000]*[^\u0000\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$";
    for (schema, field, pattern) in [
        ("UserCreate", "email", no_nul),
        ("UserCreate", "password", no_nul),
        ("LoginForm", "username", no_nul),
        ("LoginForm", "password", no_nul),
        ("PostCreate", "title", title),
        ("PostCreate", "content", no_nul),
        ("PostPatch", "title", title),
        ("PostPatch", "content", no_nul),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["pattern"], pattern,
            "{schema}.{field}"
        );
    }
    let search = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "search")
        .unwrap();
    assert_eq!(search["schema"]["pattern"], no_nul);
    assert_eq!(
        schemas["LoginForm"]["properties"]["grant_type"]["enum"],
        json!(["password"])
    );
}
