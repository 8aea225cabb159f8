//! Reading fields out of a JSON object, collecting one [`FieldError`] per problem.
//!
//! Types are strict JSON types, as the contract asks: `"1"` is not an integer, `1` is not a
//! boolean, `null` is nothing. The offending value never reaches an error.

use serde_json::{Map, Value};
use service::domain::Invalid;

use crate::error::{FieldError, Loc};

/// A JSON body that a DTO can be read from.
pub trait FromJson: Sized {
    /// # Errors
    /// Every problem found, not just the first.
    fn from_json(fields: &mut Fields<'_>) -> Option<Self>;
}

/// The fields of one JSON object, and the problems found so far.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    pub errors: Vec<FieldError>,
}

fn at(name: &str) -> Vec<Loc> {
    vec![Loc::from("body"), Loc::from(name)]
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>) -> Self {
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
pub fn from_value<T: FromJson>(value: &Value) -> Result<T, Vec<FieldError>> {
    let Value::Object(obj) = value else {
        return Err(vec![FieldError::new(
            vec![Loc::from("body")],
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )]);
    };
    let mut fields = Fields::new(obj);
    let parsed = T::from_json(&mut fields);
    match parsed {
        Some(v) if fields.errors.is_empty() => Ok(v),
        _ => Err(fields.errors),
    }
}
