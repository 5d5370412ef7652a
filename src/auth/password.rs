//! Argon2id password hashing with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane). Hashing
//! is deliberately slow, so it runs on the blocking pool, never on the async workers, and through a
//! [`Hashing`] gate: a few at once, a bounded queue, and a quick "busy" beyond it, so a flood of
//! registrations or logins cannot take the memory or the blocking threads of the whole service.

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use tokio::sync::Semaphore;

use crate::config::HashingSettings;
use crate::domain::account::NewPassword;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP Argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The gate every hash and verification goes through.
pub struct Hashing {
    /// Requests admitted: running plus waiting.
    admitted: Semaphore,
    running: Semaphore,
}

/// The hashing queue is full; the caller should retry after a moment (503 with `Retry-After`).
#[derive(Debug, thiserror::Error)]
#[error("the password hashing queue is full")]
pub struct Busy;

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl Hashing {
    pub fn new(settings: &HashingSettings) -> Self {
        Hashing {
            admitted: Semaphore::new(settings.concurrency + settings.queue),
            running: Semaphore::new(settings.concurrency),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashingError> {
        let _admitted = self.admitted.try_acquire().map_err(|_| Busy)?;
        let _running = self
            .running
            .acquire()
            .await
            .context("the hashing gate is closed")?;
        Ok(tokio::task::spawn_blocking(work)
            .await
            .context("password hashing task failed")??)
    }

    pub async fn hash(&self, password: NewPassword) -> Result<String, HashingError> {
        self.run(move || hash_now(&password)).await
    }

    /// Checks `candidate` against `stored` (or against a dummy hash when there is no account, so
    /// that both cases cost the same).
    pub async fn verify(
        &self,
        stored: Option<String>,
        candidate: String,
    ) -> Result<bool, HashingError> {
        self.run(move || verify_now(stored, &candidate)).await
    }
}

fn hash_now(password: &NewPassword) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
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

fn verify_now(stored: Option<String>, candidate: &str) -> anyhow::Result<bool> {
    let exists = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let parsed =
        PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash is invalid: {e}"))?;
    let ok = hasher()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    Ok(ok && exists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Email;

    fn gate(concurrency: usize, queue: usize) -> Hashing {
        Hashing::new(&HashingSettings { concurrency, queue })
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let hashing = gate(1, 0);
        let email = Email::parse("ada@example.com").unwrap();
        let password = NewPassword::parse("correct horse battery", &email).unwrap();
        let hashed = hashing.hash(password).await.unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let verify =
            |stored: Option<String>, candidate: &str| hashing.verify(stored, candidate.to_string());
        assert!(verify(Some(hashed.clone()), "correct horse battery")
            .await
            .unwrap());
        assert!(!verify(Some(hashed), "wrong horse battery").await.unwrap());
        assert!(!verify(None, "no account has this password").await.unwrap());
    }

    #[tokio::test]
    async fn beyond_the_queue_the_gate_answers_busy_at_once() {
        let hashing = std::sync::Arc::new(gate(1, 1));
        let email = Email::parse("ada@example.com").unwrap();
        let attempts = (0..6).map(|_| {
            let hashing = hashing.clone();
            let password = NewPassword::parse("correct horse battery", &email).unwrap();
            tokio::spawn(async move { hashing.hash(password).await })
        });
        let results = futures_util::future::join_all(attempts).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Ok(Err(HashingError::Busy(_)))))
            .count();
        let done = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert!(
            done >= 1 && busy >= 1 && done + busy == 6,
            "{done} done, {busy} busy"
        );
    }
}
