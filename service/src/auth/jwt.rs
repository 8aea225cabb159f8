//! Access tokens: JWTs signed with the configured HMAC key, carrying the user's id under the
//! claim name the course's clients read (`user_id`).

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

/// The token's payload, as the course's clients and server write it.
#[derive(Serialize, Deserialize)]
struct Claims {
    user_id: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct Token(pub String);

impl Auth {
    /// Issues a token for `user_id`, valid for the configured lifetime.
    ///
    /// # Errors
    /// `Internal` if signing fails (it cannot with an HMAC key).
    pub fn issue(&self, user_id: i32) -> Result<Token, Error> {
        let t = &self.tokens;
        let now = Utc::now().timestamp();
        let claims = Claims {
            user_id: i64::from(user_id),
            exp: now + t.ttl_secs,
            iat: Some(now),
        };
        jsonwebtoken::encode(&t.header, &claims, &t.encoding)
            .map(Token)
            .map_err(|e| Error::Internal(format!("cannot sign token: {e}")))
    }

    /// The `user_id` of a valid token.
    ///
    /// # Errors
    /// `InvalidToken` for a bad signature, another algorithm, no or past `exp`, or a
    /// `user_id` that is not an integer.
    pub fn verify(&self, token: &str) -> Result<i64, Error> {
        let t = &self.tokens;
        jsonwebtoken::decode::<Claims>(token, &t.decoding, &t.validation)
            .map(|data| data.claims.user_id)
            .map_err(|e| {
                // The kind only (expired, bad signature, ...): never the token itself.
                log::debug!("token rejected: {:?}", e.kind());
                Error::InvalidToken
            })
    }
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
            bcrypt_cost: 4,
            hash_concurrency: 2,
        })
    }

    #[test]
    fn issued_tokens_verify() {
        let a = auth(Algorithm::HS256, "k", 60);
        let t = a.issue(7).unwrap();
        assert_eq!(a.verify(&t.0).unwrap(), 7);
    }

    #[test]
    fn expired_tokens_fail_without_leeway() {
        let a = auth(Algorithm::HS256, "k", -1);
        let t = a.issue(7).unwrap();
        assert!(a.verify(&t.0).is_err());
    }

    #[test]
    fn tampered_or_foreign_tokens_fail() {
        let a = auth(Algorithm::HS256, "k", 60);
        let other_key = auth(Algorithm::HS256, "other", 60).issue(7).unwrap();
        assert!(a.verify(&other_key.0).is_err());
        let other_alg = auth(Algorithm::HS512, "k", 60).issue(7).unwrap();
        assert!(a.verify(&other_alg.0).is_err());
        let mut t = a.issue(7).unwrap().0;
        t.push('x');
        assert!(a.verify(&t).is_err());
    }
}
