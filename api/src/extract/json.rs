//! JSON bodies: [`JsonBody`] reads one, [`Fields`] reads fields out of it for a DTO's
//! [`FromJson`], collecting one [`FieldError`] per problem.
//!
//! Types are strict JSON types, as the contract asks: `"1"` is not an integer, `1` is not a
//! boolean, `null` is nothing. The offending value never reaches an error.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};
use service::domain::Invalid;

use super::body::{body_error, media_type, read_body};
use crate::error::{ApiError, FieldError, Loc};

/// pydantic's words for a body that is not a JSON object (or not JSON at all).
const NOT_AN_OBJECT: &str = "Input should be a valid dictionary or object to extract fields from";

/// A JSON body read into `T`, strictly typed, every problem reported at once (422).
pub struct JsonBody<T>(pub T);

impl<T: FromJson + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            if body.is_empty() {
                return Err(ApiError::validation(FieldError::missing(vec![Loc::from(
                    "body",
                )])));
            }
            // Like FastAPI: no Content-Type is read as JSON; any other type is not JSON.
            if let Some(media) = media_type(&req)
                && media != "application/json"
                && !(media.starts_with("application/") && media.ends_with("+json"))
            {
                return Err(body_error("model_attributes_type", NOT_AN_OBJECT));
            }
            // A UTF-8 byte-order mark is not JSON, but Python's json (FastAPI) skips it.
            let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::validation(
                    FieldError::new(
                        vec![Loc::from("body"), Loc::Index(byte_offset(body, &e))],
                        "json_invalid",
                        "JSON decode error",
                    )
                    .with_ctx("error", e.to_string()),
                )
            })?;
            from_value(&value)
                .map(JsonBody)
                .map_err(ApiError::Validation)
        })
    }
}

/// Where in `body` a JSON error is, as a byte offset (serde_json reports line and column).
fn byte_offset(body: &[u8], e: &serde_json::Error) -> usize {
    let line_start: usize = body
        .split(|b| *b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (line_start + e.column().saturating_sub(1)).min(body.len())
}

/// A body read from a JSON object: its DTO reads each field through [`Fields`], which records
/// every problem, not just the first.
pub trait FromJson: Sized {
    /// `None` when any field was refused; each refusal is recorded in `fields`.
    fn from_json(fields: &mut Fields<'_>) -> Option<Self>;
}

/// The fields of one JSON object, and the problems found so far.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

fn at(name: &str) -> Vec<Loc> {
    super::loc("body", name)
}

impl<'a> Fields<'a> {
    fn new(obj: &'a Map<String, Value>) -> Self {
        Self {
            obj,
            errors: Vec::new(),
        }
    }

    fn wrong_type(&mut self, name: &str, kind: &str, msg: &str) {
        self.errors.push(FieldError::new(at(name), kind, msg));
    }

    /// A string that may be left out.
    pub fn opt_str(&mut self, name: &str) -> Option<Option<String>> {
        match self.obj.get(name) {
            None => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                self.wrong_type(name, "string_type", "Input should be a valid string");
                None
            }
        }
    }

    /// A string that must be there.
    pub fn str(&mut self, name: &str) -> Option<String> {
        match self.opt_str(name)? {
            Some(s) => Some(s),
            None => {
                self.errors.push(FieldError::missing(at(name)));
                None
            }
        }
    }

    /// A boolean that may be left out.
    pub fn opt_bool(&mut self, name: &str) -> Option<Option<bool>> {
        match self.obj.get(name) {
            None => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                self.wrong_type(name, "bool_type", "Input should be a valid boolean");
                None
            }
        }
    }

    /// An integer that must be there and fit 64 bits.
    ///
    /// JSON has one number type: `3.0` and `3e2` are integers in JSON Schema (and to
    /// pydantic), so a number with no fractional part counts; `3.5` does not.
    pub fn int(&mut self, name: &str) -> Option<i64> {
        const TOO_BIG: &str = "Unable to parse input string as an integer, exceeded maximum size";
        // 2^63: the floats in -2^63..2^63 are exactly those that fit 64 bits.
        const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;
        match self.obj.get(name) {
            None => {
                self.errors.push(FieldError::missing(at(name)));
                None
            }
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(Value::Number(n)) if n.is_u64() => {
                self.wrong_type(name, "int_parsing_size", TOO_BIG);
                None
            }
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.fract() != 0.0 || !f.is_finite() => {
                    self.wrong_type(
                        name,
                        "int_from_float",
                        "Input should be a valid integer, got a number with a fractional part",
                    );
                    None
                }
                Some(f) if (-I64_BOUND..I64_BOUND).contains(&f) => Some(f as i64),
                _ => {
                    self.wrong_type(name, "int_parsing_size", TOO_BIG);
                    None
                }
            },
            Some(_) => {
                self.wrong_type(name, "int_type", "Input should be a valid integer");
                None
            }
        }
    }

    /// Keeps a parsed domain value, or records why it was refused.
    pub fn check<T>(&mut self, name: &str, parsed: Result<T, Invalid>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(invalid) => {
                self.errors.push(FieldError::invalid(at(name), invalid));
                None
            }
        }
    }

    /// Parses an optional field's value when it is there.
    pub fn check_opt<T>(
        &mut self,
        name: &str,
        raw: Option<String>,
        parse: impl FnOnce(String) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.check(name, parse(raw)).map(Some),
        }
    }
}

/// Reads `T` from a parsed JSON document: it must be an object.
///
/// # Errors
/// One entry per problem, located under `"body"`.
fn from_value<T: FromJson>(value: &Value) -> Result<T, Vec<FieldError>> {
    let Value::Object(obj) = value else {
        return Err(vec![FieldError::new(
            vec![Loc::from("body")],
            "model_attributes_type",
            NOT_AN_OBJECT,
        )]);
    };
    let mut fields = Fields::new(obj);
    let parsed = T::from_json(&mut fields);
    match parsed {
        Some(v) if fields.errors.is_empty() => Ok(v),
        _ => Err(fields.errors),
    }
}
