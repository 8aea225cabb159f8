//! What a vote says.

use super::Invalid;

/// Add (`Up`, `dir: 1`) or remove (`Down`, `dir: 0`) a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteDir {
    Down,
    Up,
}

impl VoteDir {
    /// # Errors
    /// Anything but 0 or 1 ([`Invalid::NotAVoteDir`]).
    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        match raw {
            0 => Ok(Self::Down),
            1 => Ok(Self::Up),
            _ => Err(Invalid::NotAVoteDir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_dir_is_zero_or_one() {
        assert_eq!(VoteDir::parse(1), Ok(VoteDir::Up));
        assert_eq!(VoteDir::parse(0), Ok(VoteDir::Down));
        assert_eq!(VoteDir::parse(2), Err(Invalid::NotAVoteDir));
        assert_eq!(VoteDir::parse(-1), Err(Invalid::NotAVoteDir));
    }
}
