//! The opaque secrets handed to clients (refresh tokens, and the tokens sent by mail): 256
//! random bits from the operating system, base64url without padding (43 characters). Only
//! their SHA-256 is ever stored: a plain hash suffices for 256 random bits, which no one can
//! guess, and it lets the database find a token by its hash with an index.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::Error;

/// A new secret: what the client gets, and what the database keeps.
pub struct Secret {
    /// Sent to the client once; never stored or logged.
    pub plain: String,
    /// [`hash`] of `plain`.
    pub hash: String,
}

// Hand-written so that a stray `{:?}` never prints the secret.
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// 256 fresh random bits.
///
/// # Errors
/// `Internal` if the operating system has no randomness to give.
pub fn generate() -> Result<Secret, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    let plain = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&plain);
    Ok(Secret { plain, hash })
}

/// The stored form of a secret a client presents: SHA-256, lower-case hex (64 characters).
pub fn hash(plain: &str) -> String {
    format!("{:x}", Sha256::digest(plain.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_43_url_safe_characters_hashed_to_64_hex_digits() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.plain, b.plain);
        assert_eq!(a.plain.len(), 43);
        assert!(
            a.plain
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.hash, hash(&a.plain));
        assert_eq!(a.hash.len(), 64);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
