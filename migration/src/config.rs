//! Which database to use, from the same variables the server reads: `DATABASE_URL`, or the
//! course's `DATABASE_*` variables. The migration CLI needs this without the server's settings;
//! the server reads it through here too, so both always talk to the same database.

use std::fmt;

/// The embedded default: a SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://posts.db?mode=rwc";

/// A database variable with an unusable value. Displays as one line naming it, the same line
/// the server prints for any other unusable variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrlError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for DatabaseUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: {} {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for DatabaseUrlError {}

fn invalid(variable: &'static str, problem: impl Into<String>) -> DatabaseUrlError {
    DatabaseUrlError {
        variable,
        problem: problem.into(),
    }
}

/// The database URL: `DATABASE_URL` when set; else, when `DATABASE_HOSTNAME` is set, a
/// PostgreSQL URL built from the course's `DATABASE_*` variables (so its `.env` works
/// unchanged); else the embedded SQLite default.
///
/// `var` looks a variable up (the process environment in production, a map in tests); empty
/// values count as unset.
///
/// # Errors
/// A URL of another scheme than `sqlite:` / `postgres://`, or unusable `DATABASE_*` values.
pub fn database_url(var: impl Fn(&str) -> Option<String>) -> Result<String, DatabaseUrlError> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(url) = var("DATABASE_URL") {
        let url = url.trim().to_owned();
        if url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
        {
            return Ok(url);
        }
        return Err(invalid(
            "DATABASE_URL",
            "must start with sqlite: or postgres://",
        ));
    }
    let Some(host) = var("DATABASE_HOSTNAME") else {
        return Ok(DEFAULT_DATABASE_URL.to_owned());
    };
    let port = match var("DATABASE_PORT") {
        None => 5432,
        Some(p) => p
            .trim()
            .parse::<u16>()
            .map_err(|_| invalid("DATABASE_PORT", "must be a port number (1-65535)"))?,
    };
    let mut url = url::Url::parse("postgres://localhost")
        .map_err(|e| invalid("DATABASE_HOSTNAME", e.to_string()))?;
    url.set_host(Some(host.trim()))
        .map_err(|_| invalid("DATABASE_HOSTNAME", "is not a valid host name"))?;
    // These cannot fail on a postgres:// URL that has a host.
    let _ = url.set_port(Some(port));
    let _ = url.set_username(var("DATABASE_USERNAME").as_deref().unwrap_or("postgres"));
    let _ = url.set_password(var("DATABASE_PASSWORD").as_deref());
    url.set_path(var("DATABASE_NAME").as_deref().unwrap_or("postgres"));
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn url_of(pairs: &[(&str, &str)]) -> Result<String, DatabaseUrlError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        database_url(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_the_embedded_sqlite_file() {
        assert_eq!(url_of(&[]).unwrap(), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn database_url_wins_over_the_course_variables() {
        let url = url_of(&[
            ("DATABASE_URL", "postgres://a@b/c"),
            ("DATABASE_HOSTNAME", "elsewhere"),
        ]);
        assert_eq!(url.unwrap(), "postgres://a@b/c");
    }

    #[test]
    fn builds_a_postgres_url_from_the_course_variables() {
        let url = url_of(&[
            ("DATABASE_HOSTNAME", "db.internal"),
            ("DATABASE_PORT", "6543"),
            ("DATABASE_USERNAME", "app"),
            ("DATABASE_PASSWORD", "p@ss/word"),
            ("DATABASE_NAME", "fastapi"),
        ]);
        assert_eq!(
            url.unwrap(),
            "postgres://app:p%40ss%2Fword@db.internal:6543/fastapi"
        );
    }

    #[test]
    fn rejects_unknown_schemes_and_bad_ports() {
        assert_eq!(
            url_of(&[("DATABASE_URL", "mysql://x")])
                .unwrap_err()
                .variable,
            "DATABASE_URL"
        );
        assert_eq!(
            url_of(&[("DATABASE_HOSTNAME", "h"), ("DATABASE_PORT", "x")])
                .unwrap_err()
                .variable,
            "DATABASE_PORT"
        );
    }
}
