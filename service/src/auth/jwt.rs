//! Access tokens: JWTs signed with the configured HMAC key, carrying the user's id under the
//! claim name the course's clients read (`user_id`), the session they belong to (`sid`) and
//! when they were issued (`iat`).

use chrono::Utc;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Auth, AuthConfig};
use crate::Error;

/// The keys and rules tokens are signed and checked with.
pub(super) struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    ttl_secs: i64,
}

impl Tokens {
    /// Keys from `config`'s secret, for `config`'s algorithm only.
    pub(super) fn new(config: &AuthConfig) -> Self {
        let mut validation = Validation::new(config.algorithm);
        // jsonwebtoken's default is 60 s; an expired token is expired.
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.required_spec_claims = ["exp".to_owned()].into();
        Self {
            encoding: EncodingKey::from_secret(config.secret.as_bytes()),
            decoding: DecodingKey::from_secret(config.secret.as_bytes()),
            header: Header::new(config.algorithm),
            validation,
            ttl_secs: config.token_ttl_secs,
        }
    }
}

/// The token's payload: the course's (`user_id`, `exp`), and ours besides. Tokens the course's
/// way, with neither `sid` nor `iat`, are still accepted.
#[derive(Serialize, Deserialize)]
struct Claims {
    user_id: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<i64>,
}

/// A freshly issued access token.
#[derive(Clone)]
pub struct Token(pub String);

// Hand-written so that a stray `{:?}` never prints the token.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// What a token that verifies says: whose it is, of which session, issued when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i64,
    /// The session (`sid`); `None` for a token minted the course's way.
    pub session_id: Option<i64>,
    /// `iat`, or, for a token without one, `exp` minus the configured lifetime.
    pub issued_at: i64,
}

impl Auth {
    /// Issues a token for `user_id` in `session_id`, valid for the configured lifetime.
    ///
    /// # Errors
    /// `Internal` if signing fails (it cannot with an HMAC key).
    pub fn issue(&self, user_id: i32, session_id: i32) -> Result<Token, Error> {
        let t = &self.tokens;
        let now = Utc::now().timestamp();
        let claims = Claims {
            user_id: i64::from(user_id),
            exp: now + t.ttl_secs,
            iat: Some(now),
            sid: Some(i64::from(session_id)),
        };
        jsonwebtoken::encode(&t.header, &claims, &t.encoding)
            .map(Token)
            .map_err(|e| Error::Internal(format!("cannot sign token: {e}")))
    }

    /// The lifetime of the access tokens this issues, in seconds.
    pub fn access_ttl_secs(&self) -> i64 {
        self.tokens.ttl_secs
    }

    /// What a valid token says. Whether its user and session still exist is the database's
    /// to say ([`authenticate`](super::authenticate)).
    ///
    /// # Errors
    /// `InvalidToken` for a bad signature, another algorithm, no or past `exp`, a
    /// `user_id`, `sid` or `iat` that is not an integer, or a `crit` header.
    pub fn verify(&self, token: &str) -> Result<Verified, Error> {
        let t = &self.tokens;
        if has_crit_header(token) {
            log::debug!("token rejected: a crit header");
            return Err(Error::InvalidToken);
        }
        jsonwebtoken::decode::<Claims>(token, &t.decoding, &t.validation)
            .map(|data| Verified {
                user_id: data.claims.user_id,
                session_id: data.claims.sid,
                issued_at: data
                    .claims
                    .iat
                    .unwrap_or_else(|| data.claims.exp.saturating_sub(t.ttl_secs)),
            })
            .map_err(|e| {
                // The kind only (expired, bad signature, ...): never the token itself.
                log::debug!("token rejected: {:?}", e.kind());
                Error::InvalidToken
            })
    }
}

/// Whether the token's header names critical extensions (`crit`). We understand none, and
/// RFC 7515 §4.1.11 says a token with one we do not understand must be refused; jsonwebtoken
/// 11 reads `crit` into its `Header` but `decode` does not refuse it, so the raw header is read
/// here (whatever the field holds, even a value `Header` could not read). A header that cannot
/// be read at all is left for jsonwebtoken to refuse.
fn has_crit_header(token: &str) -> bool {
    use base64::Engine as _;
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()
        .and_then(|raw| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&raw).ok()
        })
        .is_some_and(|fields| fields.contains_key("crit"))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::Algorithm;

    use super::super::{Auth, AuthConfig};

    fn auth(alg: Algorithm, secret: &str, ttl: i64) -> Auth {
        Auth::new(&AuthConfig {
            secret: secret.into(),
            algorithm: alg,
            token_ttl_secs: ttl,
            refresh_ttl_secs: 3600,
            require_email_verification: false,
            bcrypt_cost: 4,
            hash_concurrency: 2,
        })
    }

    #[test]
    fn issued_tokens_verify() {
        let a = auth(Algorithm::HS256, "k", 60);
        let t = a.issue(7, 3).unwrap();
        let v = a.verify(&t.0).unwrap();
        assert_eq!((v.user_id, v.session_id), (7, Some(3)));
        assert!((v.issued_at - chrono::Utc::now().timestamp()).abs() <= 1);
    }

    #[test]
    fn expired_tokens_fail_without_leeway() {
        let a = auth(Algorithm::HS256, "k", -1);
        let t = a.issue(7, 1).unwrap();
        assert!(a.verify(&t.0).is_err());
    }

    #[test]
    fn tampered_or_foreign_tokens_fail() {
        let a = auth(Algorithm::HS256, "k", 60);
        let other_key = auth(Algorithm::HS256, "other", 60).issue(7, 1).unwrap();
        assert!(a.verify(&other_key.0).is_err());
        let other_alg = auth(Algorithm::HS512, "k", 60).issue(7, 1).unwrap();
        assert!(a.verify(&other_alg.0).is_err());
        let mut t = a.issue(7, 1).unwrap().0;
        t.push('x');
        assert!(a.verify(&t).is_err());
    }

    #[test]
    fn tokens_with_a_crit_header_fail() {
        let a = auth(Algorithm::HS256, "k", 60);
        let claims = serde_json::json!({"user_id": 7, "exp": chrono::Utc::now().timestamp() + 60});
        let sign = |header: &str| {
            use base64::Engine as _;
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            let input = format!("{}.{}", b64(header), b64(&claims.to_string()));
            let key = jsonwebtoken::EncodingKey::from_secret(b"k");
            let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap();
            format!("{input}.{sig}")
        };
        // The same claims, signed with the right key: accepted without `crit`, refused with.
        assert!(a.verify(&sign(r#"{"alg":"HS256","typ":"JWT"}"#)).is_ok());
        for header in [
            r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
            r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"HS256","crit":[]}"#,
        ] {
            assert!(a.verify(&sign(header)).is_err(), "{header}");
        }
    }
}
