//! The OpenAPI document, generated from the handlers' annotations, and the documentation
//! pages served beside it (Swagger UI is mounted at start-up; ReDoc's page and bundle are
//! here). What the document tells the router about paths is in `startup`.

use std::sync::LazyLock;

use actix_web::App;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::dto::{ErrorBody, ValidationErrorBody};
use crate::error::FieldError;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Posts API",
        description = "Users, JWT login, posts and votes: the FastAPI course's social-media API, \
            in Rust. Click **Authorize** and log in with your email as the username.",
    ),
    components(schemas(ErrorBody, ValidationErrorBody, FieldError)),
    modifiers(&Security),
    tags(
        (name = "Root", description = "Greeting"),
        (name = "Users", description = "Registration and accounts"),
        (name = "Authentication", description = "OAuth2 login (password and refresh grants) and logout"),
        (name = "Sessions", description = "The caller's sessions: listed, ended one by one or all at once"),
        (name = "Posts", description = "Posts with vote counts"),
        (name = "Vote", description = "One vote per user and post"),
        (name = "Health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

/// The `OAuth2PasswordBearer` scheme, named as FastAPI names it, so Swagger UI's Authorize
/// button logs in through `/login` with email and password.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut Document) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "OAuth2PasswordBearer",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/login",
                Scopes::new(),
            ))])),
        );
    }
}

/// Answers every route can give, added here rather than repeated on each handler:
/// 413 (any request may declare an oversized body; it is refused before routing), 500 beside
/// every 503 (routes that touch the database), and the headers that go with 401
/// (`WWW-Authenticate`), 429 and 503 (`Retry-After`).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, api: &mut Document) {
        let error_body = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let too_large = error_body("payload too large: request bodies are limited to 64 KiB");
        let internal =
            error_body("internal server error (details go to the log, never to the client)");
        let string_header = |description: &str| {
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::String)))
                .description(Some(description))
                .build()
        };
        for item in api.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let responses = &mut op.responses.responses;
                responses
                    .entry("413".to_owned())
                    .or_insert_with(|| RefOr::T(too_large.clone()));
                if responses.contains_key("503") {
                    responses
                        .entry("500".to_owned())
                        .or_insert_with(|| RefOr::T(internal.clone()));
                }
                for (status, name, description) in [
                    ("401", "WWW-Authenticate", "Always `Bearer`"),
                    ("429", "Retry-After", "Seconds to wait"),
                    ("503", "Retry-After", "Seconds to wait"),
                ] {
                    if let Some(RefOr::T(response)) = responses.get_mut(status) {
                        response
                            .headers
                            .entry(name.to_owned())
                            .or_insert_with(|| RefOr::T(string_header(description)));
                    }
                }
            }
        }
    }
}

/// An example on every response that has a body, true to its status: the `detail` of an
/// error is one that status can have on that route (what docs/API.md's table lists), a 422
/// one the route can give, and a success its schema's own example. Responses that already
/// carry one keep it. Checked by `tests/tests/api/contract_doc.rs`.
struct Examples;

/// Every `detail` text by status, as docs/API.md lists them; `{...}` stands for a number.
const DETAILS: &[(&str, &str)] = &[
    ("400", "invalid request body"),
    ("400", "invalid or expired token"),
    ("401", "Not authenticated"),
    ("401", "Could not validate credentials"),
    ("403", "Invalid Credentials"),
    ("403", "email not verified"),
    ("403", "Not authorized to perform requested action"),
    ("404", "post with id: latest was not found"),
    ("404", "user with id: {id} was not found"),
    ("404", "post with id: {id} was not found"),
    ("404", "vote does not exist"),
    ("404", "session with id: {id} was not found"),
    ("404", "password recovery is disabled"),
    ("404", "email verification is disabled"),
    ("404", "Not Found"),
    ("409", "email already registered"),
    ("409", "user {user_id} has already voted on post {post_id}"),
    (
        "409",
        "a request with this Idempotency-Key is still in progress",
    ),
    (
        "412",
        "the post has changed since the If-Match tag was made",
    ),
    ("413", "payload too large"),
    ("429", "too many login attempts"),
    ("429", "too many requests"),
    ("500", "internal server error"),
    ("503", "database unavailable"),
    ("503", "shutting down"),
    ("507", "insufficient storage"),
];

/// The `detail` of an error response: the text its description starts with (with realistic
/// numbers), else the first text of its status.
fn error_detail(status: &str, description: &str) -> Option<String> {
    let texts = || {
        DETAILS
            .iter()
            .filter(|(s, _)| *s == status)
            .map(|(_, t)| *t)
    };
    let text = texts()
        .find(|t| description.starts_with(t))
        .or_else(|| texts().next())?;
    let id = if text.starts_with("user") {
        "17"
    } else if text.starts_with("session") {
        "12"
    } else {
        "42"
    };
    Some(
        text.replace("{id}", id)
            .replace("{user_id}", "17")
            .replace("{post_id}", "42"),
    )
}

/// A 422 a route can give: a bad query for the list, a bad path id for a route with one and
/// no body, else an empty body.
fn validation_example(path: &str, method: &str, has_body: bool) -> serde_json::Value {
    use serde_json::json;
    let entry = if path == "/posts/" && method == "get" {
        json!({"type": "less_than_equal", "loc": ["query", "limit"],
            "msg": "Input should be less than or equal to 100", "ctx": {"le": 100}})
    } else if path.contains("{id}") && !has_body {
        json!({"type": "greater_than", "loc": ["path", "id"],
            "msg": "Input should be greater than 0", "ctx": {"gt": 0}})
    } else {
        json!({"type": "missing", "loc": ["body"], "msg": "Field required"})
    };
    json!({ "detail": [entry] })
}

