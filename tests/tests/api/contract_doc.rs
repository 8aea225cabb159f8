//! `docs/API.md`, the wire contract, stays true: its route table matches the OpenAPI document
//! and the live server, and every `detail` text, 422 entry and configuration variable the code
//! can produce or read is written in it (the variables in the README's table too). Adding any
//! of them without documenting it fails here.

use std::cell::RefCell;
use std::collections::BTreeSet;

use actix_web::ResponseError;
use actix_web::body::MessageBody;
use api::error::{ApiError, FieldError, Loc};
use reqwest::{Method, StatusCode};
use sea_orm::DbErr;
use serde_json::Value;
use service::Error as S;
use service::domain::{EmailProblem, Invalid, Unit};
use tests::{json_of, spawn_app};

/// A file of the repository, by its path from the root.
fn repo_file(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn contract() -> String {
    repo_file("docs/API.md")
}

/// The lines of the Markdown section whose heading starts with `heading`, up to the next
/// heading of the same level or above.
fn section<'a>(doc: &'a str, heading: &str) -> Vec<&'a str> {
    let level = |l: &str| {
        let hashes = l.len() - l.trim_start_matches('#').len();
        (hashes > 0 && l[hashes..].starts_with(' ')).then_some(hashes)
    };
    let own = level(heading).unwrap_or(2);
    doc.lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| level(l).is_none_or(|n| n > own))
        .collect()
}

/// `(method, path)` of every row of the contract's route tables: `| GET | `/path` | ...`.
fn documented_routes(doc: &str) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = *cells.get(1)?;
            let path = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            METHODS
                .contains(&method)
                .then(|| (method.to_owned(), path.to_owned()))
        })
        .collect()
}

