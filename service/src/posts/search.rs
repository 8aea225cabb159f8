//! Searching titles: "contains this term, ignoring case", answered the same on both
//! databases. The case folding is ours ([`case_forms`]), spelled as a pattern each database
//! matches literally: a SQLite `GLOB`, a PostgreSQL regular expression, or, for an ASCII term
//! on PostgreSQL, a plain `LIKE`.

use entity::post;
use sea_orm::DbBackend;
use sea_orm::sea_query::extension::postgres::PgBinOper;
use sea_orm::sea_query::extension::sqlite::SqliteExpr;
use sea_orm::sea_query::{Expr, ExprTrait};

/// `c` and the characters that differ from it only in case, by Rust's Unicode tables
/// (one-character mappings only, so `ß` stays `ß`).
fn case_forms(c: char) -> Vec<char> {
    fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
        match (mapped.next(), mapped.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    }
    let lower = single(c.to_lowercase());
    let upper = single(c.to_uppercase());
    let mut forms = vec![c];
    for form in [
        lower,
        upper,
        lower.and_then(|l| single(l.to_uppercase())),
        upper.and_then(|u| single(u.to_lowercase())),
    ]
    .into_iter()
    .flatten()
    {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// Writes `term` with each letter as the bracketed class of its case forms, and every other
/// character as `literal` spells it for the pattern language at hand.
fn fold_case(term: &str, out: &mut String, literal: impl Fn(char, &mut String)) {
    for c in term.chars() {
        let forms = case_forms(c);
        if forms.len() > 1 {
            out.push('[');
            out.extend(forms);
            out.push(']');
        } else {
            literal(c, out);
        }
    }
}

/// A SQLite `GLOB` pattern for "contains `term`, ignoring case"; `*`, `?` and `[` are
/// bracketed to stand for themselves.
fn glob_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() * 4 + 2);
    p.push('*');
    fold_case(term, &mut p, |c, out| {
        if matches!(c, '*' | '?' | '[') {
            out.extend(['[', c, ']']);
        } else {
            out.push(c);
        }
    });
    p.push('*');
    p
}

/// A PostgreSQL regular expression (`~`) for "contains `term`, ignoring case"; ASCII
/// punctuation is quoted with `\`.
fn regex_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() * 4);
    fold_case(term, &mut p, |c, out| {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    });
    p
}

/// A PostgreSQL `LIKE` pattern for "contains `term`" in a title whose ASCII letters are
/// lower-cased: `term`, lower-cased, between `%`s, with `%`, `_` and `\` quoted by `\`.
fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() * 2 + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c.to_ascii_lowercase());
    }
    p.push('%');
    p
}

/// The title with ASCII letters lower-cased and nothing else changed: `lower()` under the
/// `C` collation folds A–Z only, whatever the database's locale. `ix_posts_title_folded_trgm`
/// indexes exactly this expression.
const FOLDED_TITLE: &str = r#"lower("posts"."title" COLLATE "C")"#;

/// Title contains `term` literally, ignoring case, identically on both databases.
///
/// Case is folded by us, not by the database's locale: SQLite's `LIKE` and `lower()` fold
/// ASCII only, and PostgreSQL's `lower()` follows the database's locale, so each would answer
/// differently for "É". SQLite matches a `GLOB` of case classes. PostgreSQL matches the
/// title with its ASCII letters lower-cased ([`FOLDED_TITLE`]) against a regular expression
/// of case classes, the same [`case_forms`] as the `GLOB`'s; or, when the term is ASCII,
/// against a plain `LIKE` of the lower-cased term, which is the same test (an ASCII letter's
/// case forms are exactly its two ASCII cases) at a fraction of the cost per row.
pub(super) fn title_contains(backend: DbBackend, term: &str) -> Expr {
    match backend {
        DbBackend::Sqlite => {
            Expr::col((post::Entity, post::Column::Title)).glob(title_pattern(backend, term))
        }
        // PostgreSQL, the only other backend built.
        _ if by_like(term) => Expr::cust(FOLDED_TITLE).like(title_pattern(backend, term)),
        _ => Expr::cust(FOLDED_TITLE).binary(PgBinOper::Regex, title_pattern(backend, term)),
    }
}

/// Whether PostgreSQL matches `term` with a `LIKE` (an ASCII term) rather than a regular
/// expression ([`title_contains`]). The SQL built, its pattern and the memo that holds the
/// SQL (`query::ListPage`) all read the rule here, so that they cannot disagree.
pub(super) fn by_like(term: &str) -> bool {
    term.is_ascii()
}

/// The pattern [`title_contains`] matches titles against.
pub(super) fn title_pattern(backend: DbBackend, term: &str) -> String {
    match backend {
        DbBackend::Sqlite => glob_pattern(term),
        _ if by_like(term) => like_pattern(term),
        _ => regex_pattern(term),
    }
}

#[cfg(test)]
mod tests {
    use super::{glob_pattern, like_pattern, regex_pattern};

    #[test]
    fn letters_become_classes_of_their_case_forms() {
        assert_eq!(glob_pattern("Ab1"), "*[Aa][bB]1*");
        assert_eq!(regex_pattern("Ab1"), "[Aa][bB]1");
        assert_eq!(glob_pattern("é"), "*[éÉ]*");
        assert_eq!(regex_pattern("ß"), "ß");
    }

    #[test]
    fn wildcards_stand_for_themselves() {
        assert_eq!(glob_pattern("%_*?[]\\"), "*%_[*][?][[]]\\*");
        assert_eq!(
            regex_pattern("%_.*?[](){}|^$+\\ x"),
            "\\%\\_\\.\\*\\?\\[\\]\\(\\)\\{\\}\\|\\^\\$\\+\\\\ [xX]"
        );
        assert_eq!(glob_pattern(""), "**");
        assert_eq!(like_pattern("%_*?[]\\ X"), "%\\%\\_*?[]\\\\ x%");
        assert_eq!(like_pattern(""), "%%");
    }
}
