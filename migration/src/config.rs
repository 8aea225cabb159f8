//! Where configuration comes from and which database to use, for the server and the migration
//! CLI alike: [`load_env_file`] (the `.env` file), [`database_url`] from the same variables
//! the server reads (`DATABASE_URL`, or the course's `DATABASE_*` variables), and how to
//! reach it: [`migration_url`] and [`prepared_statements`]. The migration CLI
//! needs these without the server's settings; the server reads them through here too, so both
//! always read the same file and talk to the same database.

use std::fmt;
use std::path::{Path, PathBuf};

use service::db::{PreparedStatements, URL_PARAMETER};

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

/// A `.env` file that exists but cannot be used. Displays as one line naming the file and,
/// for a syntax error, the line and its variable (never its value: it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    pub path: PathBuf,
    /// 1-based line of the entry that cannot be parsed.
    pub line: Option<usize>,
    pub problem: String,
}

impl fmt::Display for EnvFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: ", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for EnvFileError {}

/// Loads the `.env` file, if there is one, into the process environment (variables already
/// set win): the first `.env` found in the working directory or, as `dotenvy` looks, in one
/// of its parents. Returns its path, or `None` when there is none.
///
/// Every entry point calls this before anything else, and before any thread starts (it sets
/// environment variables): a file that exists but cannot be parsed must stop the process
/// before it picks a default database.
///
/// # Errors
/// The file exists but cannot be read or parsed.
pub fn load_env_file() -> Result<Option<PathBuf>, EnvFileError> {
    let Ok(dir) = std::env::current_dir() else {
        return Ok(None);
    };
    let Some(path) = find_env_file(&dir)? else {
        return Ok(None);
    };
    match dotenvy::from_path(&path) {
        Ok(()) => Ok(Some(path)),
        Err(dotenvy::Error::LineParse(entry, index)) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            Err(parse_error(path, &text, &entry, index))
        }
        Err(e) => Err(EnvFileError {
            path,
            line: None,
            problem: e.to_string(),
        }),
    }
}

fn find_env_file(dir: &Path) -> Result<Option<PathBuf>, EnvFileError> {
    for candidate in dir.ancestors().map(|d| d.join(".env")) {
        match std::fs::metadata(&candidate) {
            Ok(m) if m.is_file() => return Ok(Some(candidate)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(EnvFileError {
                    path: candidate,
                    line: None,
                    problem: e.to_string(),
                });
            }
        }
    }
    Ok(None)
}

