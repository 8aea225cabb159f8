//! What a user is made of: an email address and a password.

use std::fmt;

use validator::ValidateEmail;

use super::{Invalid, Unit, no_nul};

/// An email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// Why a string is not an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProblem {
    /// Longer than [`Email::MAX_LEN`] bytes.
    TooLong,
    /// No `@`.
    NoAt,
    /// Nothing before or nothing after the `@`.
    EmptyPart,
    /// The part before the `@` starts or ends with a dot, or has two in a row.
    Dots,
    /// An address literal (`a@[127.0.0.1]`).
    AddressLiteral,
    /// The domain is not a dotted name.
    NotDotted,
    /// The domain is a number (`a@1.2.3.4`).
    NumericDomain,
    /// Any other break of the syntax.
    Malformed,
}

impl Email {
    /// Longest address SMTP can carry (RFC 5321), in bytes.
    pub const MAX_LEN: usize = 254;

    /// # Errors
    /// Holding a NUL, or not a valid address ([`Invalid::NotAnEmail`]), too long included.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        no_nul(raw)?;
        let email = raw.trim().to_lowercase();
        if email.len() > Self::MAX_LEN {
            return Err(Invalid::NotAnEmail(EmailProblem::TooLong));
        }
        match Self::problem(&email) {
            None => Ok(Self(email)),
            Some(why) => Err(Invalid::NotAnEmail(why)),
        }
    }

    /// What is wrong with an address, by the rules the course's clients were held to (the
    /// Python email-validator library): the validator crate's syntax check, plus dot placement
    /// in the local part and a dotted, non-literal domain. Internationalised local parts are
    /// allowed (SMTPUTF8).
    fn problem(email: &str) -> Option<EmailProblem> {
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Some(EmailProblem::NoAt);
        };
        if local.is_empty() || domain.is_empty() {
            return Some(EmailProblem::EmptyPart);
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Some(EmailProblem::Dots);
        }
        if domain.starts_with('[') {
            return Some(EmailProblem::AddressLiteral);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return Some(EmailProblem::NotDotted);
        }
        if labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Some(EmailProblem::NumericDomain);
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
            return Some(EmailProblem::Malformed);
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
        let unit = Unit::Bytes;
        if raw.len() < Self::MIN_BYTES {
            Err(Invalid::TooShort {
                min: Self::MIN_BYTES,
                unit,
            })
        } else if raw.len() > Self::MAX_BYTES {
            Err(Invalid::TooLong {
                max: Self::MAX_BYTES,
                unit,
            })
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
    fn email_rules_follow_email_validator() {
        use EmailProblem::*;
        for (bad, why) in [
            (".a@c.com", Dots),
            ("a.@c.com", Dots),
            ("a..b@c.com", Dots),
            ("a@b", NotDotted),
            ("a@localhost", NotDotted),
            ("a@[127.0.0.1]", AddressLiteral),
            ("a@1.2.3.4", NumericDomain),
            ("@c.com", EmptyPart),
            ("a@", EmptyPart),
            ("a b@c.com", Malformed),
            ("a@c..com", NotDotted),
        ] {
            assert_eq!(Email::parse(bad), Err(Invalid::NotAnEmail(why)), "{bad}");
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
    fn email_without_at_too_long_or_with_nul_is_refused() {
        assert_eq!(
            Email::parse("nope"),
            Err(Invalid::NotAnEmail(EmailProblem::NoAt))
        );
        let long = format!("{}@example.com", "a".repeat(Email::MAX_LEN));
        assert_eq!(
            Email::parse(&long),
            Err(Invalid::NotAnEmail(EmailProblem::TooLong))
        );
        assert_eq!(Email::parse("a\0@b.com"), Err(Invalid::Nul));
    }

    #[test]
    fn password_bounds_are_in_bytes() {
        assert!(Password::parse("a".repeat(8)).is_ok());
        assert!(Password::parse("a".repeat(72)).is_ok());
        let unit = Unit::Bytes;
        assert_eq!(
            Password::parse("a".repeat(7)).unwrap_err(),
            Invalid::TooShort { min: 8, unit }
        );
        assert_eq!(
            Password::parse("a".repeat(73)).unwrap_err(),
            Invalid::TooLong { max: 72, unit }
        );
        // 36 two-byte characters are 72 bytes; 37 are one too many.
        assert!(Password::parse("é".repeat(36)).is_ok());
        assert!(Password::parse("é".repeat(37)).is_err());
        assert_eq!(
            Password::parse("a\0bcdefgh".into()).unwrap_err(),
            Invalid::Nul
        );
    }

    #[test]
    fn password_debug_never_shows_it() {
        let p = Password::parse("secret-password".into()).unwrap();
        assert!(!format!("{p:?}").contains("secret"));
    }
}
