//! The CORS group: which browser origins may call the API.

use super::ConfigError;
use super::vars::Vars;

/// The origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin, without credentials (`*`, the default).
    Any,
    /// Only these, each a scheme and host with no trailing slash.
    Only(Vec<String>),
}

/// `CORS_ORIGINS`: `*` (or unset) for any origin, else a comma-separated list like
/// `https://a.example, http://localhost:3000`: scheme and host, no path.
pub(super) fn origins<F: Fn(&str) -> Option<String>>(
    vars: &Vars<F>,
) -> Result<CorsOrigins, ConfigError> {
    let list = match vars.text("CORS_ORIGINS") {
        None => return Ok(CorsOrigins::Any),
        Some(list) if list == "*" => return Ok(CorsOrigins::Any),
        Some(list) => list,
    };
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && o.split_once("://")
                    .is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
                && actix_web::http::header::HeaderValue::from_str(o).is_ok();
            if ok {
                Ok(o.trim_end_matches('/').to_owned())
            } else {
                Err(ConfigError::new(
                    "CORS_ORIGINS",
                    "must be * or a comma-separated list of origins like https://app.example.com",
                ))
            }
        })
        .collect::<Result<_, _>>()
        .map(CorsOrigins::Only)
}