/// `(method, path)` of every operation of the OpenAPI document the server serves.
fn openapi_operations() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(api::docs::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn contract_lists_every_operation_and_every_route_it_lists_answers() {
    let documented = documented_routes(&contract());
    let missing: Vec<_> = openapi_operations()
        .into_iter()
        .filter(|op| !documented.contains(op))
        .collect();
    assert!(missing.is_empty(), "not in docs/API.md: {missing:?}");

    let app = spawn_app().await;
    for (method, path) in &documented {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .request(method.clone(), &path.replace("{id}", "1"), None)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let unknown = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND
                && res
                    .text()
                    .await
                    .unwrap()
                    .contains(r#""detail":"Not Found""#));
        assert!(
            !unknown,
            "docs/API.md lists {method} {path}, which answers {status}"
        );
    }
}

/// One failure of every kind, with values that stand out (`101` an id, `202` a user id, `303` a
/// post id), so that their texts can be read back as the contract's templates.
fn every_failure() -> Vec<ApiError> {
    let db = || DbErr::Custom("test".to_owned());
    let failures = vec![
        ApiError::Service(S::UserNotFound(101)),
        ApiError::Service(S::PostNotFound(101)),
        ApiError::Service(S::NoVisiblePost),
        ApiError::Service(S::VoteNotFound),
        ApiError::Service(S::PreconditionFailed),
        ApiError::Service(S::Forbidden),
        ApiError::Service(S::EmailTaken),
        ApiError::Service(S::AlreadyVoted {
            user_id: 202,
            post_id: 303,
        }),
        ApiError::Service(S::InvalidCredentials),
        ApiError::Service(S::TooManyAttempts {
            retry_after_secs: 7,
            limit: 10,
            window_secs: 300,
        }),
        ApiError::Service(S::InvalidToken),
        ApiError::Service(S::SessionNotFound(101)),
        ApiError::Service(S::InvalidGrant),
        ApiError::Service(S::EmailNotVerified),
        ApiError::Service(S::InvalidAccountToken),
        ApiError::Service(S::TooManyRequests {
            policy: "mail",
            retry_after_secs: 7,
            limit: 5,
            window_secs: 3600,
        }),
        ApiError::Service(S::RecoveryDisabled),
        ApiError::Service(S::VerificationDisabled),
        ApiError::Service(S::IdempotencyKeyInProgress),
        ApiError::Service(S::Unavailable(db())),
        ApiError::Service(S::StorageFull(db())),
        ApiError::Service(S::StorageFailure(db())),
        ApiError::Service(S::Db(db())),
        ApiError::Service(S::Internal("test".to_owned())),
        ApiError::NotAuthenticated,
        ApiError::PayloadTooLarge,
        ApiError::BadPayload,
        ApiError::BodyTimeout,
        ApiError::NoRoute,
        ApiError::ShuttingDown,
        ApiError::MethodNotAllowed("GET".to_owned()),
    ];
    failures.iter().for_each(listed_above);
    failures
}

/// No wildcard: a new kind of failure stops this compiling until it is added to
/// [`every_failure`] (and so checked against the contract).
fn listed_above(failure: &ApiError) {
    match failure {
        ApiError::Service(
            S::UserNotFound(_)
            | S::PostNotFound(_)
            | S::NoVisiblePost
            | S::VoteNotFound
            | S::PreconditionFailed
            | S::Forbidden
            | S::EmailTaken
            | S::AlreadyVoted { .. }
            | S::InvalidCredentials
            | S::TooManyAttempts { .. }
            | S::InvalidToken
            | S::SessionNotFound(_)
            | S::InvalidGrant
            | S::EmailNotVerified
            | S::InvalidAccountToken
            | S::TooManyRequests { .. }
            | S::RecoveryDisabled
            | S::VerificationDisabled
            | S::IdempotencyKeyInProgress
            | S::Unavailable(_)
            | S::StorageFull(_)
            | S::StorageFailure(_)
            | S::Db(_)
            | S::Internal(_),
        )
        | ApiError::NotAuthenticated
        | ApiError::PayloadTooLarge
        | ApiError::BadPayload
        | ApiError::BodyTimeout
        | ApiError::NoRoute
        | ApiError::ShuttingDown
        | ApiError::MethodNotAllowed(_) => {}
        // Their entries are the next test's.
        ApiError::Validation(_) | ApiError::Service(S::IdempotencyKeyReused) => {}
    }
}

#[test]
fn contract_lists_every_detail_text_with_its_status_and_headers() {
    let doc = contract();
    let table = section(&doc, "### Every `detail` text");
    for failure in every_failure() {
        let res = failure.error_response();
        let status = res.status().as_u16();
        let headers: Vec<&str> = [
            ("www-authenticate", "WWW-Authenticate"),
            ("allow", "Allow"),
            ("retry-after", "Retry-After"),
        ]
        .into_iter()
        .filter(|(name, _)| res.headers().contains_key(*name))
        .map(|(_, shown)| shown)
        .collect();
        let body = res.into_body().try_into_bytes().unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let detail = body["detail"]
            .as_str()
            .unwrap()
            .replace("101", "{id}")
            .replace("202", "{user_id}")
            .replace("303", "{post_id}");
        let row = table.iter().find(|line| {
            line.starts_with(&format!("| {status} |")) && line.contains(&format!("`{detail}`"))
        });
        let row = row.unwrap_or_else(|| {
            panic!("docs/API.md's detail table has no row: {status} `{detail}` ({failure:?})")
        });
        for header in headers {
            assert!(
                row.contains(header),
                "{status} `{detail}` sends {header}: {row}"
            );
        }
    }
}

/// Every refusal of a domain value, with limits that stand out (`9001`).
fn every_refusal() -> Vec<Invalid> {
    let problems = [
        EmailProblem::TooLong,
        EmailProblem::NoAt,
        EmailProblem::EmptyPart,
        EmailProblem::Dots,
        EmailProblem::AddressLiteral,
        EmailProblem::NotDotted,
        EmailProblem::NumericDomain,
        EmailProblem::Malformed,
    ];
    let mut refusals = vec![Invalid::Blank, Invalid::Nul, Invalid::NotAVoteDir];
    for unit in [Unit::Characters, Unit::Bytes] {
        refusals.push(Invalid::TooShort { min: 9001, unit });
        refusals.push(Invalid::TooLong { max: 9001, unit });
    }
    refusals.extend([
        Invalid::BelowMin { min: 9001 },
        Invalid::AboveMax { max: 9001 },
        Invalid::NotPositive,
    ]);
    refusals.extend(problems.map(Invalid::NotAnEmail));
    refusals.iter().for_each(refusal_listed_above);
    refusals
}

/// No wildcard: a new refusal (or reason an email is refused) stops this compiling until it is
/// added to [`every_refusal`].
fn refusal_listed_above(invalid: &Invalid) {
    match invalid {
        Invalid::TooShort { .. }
        | Invalid::TooLong { .. }
        | Invalid::Blank
        | Invalid::Nul
        | Invalid::NotAVoteDir
        | Invalid::BelowMin { .. }
        | Invalid::AboveMax { .. }
        | Invalid::NotPositive => {}
        Invalid::NotAnEmail(
            EmailProblem::TooLong
            | EmailProblem::NoAt
            | EmailProblem::EmptyPart
            | EmailProblem::Dots
            | EmailProblem::AddressLiteral
            | EmailProblem::NotDotted
            | EmailProblem::NumericDomain
            | EmailProblem::Malformed,
        ) => {}
    }
}

/// Asserts that the contract's 422 table has a row with this entry's `type`, `msg` (as a
/// template: limits as `{min}`/`{max}`, an email's reason as `{why}`, listed below the table)
/// and `ctx` key.
fn assert_documented(doc: &str, entry: &Value) {
    const EMAIL: &str = "value is not a valid email address: ";
    let table = section(doc, "## 4. Validation errors");
    let kind = entry["type"].as_str().unwrap();
    let mut msg = entry["msg"].as_str().unwrap().to_owned();
    if let Some(why) = msg.strip_prefix(EMAIL) {
        assert!(
            table.iter().any(|l| l.contains(&format!("`{why}`"))),
            "docs/API.md does not give the email reason `{why}`"
        );
        msg = format!("{EMAIL}{{why}}");
    }
    let ctx = entry["ctx"].as_object().and_then(|c| c.iter().next());
    if let Some((key, Value::Number(n))) = ctx {
        let name = if ["min_length", "ge"].contains(&key.as_str()) {
            "{min}"
        } else {
            "{max}"
        };
        if key != "gt" {
            msg = msg.replacen(&format!(" {n}"), &format!(" {name}"), 1);
            // The table gives the plural; pydantic writes "1 character", "1 byte".
            if msg.ends_with(" character") || msg.ends_with(" byte") {
                msg.push('s');
            }
        }
    }
    let row = table
        .iter()
        .find(|l| l.contains(&format!("| `{kind}` | `{msg}` |")))
        .unwrap_or_else(|| panic!("docs/API.md's 422 table has no row `{kind}` `{msg}`"));
    if let Some((key, _)) = ctx {
        assert!(
            row.contains(&format!("`{key}`")),
            "`{kind}` `{msg}` has ctx {key}: {row}"
        );
    }
}

#[test]
fn contract_lists_every_refusal_of_a_domain_value() {
    let doc = contract();
    for invalid in every_refusal() {
        let entry = FieldError::invalid(vec![Loc::from("body")], invalid);
        assert_documented(&doc, &serde_json::to_value(entry).unwrap());
    }
}

#[tokio::test]
async fn contract_lists_every_422_entry_the_extractors_write() {
    let doc = contract();
    let app = spawn_app().await;
    let user = app.user("ann").await;
    let token = Some(user.token.as_str());
    let raw = |method: Method, path: &str, kind: &str, body: &str| {
        app.request(method, path, token)
            .header("content-type", kind)
            .body(body.to_owned())
    };
    let json = "application/json";
    let requests = [
        raw(Method::POST, "/posts/", json, ""),
        raw(Method::POST, "/posts/", json, "{"),
        raw(Method::POST, "/posts/", json, "[]"),
        raw(Method::POST, "/posts/", "text/plain", "{}"),
        raw(
            Method::POST,
            "/posts/",
            json,
            r#"{"title": 1, "content": "", "published": "yes"}"#,
        ),
        raw(
            Method::POST,
            "/posts/",
            json,
            r#"{"title": " ", "content": "a\u0000"}"#,
        ),
        raw(
            Method::POST,
            "/vote/",
            json,
            r#"{"post_id": "1", "dir": 1.5}"#,
        ),
        raw(
            Method::POST,
            "/vote/",
            json,
            r#"{"post_id": 99999999999999999999, "dir": 2}"#,
        ),
        raw(
            Method::POST,
            "/users/",
            json,
            r#"{"email": "nope", "password": "short"}"#,
        ),
        raw(
            Method::POST,
            "/login",
            "multipart/form-data; boundary=x",
            "not a form",
        ),
        app.request(
            Method::GET,
            "/posts/?limit=abc&skip=99999999999999999999",
            token,
        ),
        app.request(Method::GET, "/posts/?limit=101&skip=-1", token),
        app.request(Method::GET, "/posts/0", token),
        app.request(Method::GET, "/posts/?cursor=forged", token),
        app.request(Method::GET, "/posts/?cursor=forged&skip=0", token),
        app.client
            .post(app.url("/login"))
            .form(&[("grant_type", "x"), ("password", "a\0")]),
        raw(
            Method::POST,
            "/posts/",
            json,
            r#"{"title": "t", "content": "c"}"#,
        )
        .header("Idempotency-Key", "two words"),
        raw(
            Method::POST,
            "/posts/",
            json,
            r#"{"title": "t", "content": "c"}"#,
        )
        .header("Idempotency-Key", "k".repeat(256)),
        raw(
            Method::POST,
            "/posts/",
            json,
            r#"{"title": "other", "content": "c"}"#,
        )
        .header("Idempotency-Key", "used"),
    ];
    let first = raw(
        Method::POST,
        "/posts/",
        json,
        r#"{"title": "t", "content": "c"}"#,
    )
    .header("Idempotency-Key", "used");
    assert_eq!(first.send().await.unwrap().status(), StatusCode::CREATED);
    let mut kinds = BTreeSet::new();
    for req in requests {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        for entry in json_of(res).await["detail"].as_array().unwrap() {
            assert_documented(&doc, entry);
            kinds.insert(entry["type"].as_str().unwrap().to_owned());
        }
    }
    // The requests above reach every kind the extractors write (and some of the domain's).
    for kind in [
        "missing",
        "json_invalid",
        "model_attributes_type",
        "string_type",
        "bool_type",
        "int_type",
        "int_from_float",
        "int_parsing",
        "int_parsing_size",
        "literal_error",
        "value_error",
        "string_pattern_mismatch",
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
    ] {
        assert!(
            kinds.contains(kind),
            "no request above gave `{kind}`: {kinds:?}"
        );
    }
}

/// Every variable the settings read: asked for through a recording lookup, once with nothing
/// set and once with the course's `DATABASE_HOSTNAME` (which makes the other `DATABASE_*` be
/// read); plus `RUST_LOG`, which the log filter (env_logger) reads itself.
fn every_variable() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::from(["RUST_LOG".to_owned()]));
    for set in [None, Some(("DATABASE_HOSTNAME", "db.example.com"))] {
        let settings = api::Settings::from_vars(|name| {
            asked.borrow_mut().insert(name.to_owned());
            set.filter(|(k, _)| *k == name).map(|(_, v)| v.to_owned())
        });
        assert!(settings.is_ok(), "{:?}", settings.err());
    }
    asked.into_inner()
}

