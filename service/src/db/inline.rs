//! A statement with its values written into its SQL, for PostgreSQL's simple protocol: one
//! message and one round trip, no statement prepared, as a pooler in transaction mode needs
//! (`pooler` says why). Only what is understood for certain is written out: SQL whose every
//! literal, quoted identifier and comment this reader follows, and values of the types below,
//! each cast to the type sqlx binds it as, so the server reads the statement exactly as it
//! reads it with parameters. Anything else gives `None`, and the statement goes the slower way
//! (unnamed, parsed and run in a transaction of its own).
//!
//! A statement that names a column holding a secret (a password hash, a token's hash: see
//! [`SECRET_COLUMNS`]) is never written out either: PostgreSQL writes the text of a statement
//! that fails into its log (`log_min_error_statement`, `error` by default), and a registration
//! with a taken email fails. Sent unnamed with its values as parameters, it logs `$1`, `$2`
//! instead (parameters reach the log only if `log_parameter_max_length_on_error` is raised from
//! its default of 0).
//!
//! No value is spliced as text of its own: integers and booleans are written by Rust's
//! formatting; strings as escape-string literals (`E'...'`) in which every quote and every
//! backslash is doubled, so nothing in them can end the literal whatever the server's
//! `standard_conforming_strings` or `backslash_quote`; bytes as hex the server decodes; times
//! in ISO 8601. A string holding NUL cannot travel in a simple query (its text ends at the
//! first NUL), so it gives `None` too.

use std::fmt::Write as _;
use std::ops::Range;

use sea_orm::{Statement, Value, Values};

/// The columns whose values are secrets, quoted as the statements name them: a statement
/// naming one is sent with parameters, so that its values never reach PostgreSQL's log.
const SECRET_COLUMNS: [&str; 3] = ["\"password\"", "\"refresh_token_hash\"", "\"token_hash\""];

/// `stmt`'s SQL with each `$n` replaced by its value as a typed literal; `None` when the SQL or
/// a value is not one this module writes out for certain.
pub(super) fn inline(stmt: &Statement) -> Option<String> {
    if SECRET_COLUMNS
        .iter()
        .any(|column| stmt.sql.contains(column))
    {
        return None;
    }
    let values = match &stmt.values {
        Some(Values(values)) => values.as_slice(),
        None => &[],
    };
    let sql = stmt.sql.as_str();
    let mut out = String::with_capacity(sql.len() + 24 * values.len());
    let mut copied = 0;
    for (at, n) in parameters(sql, false)? {
        out.push_str(&sql[copied..at.start]);
        write_value(&mut out, values.get(n.checked_sub(1)?)?)?;
        copied = at.end;
    }
    out.push_str(&sql[copied..]);
    Some(out)
}

