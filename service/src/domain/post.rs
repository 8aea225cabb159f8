//! What a post is made of, and how the list of posts is paged and searched.

use super::{Invalid, char_len, no_nul};

/// A post title: 1 to 300 characters, not only whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    pub const MIN_CHARS: usize = 1;
    pub const MAX_CHARS: usize = 300;

    /// # Errors
    /// Empty, blank, too long, or holding a NUL.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        no_nul(&raw)?;
        char_len(&raw, Self::MIN_CHARS, Self::MAX_CHARS)?;
        if raw.trim().is_empty() {
            return Err(Invalid::Blank);
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post's content: 1 to 20,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent(String);

impl PostContent {
    pub const MIN_CHARS: usize = 1;
    pub const MAX_CHARS: usize = 20_000;

    /// # Errors
    /// Empty, too long, or holding a NUL.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        no_nul(&raw)?;
        char_len(&raw, Self::MIN_CHARS, Self::MAX_CHARS)?;
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
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

/// How many posts one page of the list holds: 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u64);

impl PageSize {
    pub const MAX: i64 = 100;
    /// The page size when the client names none.
    pub const DEFAULT: Self = Self(10);

    /// # Errors
    /// Below 0 or above [`Self::MAX`].
    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        if raw < 0 {
            Err(Invalid::BelowMin { min: 0 })
        } else if raw > Self::MAX {
            Err(Invalid::AboveMax { max: Self::MAX })
        } else {
            Ok(Self(raw.unsigned_abs()))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// How many posts of the list come before the page: 0 or more (0 when the client names none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skip(u64);

impl Skip {
    /// # Errors
    /// Below 0.
    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        if raw < 0 {
            Err(Invalid::BelowMin { min: 0 })
        } else {
            Ok(Self(raw.unsigned_abs()))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::super::Unit;
    use super::*;

    #[test]
    fn title_bounds_are_in_characters_and_blank_is_refused() {
        let unit = Unit::Characters;
        assert!(PostTitle::parse("é".repeat(300)).is_ok());
        assert_eq!(
            PostTitle::parse("é".repeat(301)),
            Err(Invalid::TooLong { max: 300, unit })
        );
        assert_eq!(
            PostTitle::parse(String::new()),
            Err(Invalid::TooShort { min: 1, unit })
        );
        assert_eq!(PostTitle::parse("  \t".into()), Err(Invalid::Blank));
        assert_eq!(PostTitle::parse("a\0".into()), Err(Invalid::Nul));
    }

    #[test]
    fn content_bounds_are_in_characters() {
        let unit = Unit::Characters;
        assert!(PostContent::parse("ü".repeat(20_000)).is_ok());
        assert!(PostContent::parse(" ".into()).is_ok());
        assert_eq!(
            PostContent::parse("ü".repeat(20_001)),
            Err(Invalid::TooLong { max: 20_000, unit })
        );
        assert_eq!(
            PostContent::parse(String::new()),
            Err(Invalid::TooShort { min: 1, unit })
        );
    }

    #[test]
    fn search_may_be_empty_but_not_long() {
        assert_eq!(SearchTerm::parse(String::new()), Ok(SearchTerm::default()));
        assert!(SearchTerm::parse("s".repeat(200)).is_ok());
        assert_eq!(
            SearchTerm::parse("s".repeat(201)),
            Err(Invalid::TooLong {
                max: 200,
                unit: Unit::Characters
            })
        );
    }

    #[test]
    fn page_size_is_0_to_100_and_skip_not_negative() {
        assert_eq!(PageSize::parse(0).map(PageSize::get), Ok(0));
        assert_eq!(PageSize::parse(100).map(PageSize::get), Ok(100));
        assert_eq!(PageSize::parse(101), Err(Invalid::AboveMax { max: 100 }));
        assert_eq!(PageSize::parse(-1), Err(Invalid::BelowMin { min: 0 }));
        assert_eq!(PageSize::DEFAULT.get(), 10);
        assert_eq!(Skip::parse(i64::MAX).map(Skip::get), Ok(i64::MAX as u64));
        assert_eq!(Skip::parse(-1), Err(Invalid::BelowMin { min: 0 }));
        assert_eq!(Skip::default().get(), 0);
    }
}
