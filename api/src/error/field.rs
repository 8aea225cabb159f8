//! The entries of a 422 body, in pydantic v2's shape and words (which the course's clients
//! know), including the wording of each domain refusal ([`Invalid`]).

use serde::Serialize;
use serde_json::Value;
use service::domain::{EmailProblem, Invalid, Unit};

/// One step of a validation error's location: a key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Loc {
    Key(String),
    Index(usize),
}

impl From<&str> for Loc {
    fn from(s: &str) -> Self {
        Loc::Key(s.to_owned())
    }
}

/// One problem with the input, in pydantic v2's shape (`input` is left out on purpose: it
/// may be a password).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// pydantic v2's error type, e.g. `missing`, `int_parsing`, `string_too_long`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `"body"`, `"query"` or `"path"`, then the field.
    #[schema(example = json!(["body", "title"]))]
    pub loc: Vec<Loc>,
    /// What is wrong, for people.
    pub msg: String,
    /// The limit broken, e.g. `{"max_length": 300}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ctx: Option<Value>,
}

impl FieldError {
    pub fn new(loc: Vec<Loc>, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            loc,
            msg: msg.into(),
            ctx: None,
        }
    }

    pub fn with_ctx(mut self, key: &str, value: impl Into<Value>) -> Self {
        let mut map = serde_json::Map::new();
        map.insert(key.to_owned(), value.into());
        self.ctx = Some(Value::Object(map));
        self
    }

    pub fn missing(loc: Vec<Loc>) -> Self {
        Self::new(loc, "missing", "Field required")
    }

    /// A domain value that refused its input, at `loc`, in pydantic v2's words. (Long: one
    /// arm per refusal.)
    pub fn invalid(loc: Vec<Loc>, invalid: Invalid) -> Self {
        // pydantic writes "1 character", "8 bytes".
        let units = |n: usize, unit: Unit| match (n, unit) {
            (1, Unit::Characters) => "character",
            (1, Unit::Bytes) => "byte",
            (_, Unit::Characters) => "characters",
            (_, Unit::Bytes) => "bytes",
        };
        let pattern = "string_pattern_mismatch";
        match invalid {
            Invalid::TooShort { min, unit } => Self::new(
                loc,
                "string_too_short",
                format!("String should have at least {min} {}", units(min, unit)),
            )
            .with_ctx("min_length", min),
            Invalid::TooLong { max, unit } => Self::new(
                loc,
                "string_too_long",
                format!("String should have at most {max} {}", units(max, unit)),
            )
            .with_ctx("max_length", max),
            Invalid::Blank => Self::new(loc, pattern, "String should not be only whitespace"),
            Invalid::Nul => Self::new(loc, pattern, "String should not contain NUL characters"),
            Invalid::NotAnEmail(why) => Self::new(
                loc,
                "value_error",
                format!("value is not a valid email address: {}", email_problem(why)),
            ),
            Invalid::NotAVoteDir => Self::new(loc, "literal_error", "Input should be 0 or 1"),
            Invalid::BelowMin { min } => Self::new(
                loc,
                "greater_than_equal",
                format!("Input should be greater than or equal to {min}"),
            )
            .with_ctx("ge", min),
            Invalid::AboveMax { max } => Self::new(
                loc,
                "less_than_equal",
                format!("Input should be less than or equal to {max}"),
            )
            .with_ctx("le", max),
            Invalid::NotPositive => {
                Self::new(loc, "greater_than", "Input should be greater than 0").with_ctx("gt", 0)
            }
        }
    }
}

/// Why an address was refused, after pydantic's "value is not a valid email address: ".
fn email_problem(why: EmailProblem) -> &'static str {
    match why {
        EmailProblem::TooLong => "the address is too long",
        EmailProblem::NoAt => "an address needs an @",
        EmailProblem::EmptyPart => "an address needs text before and after the @",
        EmailProblem::Dots => {
            "the part before the @ cannot start or end with a dot or have two in a row"
        }
        EmailProblem::AddressLiteral => "address literals are not accepted",
        EmailProblem::NotDotted => "the domain must be a dotted name, like example.com",
        EmailProblem::NumericDomain => "the domain must be a name, not a number",
        EmailProblem::Malformed => "the address is not well formed",
    }
}