/// Where `sql`'s parameters are, in order, with each one's number: PostgreSQL's `$n`, or, with
/// `positional`, SQLite's `?`, numbered from 1 as they come. Found only outside string
/// literals, quoted identifiers and comments; `None` when the SQL holds what this reader does
/// not follow for certain (see [`inline`]).
pub(super) fn parameters(sql: &str, positional: bool) -> Option<Vec<(Range<usize>, usize)>> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    // Scanning bytes is safe for UTF-8: no byte of a multi-byte character is ASCII, and every
    // position sliced at below is that of an ASCII byte.
    let mut i = 0;
    while i < bytes.len() {
        i = match bytes[i] {
            b'\'' => end_of_string(bytes, i)?,
            b'"' => end_of_identifier(bytes, i + 1)?,
            b'-' if bytes.get(i + 1) == Some(&b'-') => end_of_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => end_of_comment(bytes, i + 2)?,
            b'?' if positional => {
                found.push((i..i + 1, found.len() + 1));
                i + 1
            }
            // SQLite's statements of ours hold no `$`.
            b'$' if positional => return None,
            b'$' => {
                // `$` inside an identifier (`a$1`), or opening a dollar-quoted string
                // (`$$`, `$tag$`): not a parameter, and not something this reader follows.
                if i > 0 && is_identifier_byte(bytes[i - 1]) {
                    return None;
                }
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let end = i + 1 + digits;
                if digits == 0 || bytes.get(end).copied().is_some_and(is_identifier_byte) {
                    return None;
                }
                found.push((i..end, sql[i + 1..end].parse().ok()?));
                end
            }
            _ => i + 1,
        };
    }
    Some(found)
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Past the string literal whose quote is at `quote`. An escape string (`E'...'`) may hold
/// backslash escapes; a standard one holding a backslash is refused, as its meaning depends
/// on the server's `standard_conforming_strings`. Unicode-escape strings (`U&'...'`) are
/// refused.
fn end_of_string(bytes: &[u8], quote: usize) -> Option<usize> {
    let before = |back: usize| quote.checked_sub(back).map(|j| bytes[j]);
    let prefixed = |letters: &[u8]| {
        before(1).is_some_and(|b| letters.contains(&b))
            && !before(2).is_some_and(is_identifier_byte)
    };
    if before(1) == Some(b'&') {
        return None;
    }
    let escapes = prefixed(b"Ee");
    let mut i = quote + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b'\\' => return None,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Past the quoted identifier starting at `start` (just after its opening quote).
fn end_of_identifier(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            if bytes.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

fn end_of_line(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |p| start + p + 1)
}

/// Past the block comment whose body starts at `start` (PostgreSQL's nest).
fn end_of_comment(bytes: &[u8], start: usize) -> Option<usize> {
    let (mut i, mut depth) = (start, 1_usize);
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// `value` as a literal of the type sqlx binds it as (sea-query-sqlx's mapping); `None` for a
/// type not written out here.
fn write_value(out: &mut String, value: &Value) -> Option<()> {
    match value {
        Value::Bool(v) => typed(out, v.map(|b| if b { "TRUE" } else { "FALSE" }), "boolean"),
        Value::SmallInt(v) => typed(out, v.map(|n| n.to_string()), "int2"),
        Value::Int(v) => typed(out, v.map(|n| n.to_string()), "int4"),
        Value::BigInt(v) => typed(out, v.map(|n| n.to_string()), "int8"),
        // sea-query-sqlx binds unsigned integers as the next wider signed type.
        Value::TinyUnsigned(v) => typed(out, v.map(|n| n.to_string()), "int2"),
        Value::SmallUnsigned(v) => typed(out, v.map(|n| n.to_string()), "int4"),
        Value::Unsigned(v) => typed(out, v.map(|n| n.to_string()), "int8"),
        Value::BigUnsigned(v) => match v {
            Some(n) => typed(out, Some(i64::try_from(*n).ok()?), "int8"),
            None => typed(out, None::<i64>, "int8"),
        },
        Value::String(v) => typed(out, text(v.as_deref())?, "text"),
        Value::Char(v) => typed(out, text(v.map(String::from).as_deref())?, "text"),
        Value::Bytes(v) => match v {
            Some(bytes) => {
                out.push_str("decode('");
                for b in bytes {
                    write!(out, "{b:02x}").ok()?;
                }
                out.push_str("', 'hex')");
                Some(())
            }
            None => typed(out, None::<&str>, "bytea"),
        },
        Value::ChronoDate(v) => typed(out, iso(v.map(|d| (d.format("%Y-%m-%d"), d)))?, "date"),
        Value::ChronoDateTime(v) => typed(
            out,
            iso(v.map(|t| (t.format("%Y-%m-%dT%H:%M:%S%.6f"), t.date())))?,
            "timestamp",
        ),
        Value::ChronoDateTimeUtc(v) => typed(
            out,
            iso(v.map(|t| (t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"), t.date_naive())))?,
            "timestamptz",
        ),
        Value::ChronoDateTimeWithTimeZone(v) => typed(
            out,
            iso(v.map(|t| (t.format("%Y-%m-%dT%H:%M:%S%.6f%:z"), t.date_naive())))?,
            "timestamptz",
        ),
        _ => None,
    }
}

/// `CAST(literal AS type)`, or `CAST(NULL AS type)`.
fn typed(out: &mut String, literal: Option<impl std::fmt::Display>, type_name: &str) -> Option<()> {
    match literal {
        Some(l) => write!(out, "CAST({l} AS {type_name})").ok(),
        None => write!(out, "CAST(NULL AS {type_name})").ok(),
    }
}

/// A string as an escape-string literal: `Some(None)` for no string, `None` for one holding
/// NUL.
fn text(s: Option<&str>) -> Option<Option<String>> {
    let Some(s) = s else {
        return Some(None);
    };
    if s.contains('\0') {
        return None;
    }
    let mut literal = String::with_capacity(s.len() + 3);
    literal.push_str("E'");
    for c in s.chars() {
        match c {
            '\'' => literal.push_str("''"),
            '\\' => literal.push_str("\\\\"),
            c => literal.push(c),
        }
    }
    literal.push('\'');
    Some(Some(literal))
}

/// A date or time, formatted, as a quoted literal: `Some(None)` for none, `None` for a year
/// outside 1 to 9999 (which ISO 8601's four digits and PostgreSQL may read differently).
fn iso<D: std::fmt::Display>(formatted: Option<(D, chrono::NaiveDate)>) -> Option<Option<String>> {
    use chrono::Datelike as _;
    match formatted {
        None => Some(None),
        Some((text, date)) if (1..=9999).contains(&date.year()) => Some(Some(format!("'{text}'"))),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate, TimeZone as _, Utc};
    use sea_orm::DbBackend;

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    #[test]
    fn parameters_become_typed_literals() {
        let inlined = inline(&stmt(
            "SELECT * FROM posts WHERE id = $1 AND owner_id = $2 AND title = $3 AND published = $4 \
             LIMIT $5",
            vec![
                Value::BigInt(Some(-7)),
                Value::Int(None),
                Value::String(Some("it's a \\ test".to_owned())),
                Value::Bool(Some(true)),
                Value::BigUnsigned(Some(10)),
            ],
        ));
        assert_eq!(
            inlined.as_deref(),
            Some(
                "SELECT * FROM posts WHERE id = CAST(-7 AS int8) AND owner_id = CAST(NULL AS int4) \
                 AND title = CAST(E'it''s a \\\\ test' AS text) AND published = CAST(TRUE AS boolean) \
                 LIMIT CAST(10 AS int8)"
            )
        );
    }

    #[test]
    fn times_and_bytes_are_written_in_full() {
        let utc = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 5).unwrap();
        let fixed = FixedOffset::east_opt(2 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 7, 11, 30, 5)
            .unwrap();
        let inlined = inline(&stmt(
            "VALUES ($1, $2, $3)",
            vec![
                Value::ChronoDateTimeUtc(Some(utc)),
                Value::ChronoDateTimeWithTimeZone(Some(fixed)),
                Value::Bytes(Some(vec![0, 0xab, 0x27])),
            ],
        ));
        assert_eq!(
            inlined.as_deref(),
            Some(
                "VALUES (CAST('2026-12-07T09:30:05.000000+00:00' AS timestamptz), \
                 CAST('2026-12-07T11:30:05.000000+02:00' AS timestamptz), decode('00ab27', 'hex'))"
            )
        );
        let ancient = NaiveDate::from_ymd_opt(-5, 1, 1).unwrap();
        assert_eq!(
            inline(&stmt("SELECT $1", vec![Value::ChronoDate(Some(ancient))])),
            None
        );
    }

    #[test]
    fn placeholders_are_found_only_outside_literals_identifiers_and_comments() {
        let v = || vec![Value::Int(Some(1)), Value::Int(Some(2))];
        let inlined = inline(&stmt(
            "SELECT '$1', \"$1\", E'\\'$1', 'a''$1' -- $1\n/* $1 /* $2 */ $1 */ FROM t WHERE a = $2",
            v(),
        ));
        assert_eq!(
            inlined.as_deref(),
            Some(
                "SELECT '$1', \"$1\", E'\\'$1', 'a''$1' -- $1\n/* $1 /* $2 */ $1 */ \
                 FROM t WHERE a = CAST(2 AS int4)"
            )
        );
        // Ten parameters: `$10` is the tenth, not the first followed by a zero.
        let ten: Vec<Value> = (1..=10).map(|n| Value::Int(Some(n))).collect();
        assert_eq!(
            inline(&stmt("SELECT $10, $1", ten)).as_deref(),
            Some("SELECT CAST(10 AS int4), CAST(1 AS int4)")
        );
    }

    #[test]
    fn statements_naming_a_secret_column_are_never_written_out() {
        for sql in [
            r#"INSERT INTO "users" ("email", "password") VALUES ($1, $2)"#,
            r#"UPDATE "sessions" SET "refresh_token_hash" = $1 WHERE "id" = $2"#,
            r#"DELETE FROM "account_tokens" WHERE "token_hash" = $1 RETURNING "user_id""#,
        ] {
            assert_eq!(
                inline(&stmt(sql, vec![Value::from("a"), Value::from("b")])),
                None,
                "{sql}"
            );
        }
        let fine = r#"SELECT "email" FROM "users" WHERE "id" = $1"#;
        let fine = inline(&stmt(fine, vec![Value::Int(Some(1))]));
        assert!(fine.is_some());
    }

    #[test]
    fn what_is_not_understood_for_certain_is_refused() {
        let one = || vec![Value::Int(Some(1))];
        for sql in [
            "SELECT $$1$$",
            "SELECT $tag$x$tag$",
            "SELECT a$1 FROM t",
            "SELECT $1a",
            "SELECT $2",
            "SELECT $0",
            "SELECT 'unterminated $1",
            "SELECT '\\' || $1",
            "SELECT U&'\\0041' || $1",
            "SELECT /* open $1",
        ] {
            assert_eq!(inline(&stmt(sql, one())), None, "{sql}");
        }
        let nul = vec![Value::String(Some("a\0b".to_owned()))];
        assert_eq!(inline(&stmt("SELECT $1", nul)), None);
        let float = vec![Value::Double(Some(1.5))];
        assert_eq!(inline(&stmt("SELECT $1", float)), None);
        let tiny = vec![Value::TinyInt(Some(1))];
        assert_eq!(inline(&stmt("SELECT $1", tiny)), None);
        let huge = vec![Value::BigUnsigned(Some(u64::MAX))];
        assert_eq!(inline(&stmt("SELECT $1", huge)), None);
    }
}
