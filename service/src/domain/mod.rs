//! Values that can only hold valid input, built by `parse`, and every limit on that input.
//!
//! A parse failure is an [`Invalid`]: what is wrong, in the domain's terms, with the limit
//! that was broken. How a client is told (status, wording, field names) is the caller's
//! business. The offending input is never part of it: it may be a password.

mod post;
mod user;
mod vote;

pub use post::{PageSize, PostContent, PostTitle, SearchTerm, Skip};
pub use user::{Email, EmailProblem, Password};
pub use vote::VoteDir;

/// Why a value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Shorter than `min` units.
    TooShort { min: usize, unit: Unit },
    /// Longer than `max` units.
    TooLong { max: usize, unit: Unit },
    /// Only whitespace where text is needed.
    Blank,
    /// Holds U+0000, which PostgreSQL cannot store and no client means to send.
    Nul,
    /// Not an email address, and why.
    NotAnEmail(EmailProblem),
    /// A vote direction other than 0 (remove) or 1 (add).
    NotAVoteDir,
    /// A number below `min`.
    BelowMin { min: i64 },
    /// A number above `max`.
    AboveMax { max: i64 },
    /// An id of 0 or less: ids start at 1.
    NotPositive,
}

/// What a length is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode scalar values (`char`s), as people count.
    Characters,
    /// UTF-8 bytes, as bcrypt counts.
    Bytes,
}

/// An id a client names a row by (a user, a post): 1 or more, as the database counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(i64);

impl Id {
    /// # Errors
    /// Zero or less ([`Invalid::NotPositive`]).
    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        if raw >= 1 {
            Ok(Self(raw))
        } else {
            Err(Invalid::NotPositive)
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Refuses NUL characters; every text field goes through this.
fn no_nul(s: &str) -> Result<(), Invalid> {
    if s.contains('\0') {
        Err(Invalid::Nul)
    } else {
        Ok(())
    }
}

/// Checks a length in characters against inclusive bounds.
fn char_len(s: &str, min: usize, max: usize) -> Result<(), Invalid> {
    let n = s.chars().count();
    let unit = Unit::Characters;
    if n < min {
        Err(Invalid::TooShort { min, unit })
    } else if n > max {
        Err(Invalid::TooLong { max, unit })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one() {
        assert_eq!(Id::parse(1).map(Id::get), Ok(1));
        assert_eq!(Id::parse(i64::MAX).map(Id::get), Ok(i64::MAX));
        assert_eq!(Id::parse(0), Err(Invalid::NotPositive));
        assert_eq!(Id::parse(-1), Err(Invalid::NotPositive));
    }
}
