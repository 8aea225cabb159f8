//! The documentation the server serves: Swagger UI, ReDoc (with nothing fetched from
//! elsewhere), and the OpenAPI document, which describes every route, status and limit and is
//! the committed `openapi.json`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{assert_detail, json_of, spawn_app};

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
async fn the_openapi_document_describes_every_route_and_its_statuses() {
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
        "/users/me/password",
        "/users/me/sessions",
        "/users/me/sessions/{id}",
        "/users/{id}",
        "/users/verify",
        "/users/verify/resend",
        "/password-recovery",
        "/reset-password",
        "/login",
        "/logout",
        "/logout/all",
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
    assert_eq!(count, 27);
    let vote = &paths["/vote/"]["post"]["responses"]["201"]["content"]["application/json"];
    assert_eq!(vote["schema"]["$ref"], "#/components/schemas/Message");
}

#[tokio::test]
async fn the_openapi_document_states_every_limit_and_pattern() {
    let app = spawn_app().await;
    let doc = json_of(app.get("/openapi.json", None).await).await;
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
    let list = &doc["paths"]["/posts/"]["get"]["parameters"];
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
        ("LoginForm", "refresh_token", no_nul),
        ("PasswordChange", "current_password", no_nul),
        ("PasswordChange", "new_password", no_nul),
        ("AccountDeletion", "password", no_nul),
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
        json!(["password", "refresh_token"])
    );
}

#[tokio::test]
async fn the_served_document_is_the_committed_openapi_json() {
    let app = spawn_app().await;
    let served = json_of(app.get("/openapi.json", None).await).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(path).expect("openapi.json at the workspace root"),
    )
    .expect("openapi.json is JSON");
    assert!(
        served == committed,
        "openapi.json is out of date: `cargo run -q -- openapi > openapi.json`"
    );
}
