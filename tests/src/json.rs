//! Reading answers: their JSON, the contract's error bodies (`{"detail": ...}`, the 422
//! list), and the order of keys, which `serde_json::Value` does not keep.

use reqwest::{Response, StatusCode};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Value, json};

/// The body as JSON; panics, showing the text, if it is not.
pub async fn json_of(res: Response) -> Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts status and `{"detail": detail}`.
pub async fn assert_detail(res: Response, status: u16, detail: &str) {
    let got = res.status().as_u16();
    let body = json_of(res).await;
    assert_eq!(
        (got, &body),
        (status, &json!({"detail": detail})),
        "expected {status} {detail}"
    );
}

/// Asserts the contract's 401: `WWW-Authenticate: Bearer` and `{"detail": detail}`; `what`
/// names the case in a failure.
pub async fn assert_401(res: Response, detail: &str, what: &str) {
    let challenge = res.headers().get("www-authenticate").cloned();
    assert_eq!(
        challenge.as_ref().map(|v| v.as_bytes()),
        Some(&b"Bearer"[..]),
        "{what}"
    );
    assert_detail(res, 401, detail).await;
}

/// Asserts a 422 whose entries include one at `loc` of type `kind`; returns the body.
pub async fn assert_422(res: Response, loc: Value, kind: &str) -> Value {
    let status = res.status().as_u16();
    let body = json_of(res).await;
    assert_eq!(status, 422, "body: {body}");
    let entries = body["detail"].as_array().expect("detail is a list");
    assert!(
        entries
            .iter()
            .any(|e| e["loc"] == loc && e["type"] == kind && e["msg"].is_string()),
        "no {kind} at {loc} in {body}"
    );
    for e in entries {
        assert!(e.get("input").is_none(), "422 must not echo input: {body}");
    }
    body
}

/// Asserts a 422 with an entry at `loc`, whatever its type.
pub async fn assert_422_at(res: Response, loc: Value, case: &str) {
    let status = res.status().as_u16();
    let body = json_of(res).await;
    assert_eq!(status, 422, "{case}: {body}");
    let entries = body["detail"].as_array().expect("detail is a list");
    assert!(
        entries.iter().any(|e| e["loc"] == loc),
        "{case}: no entry at {loc} in {body}"
    );
}

/// Asserts a 422 in the contract's shape, echoing no input; returns its body.
pub async fn json_of_422(res: Response, case: &str) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {text}"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {body}");
    let entries = body
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o["detail"].as_array())
        .unwrap_or_else(|| panic!("{case}: body is {{\"detail\": [...]}}: {body}"));
    assert!(!entries.is_empty(), "{case}: {body}");
    for e in entries {
        assert!(
            e["type"].is_string() && e["msg"].is_string(),
            "{case}: entry has type and msg: {e}"
        );
        let loc = e["loc"].as_array().expect("loc is a list");
        assert!(
            loc.first()
                .and_then(Value::as_str)
                .is_some_and(|l| ["body", "query", "path"].contains(&l)),
            "{case}: loc starts with body, query or path: {e}"
        );
        assert!(e.get("input").is_none(), "{case}: echoes input: {body}");
    }
    body
}

/// Whether the 422 `body` has an entry at `loc` (of type `kind`, if given).
pub fn has_entry(body: &Value, loc: &Value, kind: Option<&str>) -> bool {
    body["detail"].as_array().is_some_and(|entries| {
        entries
            .iter()
            .any(|e| &e["loc"] == loc && kind.is_none_or(|k| e["type"] == k))
    })
}

/// Asserts that the 422 `body` reports each of `missing` as missing, and nothing else.
pub fn assert_only_missing(body: &Value, missing: &[&str], case: &str) {
    for name in missing {
        assert!(
            has_entry(body, &json!(["body", name]), Some("missing")),
            "{case}: no missing {name} in {body}"
        );
    }
    assert_eq!(
        body["detail"].as_array().map(Vec::len),
        Some(missing.len()),
        "{case}: one entry per problem in {body}"
    );
}

/// The keys of every JSON object in `raw`, in document order, a nested object's keys in
/// place of its value. Read with a visitor of our own, since `serde_json::Value` sorts keys
/// (and its `preserve_order` feature would reach the server's serde_json too).
pub fn keys_in_order(raw: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut de = serde_json::Deserializer::from_str(raw);
    KeysInOrder(&mut keys)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"));
    keys
}

/// Walks a JSON value, pushing each object key it meets.
struct KeysInOrder<'a>(&'a mut Vec<String>);

impl<'de> DeserializeSeed<'de> for KeysInOrder<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeysInOrder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.0.push(key);
            map.next_value_seed(KeysInOrder(&mut *self.0))?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(KeysInOrder(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}
