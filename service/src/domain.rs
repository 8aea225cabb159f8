//! Values that can only hold valid input, built by `parse`.
//!
//! A parse failure is an [`Invalid`]: the kind, message and limit the API reports in its 422
//! body (names follow pydantic v2, which the course's clients know). The offending input is
//! never part of it: it may be a password.

use std::fmt;

use validator::ValidateEmail;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// pydantic v2's error type, e.g. `string_too_long`.
    pub kind: &'static str,
    /// Human-readable message.
    pub message: String,
    /// The limit that was broken, e.g. `("max_length", 300)`.
    pub ctx: Option<(&'static str, i64)>,
}

impl Invalid {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            ctx: None,
        }
    }

    fn too_short(min: usize, unit: &str) -> Self {
        let unit = if min == 1 {
            unit.trim_end_matches('s')
        } else {
            unit
        };
        Self {
            kind: "string_too_short",
            message: format!("String should have at least {min} {unit}"),
            ctx: Some(("min_length", min as i64)),
        }
    }

    fn too_long(max: usize, unit: &str) -> Self {
        Self {
            kind: "string_too_long",
            message: format!("String should have at most {max} {unit}"),
            ctx: Some(("max_length", max as i64)),
        }
    }

    /// A string holding U+0000, which PostgreSQL cannot store and no client means to send.
    pub fn nul() -> Self {
        Self::new(
            "string_pattern_mismatch",
            "String should not contain NUL characters",
        )
    }
}

/// Refuses NUL characters; every text field goes through this.
fn no_nul(s: &str) -> Result<(), Invalid> {
    if s.contains('\0') {
        Err(Invalid::nul())
    } else {
        Ok(())
    }
}

/// Checks a length in characters against inclusive bounds.
fn char_len(s: &str, min: usize, max: usize) -> Result<(), Invalid> {
    let n = s.chars().count();
    if n < min {
        Err(Invalid::too_short(min, "characters"))
    } else if n > max {
        Err(Invalid::too_long(max, "characters"))
    } else {
        Ok(())
    }
}

