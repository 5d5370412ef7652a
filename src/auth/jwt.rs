//! Access tokens: HS256 JWTs with `sub`, `sid`, `exp`, `iat`, `jti` and a `kid` header naming the key.
//! The algorithm is pinned; keys rotate by moving the old secret to `JWT_PREVIOUS_SECRETS`.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::JwtSettings;
use crate::domain::ids::UserId;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    /// The session (login) the token belongs to: revoking it ends the token at once.
    pub sid: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or uses another algorithm")]
    Malformed,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token's signature or claims are invalid: {0}")]
    Invalid(String),
}

pub struct Keys {
    current_kid: String,
    encoding: EncodingKey,
    decoding: Vec<(String, DecodingKey)>,
    access_ttl: Duration,
    validation: Validation,
}

/// A key id derived from the secret, so it never needs configuring and never reveals the secret.
fn kid(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

impl Keys {
    pub fn new(settings: &JwtSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let decoding = std::iter::once(&settings.secret)
            .chain(settings.previous_secrets.iter())
            .map(secrecy::ExposeSecret::expose_secret)
            .map(|s| (kid(s), DecodingKey::from_secret(s.as_bytes())))
            .collect();
        Keys {
            current_kid: kid(settings.secret.expose_secret()),
            encoding: EncodingKey::from_secret(settings.secret.expose_secret().as_bytes()),
            decoding,
            access_ttl: settings.access_ttl,
            validation,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Issues an access token for `user`, valid for the configured lifetime from `now`.
    pub fn issue(&self, user: UserId, session: Uuid, now: i64) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user,
            sid: session,
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            jti: Uuid::now_v7(),
        };
        self.sign(&claims)
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current_kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Malformed);
        }
        let key = match header.kid {
            Some(kid) => self
                .decoding
                .iter()
                .find(|(k, _)| *k == kid)
                .map(|(_, key)| key)
                .ok_or(TokenError::UnknownKey)?,
            None => return Err(TokenError::UnknownKey),
        };
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secret: &str, previous: &[&str]) -> JwtSettings {
        JwtSettings {
            secret: secret.into(),
            previous_secrets: previous.iter().map(|s| (*s).into()).collect(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86400),
            session_max_age: Duration::from_secs(90 * 86400),
            refresh_grace: Duration::from_secs(30),
            generated: false,
        }
    }

    const A: &str = "a-secret-of-at-least-thirty-two-characters";
    const B: &str = "b-secret-of-at-least-thirty-two-characters";

    #[test]
    fn round_trips_and_rotates() {
        let now = chrono::Utc::now().timestamp();
        let user = UserId::new();
        let old = Keys::new(&settings(A, &[]));
        let token = old.issue(user, Uuid::now_v7(), now).unwrap();
        assert_eq!(old.verify(&token).unwrap().sub, user);

        let rotated = Keys::new(&settings(B, &[A]));
        assert_eq!(rotated.verify(&token).unwrap().sub, user);

        let forgot = Keys::new(&settings(B, &[]));
        assert!(matches!(forgot.verify(&token), Err(TokenError::UnknownKey)));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = Keys::new(&settings(A, &[]));
        let token = keys
            .issue(
                UserId::new(),
                Uuid::now_v7(),
                chrono::Utc::now().timestamp() - 3600,
            )
            .unwrap();
        assert!(matches!(keys.verify(&token), Err(TokenError::Invalid(_))));
    }
}