/// The error for `entry` (the text dotenvy could not parse, from the start of its line, up to
/// the end of the file for an unclosed quote) failing at byte `index` of it, found in the
/// file's `text`.
fn parse_error(path: PathBuf, text: &str, entry: &str, index: usize) -> EnvFileError {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The entry starts a line of the file; an identical earlier line would have failed first.
    let first_line = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .position(|start| !entry.is_empty() && text[start..].starts_with(entry))
        .map(|i| i + 1);
    let unclosed = index >= entry.len() && entry.contains(['"', '\'']);
    let line = first_line.map(|first| {
        if unclosed {
            first
        } else {
            first + entry.get(..index).map_or(0, |s| s.matches('\n').count())
        }
    });
    let name = entry
        .split('=')
        .next()
        .map(|k| k.trim().trim_start_matches("export ").trim())
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let what = name.map_or_else(String::new, |n| format!("{n}: "));
    let problem = if unclosed {
        format!("{what}a quote is opened and never closed")
    } else {
        let column = entry
            .get(..index)
            .map_or(index, |s| s.len() - s.rfind('\n').map_or(0, |i| i + 1))
            + 1;
        format!("{what}not KEY=VALUE syntax (at column {column})")
    };
    EnvFileError {
        path,
        line,
        problem,
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

/// `DATABASE_MIGRATION_URL`: where migrations connect (`AUTO_MIGRATE` and `api migrate`) when
/// not to [`database_url`]: PostgreSQL itself, when `DATABASE_URL` goes through a pooler in
/// transaction mode. `None` when unset.
///
/// # Errors
/// A URL of another scheme than `sqlite:` / `postgres://`.
pub fn migration_url(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, DatabaseUrlError> {
    let Some(url) = var("DATABASE_MIGRATION_URL").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let url = url.trim().to_owned();
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        return Ok(Some(url));
    }
    Err(invalid(
        "DATABASE_MIGRATION_URL",
        "must start with sqlite: or postgres://",
    ))
}

/// Whether PostgreSQL statements are prepared: `DATABASE_PREPARED_STATEMENTS`, or the
/// `prepared_statements` parameter of `url` (a pooled URL can carry it); unset, start-up
/// decides (see `service::db::PreparedStatements`).
///
/// # Errors
/// A value that is not a yes or a no, or the two set to different values.
pub fn prepared_statements(
    var: impl Fn(&str) -> Option<String>,
    url: &str,
) -> Result<PreparedStatements, DatabaseUrlError> {
    const VAR: &str = "DATABASE_PREPARED_STATEMENTS";
    let from_var = match var(VAR).filter(|v| !v.trim().is_empty()) {
        None => None,
        Some(v) => Some(
            PreparedStatements::parse(&v).ok_or_else(|| invalid(VAR, "must be true or false"))?,
        ),
    };
    let from_url = PreparedStatements::in_url(url).map_err(|_| {
        invalid(
            "DATABASE_URL",
            format!("parameter {URL_PARAMETER} must be true or false"),
        )
    })?;
    match (from_var, from_url) {
        (Some(a), Some(b)) if a != b => Err(invalid(
            VAR,
            format!("disagrees with the {URL_PARAMETER} parameter of DATABASE_URL"),
        )),
        (a, b) => Ok(a.or(b).unwrap_or_default()),
    }
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

    /// What dotenvy reports for `text`, as our one line.
    fn env_error(text: &str) -> String {
        let Some(Err(dotenvy::Error::LineParse(entry, index))) =
            dotenvy::from_read_iter(text.as_bytes()).find(Result::is_err)
        else {
            panic!("{text:?} parses");
        };
        parse_error(PathBuf::from("/app/.env"), text, &entry, index).to_string()
    }

    #[test]
    fn env_file_errors_name_the_line_and_variable_but_not_the_value() {
        assert_eq!(
            env_error("# comment\nA=1\nDATABASE_URL=\"postgres://u:pw@h/db\nB=2\n"),
            "cannot read /app/.env: line 3: DATABASE_URL: a quote is opened and never closed"
        );
        assert_eq!(
            env_error("A=1\nB C=2\n"),
            "cannot read /app/.env: line 2: not KEY=VALUE syntax (at column 3)"
        );
        assert_eq!(
            env_error("A=1\nKEY='x' y'\n"),
            "cannot read /app/.env: line 2: KEY: a quote is opened and never closed"
        );
        assert!(!env_error("P=\"secret-pw\n").contains("secret-pw"));
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

    #[test]
    fn prepared_statements_come_from_the_variable_or_the_url() {
        let of =
            |var: Option<&str>, url: &str| prepared_statements(|_| var.map(str::to_owned), url);
        let plain = "postgres://h/db";
        let off_in_url = "postgres://h/db?prepared_statements=off";
        assert_eq!(of(None, plain), Ok(PreparedStatements::Detect));
        assert_eq!(of(Some("false"), plain), Ok(PreparedStatements::Off));
        assert_eq!(of(Some("true"), plain), Ok(PreparedStatements::On));
        assert_eq!(of(None, off_in_url), Ok(PreparedStatements::Off));
        assert_eq!(of(Some("no"), off_in_url), Ok(PreparedStatements::Off));
        let clash = of(Some("true"), off_in_url).unwrap_err();
        assert_eq!(clash.variable, "DATABASE_PREPARED_STATEMENTS");
        assert_eq!(
            of(Some("sometimes"), plain).unwrap_err().variable,
            "DATABASE_PREPARED_STATEMENTS"
        );
        assert_eq!(
            of(None, "postgres://h/db?prepared_statements=2")
                .unwrap_err()
                .variable,
            "DATABASE_URL"
        );
    }

    #[test]
    fn the_migration_url_is_optional_and_checked() {
        let of = |v: &str| migration_url(|_| Some(v.to_owned()));
        assert_eq!(of(""), Ok(None));
        assert_eq!(
            of(" postgres://h:5432/db "),
            Ok(Some("postgres://h:5432/db".to_owned()))
        );
        assert_eq!(
            of("mysql://x").unwrap_err().variable,
            "DATABASE_MIGRATION_URL"
        );
    }
}