/// An email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address SMTP can carry (RFC 5321).
    pub const MAX_LEN: usize = 254;

    /// # Errors
    /// Not a valid address (`value_error`), or longer than [`Self::MAX_LEN`].
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        no_nul(raw)?;
        let email = raw.trim().to_lowercase();
        if email.len() > Self::MAX_LEN {
            return Err(Invalid::new(
                "value_error",
                "value is not a valid email address: the address is too long",
            ));
        }
        match Self::problem(&email) {
            None => Ok(Self(email)),
            Some(why) => Err(Invalid::new(
                "value_error",
                format!("value is not a valid email address: {why}"),
            )),
        }
    }

    /// What is wrong with an address, by the rules pydantic's `EmailStr` (email-validator)
    /// applies: the validator crate's syntax check, plus dot placement in the local part and
    /// a dotted, non-literal domain. Internationalised local parts are allowed (SMTPUTF8).
    fn problem(email: &str) -> Option<&'static str> {
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Some("an address needs an @");
        };
        if local.is_empty() || domain.is_empty() {
            return Some("an address needs text before and after the @");
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Some(
                "the part before the @ cannot start or end with a dot or have two in a row",
            );
        }
        if domain.starts_with('[') {
            return Some("address literals are not accepted");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return Some("the domain must be a dotted name, like example.com");
        }
        if labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Some("the domain must be a name, not a number");
        }
        // The validator crate checks the local part as ASCII; letters beyond ASCII are fine
        // there (SMTPUTF8), so stand them in with an ASCII letter for its check.
        let ascii_local: String = local
            .chars()
            .map(|c| {
                if c.is_alphanumeric() && !c.is_ascii() {
                    'x'
                } else {
                    c
                }
            })
            .collect();
        if !format!("{ascii_local}@{domain}").validate_email() {
            return Some("the address is not well formed");
        }
        None
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of 8 to 72 bytes (bcrypt reads no further than 72, so longer ones are refused
/// rather than silently cut).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_BYTES: usize = 8;
    pub const MAX_BYTES: usize = 72;

    /// # Errors
    /// Shorter than 8 or longer than 72 bytes, or holding a NUL.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        no_nul(&raw)?;
        if raw.len() < Self::MIN_BYTES {
            Err(Invalid::too_short(Self::MIN_BYTES, "bytes"))
        } else if raw.len() > Self::MAX_BYTES {
            Err(Invalid::too_long(Self::MAX_BYTES, "bytes"))
        } else {
            Ok(Self(raw))
        }
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A post title: 1 to 300 characters, not only whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    pub const MAX_CHARS: usize = 300;

    /// # Errors
    /// Empty, blank, too long, or holding a NUL.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        no_nul(&raw)?;
        char_len(&raw, 1, Self::MAX_CHARS)?;
        if raw.trim().is_empty() {
            return Err(Invalid::new(
                "string_pattern_mismatch",
                "String should not be only whitespace",
            ));
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A post's content: 1 to 20,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent(String);

impl PostContent {
    pub const MAX_CHARS: usize = 20_000;

    /// # Errors
    /// Empty, too long, or holding a NUL.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        no_nul(&raw)?;
        char_len(&raw, 1, Self::MAX_CHARS)?;
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The text searched for in post titles: at most 200 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    pub const MAX_CHARS: usize = 200;

    /// # Errors
    /// Too long, or holding a NUL.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        no_nul(&raw)?;
        char_len(&raw, 0, Self::MAX_CHARS)?;
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Add (`Up`, `dir: 1`) or remove (`Down`, `dir: 0`) a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteDir {
    Down,
    Up,
}

impl VoteDir {
    /// # Errors
    /// Anything but 0 or 1 (`literal_error`).
    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        match raw {
            0 => Ok(Self::Down),
            1 => Ok(Self::Up),
            _ => Err(Invalid::new("literal_error", "Input should be 0 or 1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn email_rules_follow_pydantic() {
        for bad in [
            ".a@c.com",
            "a.@c.com",
            "a..b@c.com",
            "a@b",
            "a@localhost",
            "a@[127.0.0.1]",
            "a@1.2.3.4",
            "@c.com",
            "a@",
            "a b@c.com",
            "a@c..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
        for good in [
            "a@c.com",
            "a.b+tag@sub.example.org",
            "ünï@example.com",
            "x@bücher.de",
        ] {
            assert!(Email::parse(good).is_ok(), "{good} should be accepted");
        }
    }

    #[test]
    fn email_without_at_or_with_nul_is_refused() {
        assert_eq!(Email::parse("nope").unwrap_err().kind, "value_error");
        assert_eq!(
            Email::parse("a\0@b.com").unwrap_err().kind,
            "string_pattern_mismatch"
        );
    }

    #[test]
    fn password_bounds_are_in_bytes() {
        assert!(Password::parse("a".repeat(8)).is_ok());
        assert!(Password::parse("a".repeat(72)).is_ok());
        assert_eq!(
            Password::parse("a".repeat(7)).unwrap_err().kind,
            "string_too_short"
        );
        assert_eq!(
            Password::parse("a".repeat(73)).unwrap_err().kind,
            "string_too_long"
        );
        // 36 two-byte characters are 72 bytes; 37 are one too many.
        assert!(Password::parse("é".repeat(36)).is_ok());
        assert!(Password::parse("é".repeat(37)).is_err());
    }

    #[test]
    fn password_debug_never_shows_it() {
        let p = Password::parse("secret-password".into()).unwrap();
        assert!(!format!("{p:?}").contains("secret"));
    }

    #[test]
    fn title_bounds_are_in_characters_and_blank_is_refused() {
        assert!(PostTitle::parse("é".repeat(300)).is_ok());
        assert_eq!(
            PostTitle::parse("é".repeat(301)).unwrap_err().ctx,
            Some(("max_length", 300))
        );
        assert_eq!(
            PostTitle::parse(String::new()).unwrap_err().kind,
            "string_too_short"
        );
        assert_eq!(
            PostTitle::parse("  \t".into()).unwrap_err().kind,
            "string_pattern_mismatch"
        );
    }

    #[test]
    fn vote_dir_is_zero_or_one() {
        assert_eq!(VoteDir::parse(1).unwrap(), VoteDir::Up);
        assert_eq!(VoteDir::parse(0).unwrap(), VoteDir::Down);
        assert_eq!(VoteDir::parse(2).unwrap_err().kind, "literal_error");
        assert!(VoteDir::parse(-1).is_err());
    }
}
