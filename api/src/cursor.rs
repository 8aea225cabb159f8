//! The opaque cursors of `GET /posts/`: a keyset boundary sealed with an HMAC, so that a
//! client can only hand back what the server gave it.
//!
//! A cursor is base64url (no padding) of: a version byte, a direction byte, the boundary id
//! (4 bytes, big-endian), then the first 16 bytes of HMAC-SHA256 over those 6 bytes and the
//! search the cursor was made for. The search is not in the cursor, only under its tag: a
//! cursor handed back with another search fails its check as a tampered one does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use service::posts::Keyset;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const BODY_LEN: usize = 6;

/// The key cursors are sealed with, derived from `SECRET_KEY` (so that it is never the JWT
/// key itself, and a cursor can never pass for anything else).
pub struct CursorKey([u8; 32]);

impl CursorKey {
    /// HMAC-SHA256 of a fixed label under `secret`.
    pub fn derive(secret: &str) -> Self {
        let mut key = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) {
            mac.update(b"posts list cursor v1");
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        Self(key)
    }

    fn mac(&self, body: &[u8], search: &str) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.0).ok()?;
        mac.update(body);
        mac.update(search.as_bytes());
        Some(mac)
    }

    /// The cursor for `keyset` within the list filtered by `search`.
    pub fn seal(&self, keyset: Keyset, search: &str) -> String {
        let (dir, id) = match keyset {
            Keyset::Older(id) => (0u8, id),
            Keyset::Newer(id) => (1u8, id),
        };
        let mut bytes = Vec::with_capacity(BODY_LEN + TAG_LEN);
        bytes.extend([VERSION, dir]);
        bytes.extend(id.to_be_bytes());
        if let Some(mac) = self.mac(&bytes, search) {
            bytes.extend(&mac.finalize().into_bytes()[..TAG_LEN]);
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The keyset of a cursor this key sealed for `search`; `None` for anything else
    /// (malformed, tampered, of another search or key).
    pub fn open(&self, cursor: &str, search: &str) -> Option<Keyset> {
        if cursor.len() > 64 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        if bytes.len() != BODY_LEN + TAG_LEN {
            return None;
        }
        let (body, tag) = bytes.split_at(BODY_LEN);
        self.mac(body, search)?.verify_truncated_left(tag).ok()?;
        let id = i32::from_be_bytes([body[2], body[3], body[4], body[5]]);
        match (body[0], body[1]) {
            (VERSION, 0) => Some(Keyset::Older(id)),
            (VERSION, 1) => Some(Keyset::Newer(id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_with_its_key_and_search() {
        let key = CursorKey::derive("one secret");
        for keyset in [
            Keyset::Older(42),
            Keyset::Newer(i32::MAX),
            Keyset::Older(-1),
        ] {
            let cursor = key.seal(keyset, "rust");
            assert_eq!(key.open(&cursor, "rust"), Some(keyset));
            assert_eq!(key.open(&cursor, "Rust"), None, "another search");
            assert_eq!(key.open(&cursor, ""), None, "no search");
            assert_eq!(CursorKey::derive("another").open(&cursor, "rust"), None);
        }
    }

    #[test]
    fn a_tampered_or_malformed_cursor_does_not_open() {
        let key = CursorKey::derive("s");
        let cursor = key.seal(Keyset::Older(7), "");
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        bytes[5] ^= 1;
        assert_eq!(key.open(&URL_SAFE_NO_PAD.encode(&bytes), ""), None);
        for bad in [
            "",
            "x",
            "!!!!",
            &cursor[1..],
            &format!("{cursor}A"),
            &"A".repeat(200),
        ] {
            assert_eq!(key.open(bad, ""), None, "{bad}");
        }
    }
}