#[test]
fn contract_and_readme_list_every_configuration_variable() {
    let doc = contract();
    let readme = repo_file("README.md");
    let tables = [
        ("docs/API.md", section(&doc, "## 8. Configuration")),
        ("README.md", section(&readme, "## Configuration")),
    ];
    for var in every_variable() {
        for (file, table) in &tables {
            assert!(
                table
                    .iter()
                    .any(|l| l.starts_with('|') && l.contains(&format!("`{var}`"))),
                "{file}'s configuration table does not list `{var}`"
            );
        }
    }
}

#[test]
fn documented_routes_are_read_from_table_rows_only() {
    let doc = "| GET | `/a` | x |\n| method | path |\nGET `/b`\n| POST | `/c/{id}` |";
    let routes = documented_routes(doc);
    let expected: BTreeSet<_> = [("GET", "/a"), ("POST", "/c/{id}")]
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .into_iter()
        .collect();
    assert_eq!(routes, expected);
}

/// Every run of digits as `{n}`, and every `{placeholder}` too: a detail and its template
/// compare equal.
fn numbers_as_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push_str("{n}");
        } else if c == '{' {
            for c in chars.by_ref() {
                if c == '}' {
                    break;
                }
            }
            out.push_str("{n}");
        } else {
            out.push(c);
        }
    }
    out
}

