//! Argon2id password hashing with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane). Hashing
//! is deliberately slow, so it runs on the blocking pool, never on the async workers.

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::account::NewPassword;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP Argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub async fn hash(password: NewPassword) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::thread_rng());
        hasher()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await
    .context("password hashing task failed")?
}

/// A valid hash of a random password, verified against when the account does not exist so that a
/// login for an unknown email costs the same time as one for a known email.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut rand::thread_rng());
    hasher()
        .hash_password(b"no account has this password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Checks `candidate` against `stored` (or against a dummy hash when there is no account).
pub async fn verify(stored: Option<String>, candidate: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("stored hash is invalid: {e}"))?;
        let ok = hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && exists)
    })
    .await
    .context("password verification task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Email;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let email = Email::parse("ada@example.com").unwrap();
        let hashed = hash(NewPassword::parse("correct horse battery", &email).unwrap())
            .await
            .unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(Some(hashed.clone()), "correct horse battery".into())
            .await
            .unwrap());
        assert!(!verify(Some(hashed), "wrong horse battery".into())
            .await
            .unwrap());
        assert!(!verify(None, "no account has this password".into())
            .await
            .unwrap());
    }
}
