//! The document's constraints are the domain's limits. utoipa's attributes take only
//! literals, so each literal is checked here against the constant (or the `parse`) that
//! enforces it.

use serde_json::Value;
use service::domain::{
    Email, Id, PageSize, Password, PostContent, PostTitle, SearchTerm, Skip, VoteDir,
};

fn document() -> Value {
    serde_json::to_value(crate::docs::openapi()).expect("the document is JSON")
}

fn property<'a>(doc: &'a Value, schema: &str, name: &str) -> &'a Value {
    &doc["components"]["schemas"][schema]["properties"][name]
}

/// An operation's parameter, by name.
fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or(&Value::Null)
}

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {key} in {v}"))
}

fn length(v: &Value, key: &str) -> usize {
    usize::try_from(int(v, key)).expect("a length")
}

/// `minimum` is the smallest value `parse` takes.
fn assert_minimum<T, E>(schema: &Value, parse: impl Fn(i64) -> Result<T, E>, what: &str) {
    let min = int(schema, "minimum");
    assert!(parse(min).is_ok(), "{what}: minimum {min} is refused");
    assert!(parse(min - 1).is_err(), "{what}: {} is taken", min - 1);
}

#[test]
fn string_lengths_are_the_domain_limits() {
    let doc = document();
    let email = property(&doc, "UserCreate", "email");
    assert_eq!(length(email, "maxLength"), Email::MAX_LEN);
    let password = property(&doc, "UserCreate", "password");
    assert_eq!(length(password, "minLength"), Password::MIN_BYTES);
    assert_eq!(length(password, "maxLength"), Password::MAX_BYTES);
    for schema in ["PostCreate", "PostPatch"] {
        let title = property(&doc, schema, "title");
        assert_eq!(length(title, "minLength"), PostTitle::MIN_CHARS, "{schema}");
        assert_eq!(length(title, "maxLength"), PostTitle::MAX_CHARS, "{schema}");
        let content = property(&doc, schema, "content");
        assert_eq!(
            length(content, "minLength"),
            PostContent::MIN_CHARS,
            "{schema}"
        );
        assert_eq!(
            length(content, "maxLength"),
            PostContent::MAX_CHARS,
            "{schema}"
        );
    }
    let search = &parameter(&doc, "/posts/", "get", "search")["schema"];
    assert_eq!(length(search, "maxLength"), SearchTerm::MAX_CHARS);
}

#[test]
fn number_ranges_are_the_domain_limits() {
    let doc = document();
    let dir = property(&doc, "VoteIn", "dir");
    assert_minimum(dir, VoteDir::parse, "dir");
    let (min, max) = (int(dir, "minimum"), int(dir, "maximum"));
    assert!(
        (min..=max).all(|d| VoteDir::parse(d).is_ok()),
        "dir {min}..={max}"
    );
    assert!(VoteDir::parse(max + 1).is_err(), "dir above {max}");

    let limit = parameter(&doc, "/posts/", "get", "limit");
    assert_minimum(&limit["schema"], PageSize::parse, "limit");
    assert_eq!(int(&limit["schema"], "maximum"), PageSize::MAX);
    let described = &limit["description"];
    let default = format!("default {}", PageSize::DEFAULT.get());
    assert!(
        described.as_str().is_some_and(|d| d.contains(&default)),
        "limit's description says {default}: {described}"
    );
    let skip = &parameter(&doc, "/posts/", "get", "skip")["schema"];
    assert_minimum(skip, Skip::parse, "skip");
}

#[test]
fn every_id_in_a_path_is_a_domain_id() {
    let doc = document();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if operation["parameters"].is_array() && path.contains("{id}") {
                let id = &parameter(&doc, path, method, "id")["schema"];
                assert_minimum(id, Id::parse, &format!("{method} {path}"));
                seen += 1;
            }
        }
    }
    assert_eq!(
        seen, 6,
        "GET /users/{{id}}, GET, PUT, PATCH, DELETE /posts/{{id}} and DELETE /users/me/sessions/{{id}}"
    );
}