/// Walks every string of an example: timestamps are RFC 3339 in UTC with `+00:00`, emails
/// look like addresses.
fn assert_realistic(where_: &str, value: &Value) {
    match value {
        Value::String(s) => {
            if s.len() > 18 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' {
                assert!(
                    s.ends_with("+00:00") && chrono::DateTime::parse_from_rfc3339(s).is_ok(),
                    "{where_}: timestamp {s}"
                );
            }
            if s.contains('@') && !s.contains(' ') {
                let (local, domain) = s.split_once('@').unwrap();
                assert!(
                    !local.is_empty() && domain.contains('.'),
                    "{where_}: email {s}"
                );
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_realistic(where_, v)),
        Value::Object(map) => map.values().for_each(|v| assert_realistic(where_, v)),
        _ => {}
    }
}

#[test]
fn every_response_example_in_the_document_matches_its_status() {
    let doc = contract();
    let table = section(&doc, "### Every `detail` text");
    let api = serde_json::to_value(api::docs::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            for (status, response) in responses {
                let here = format!("{} {path} {status}", method.to_uppercase());
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                for media in content.values() {
                    let example = media
                        .get("example")
                        .or_else(|| media.pointer("/examples/0"))
                        .unwrap_or_else(|| panic!("{here}: no example"));
                    assert_realistic(&here, example);
                    checked += 1;
                    let code: u16 = status.parse().unwrap();
                    if code == 422 {
                        for entry in example["detail"].as_array().unwrap() {
                            assert_documented(&doc, entry);
                        }
                    } else if code >= 400 {
                        let detail = example["detail"]
                            .as_str()
                            .unwrap_or_else(|| panic!("{here}: no detail in {example}"));
                        let wanted = numbers_as_placeholders(detail);
                        let listed = table.iter().any(|row| {
                            row.starts_with(&format!("| {status} |"))
                                && row.split('`').nth(1).map(numbers_as_placeholders)
                                    == Some(wanted.clone())
                        });
                        assert!(
                            listed,
                            "{here}: `{detail}` is not a {status} of docs/API.md"
                        );
                    } else if code != 202 {
                        assert!(
                            example.get("detail").is_none(),
                            "{here}: a success example shaped as an error: {example}"
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} examples");
}