impl Modify for Examples {
    fn modify(&self, api: &mut Document) {
        use serde_json::Value;
        use utoipa::openapi::schema::Schema;
        let schema_examples: std::collections::BTreeMap<String, Value> = api
            .components
            .iter()
            .flat_map(|c| c.schemas.iter())
            .filter_map(|(name, schema)| {
                let schema = serde_json::to_value(schema).ok()?;
                let example = schema
                    .get("example")
                    .cloned()
                    .or_else(|| schema.get("examples").and_then(|e| e.get(0)).cloned())?;
                Some((name.clone(), example))
            })
            .collect();
        let name_of = |r: &Ref| r.ref_location.rsplit('/').next().unwrap_or("").to_owned();
        for (path, item) in &mut api.paths.paths {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                let has_body = op.request_body.is_some();
                for (status, response) in &mut op.responses.responses {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    let description = response.description.clone();
                    for content in response.content.values_mut() {
                        let RefOr::T(content) = content else { continue };
                        if content.example.is_some() || !content.examples.is_empty() {
                            continue;
                        }
                        let (name, array) = match &content.schema {
                            Some(RefOr::Ref(r)) => (name_of(r), false),
                            Some(RefOr::T(Schema::Array(array))) => match &array.items {
                                utoipa::openapi::schema::ArrayItems::RefOrSchema(item) => {
                                    match item.as_ref() {
                                        RefOr::Ref(r) => (name_of(r), true),
                                        RefOr::T(_) => continue,
                                    }
                                }
                                utoipa::openapi::schema::ArrayItems::False => continue,
                            },
                            _ => continue,
                        };
                        let example = match name.as_str() {
                            "ErrorBody" => error_detail(status, &description)
                                .map(|detail| serde_json::json!({ "detail": detail })),
                            "ValidationErrorBody" => {
                                Some(validation_example(path, method, has_body))
                            }
                            _ => schema_examples.get(&name).cloned(),
                        };
                        content.example =
                            example.map(|e| if array { Value::Array(vec![e]) } else { e });
                    }
                }
            }
        }
    }
}

/// The whole document: every route registered in [`routes::configure`], nothing else.
pub fn openapi() -> Document {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    // After the routes are in: `ApiDoc`'s own modifiers run before they are collected.
    CommonResponses.modify(&mut api);
    Examples.modify(&mut api);
    api
}

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The OpenAPI document, as written once at start-up.
pub fn openapi_json(json: actix_web::web::Bytes) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(json)
}

/// The Content-Security-Policy of every answer, written for the two pages that run in a
/// browser, Swagger UI and ReDoc (the JSON answers run nothing): scripts only from this server
/// plus ReDoc's one inline script (by its hash); styles from here or inline (both pages set
/// them from script); images and fonts from here or `data:` (ReDoc's logo is one); ReDoc's
/// search worker from a `blob:`; requests only to this server; no plugins, no `<base>`, no
/// framing.
pub const CONTENT_SECURITY_POLICY: &str = concat!(
    "default-src 'self'; ",
    "script-src 'self' 'sha256-Nxo1jbN7CjY0KUSOwZJ9lKQhkMORWewsf4c5czsIbvU='; ",
    "style-src 'self' 'unsafe-inline'; ",
    "img-src 'self' data:; ",
    "font-src 'self' data:; ",
    "worker-src 'self' blob:; ",
    "connect-src 'self'; ",
    "object-src 'none'; ",
    "base-uri 'none'; ",
    "form-action 'self'; ",
    "frame-ancestors 'none'"
);

/// Where ReDoc's page is served.
pub const REDOC_PATH: &str = "/redoc";

/// ReDoc's page: it loads the bundle from us (not a CDN) and the document from
/// [`OPENAPI_PATH`].
const REDOC_PAGE: &str = include_str!("../assets/redoc/index.html");

/// ReDoc's page.
pub async fn redoc_page() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(REDOC_PAGE)
}

/// Where ReDoc's standalone bundle is served (see `api/assets/redoc/README.md`).
pub const REDOC_BUNDLE_PATH: &str = "/redoc/redoc.standalone.js";

/// The one address off this machine in ReDoc's bundle: the Redocly logo beside "API docs by
/// Redocly" in the menu.
const REDOC_LOGO_CDN: &str = "https://cdn.redoc.ly/redoc/logo-mini.svg";

/// An empty image in its place, so the page asks nothing of the internet.
const REDOC_LOGO_EMPTY: &str =
    "data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E";

/// The bundle as served: the vendored file with the logo's address replaced, made once.
static REDOC_BUNDLE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../assets/redoc/redoc.standalone.js").replace(REDOC_LOGO_CDN, REDOC_LOGO_EMPTY)
});

/// ReDoc's standalone bundle, vendored, so `/redoc` works with no internet access.
pub async fn redoc_bundle() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=86400",
        ))
        .body(REDOC_BUNDLE.as_str())
}

#[cfg(test)]
mod csp_tests {
    use base64::Engine as _;
    use sha2::Digest as _;

    use super::{CONTENT_SECURITY_POLICY, REDOC_PAGE};

    #[test]
    fn the_policy_allows_redocs_inline_script_by_its_hash() {
        let script = REDOC_PAGE
            .split("<script>")
            .nth(1)
            .and_then(|rest| rest.split("</script>").next())
            .unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
        assert!(
            CONTENT_SECURITY_POLICY.contains(&format!("'sha256-{hash}'")),
            "ReDoc's inline script changed: its hash is now {hash}"
        );
        assert_eq!(
            REDOC_PAGE.matches("<script>").count(),
            1,
            "one inline script"
        );
    }
}
