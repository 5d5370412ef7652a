//! Argon2id password hashing with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane). Hashing
//! is deliberately slow, so it runs on the blocking pool, never on the async workers, and through a
//! [`Hashing`] gate: a few at once, a bounded queue, and a quick "busy" beyond it, so a flood of
//! registrations or logins cannot take the memory or the blocking threads of the whole service.

use anyhow::Context;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use tokio::sync::Semaphore;

use crate::config::HashingSettings;
use crate::domain::account::NewPassword;

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("OWASP Argon2id parameters are valid")
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Argon2's 19 MiB of working memory, kept for the next hash: at most one buffer per hash that may
/// run at once. Allocated per hash instead, in whichever blocking thread ran it, the freed buffers
/// stayed in glibc's per-thread arenas: the server's resident set grew past 800 MiB under a burst
/// of logins.
#[derive(Clone, Default)]
struct Memory(std::sync::Arc<std::sync::Mutex<Vec<Vec<Block>>>>);

impl Memory {
    fn with<T>(&self, params: &Params, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let taken = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let mut blocks = taken
            .filter(|b| b.len() >= params.block_count())
            .unwrap_or_else(|| vec![Block::default(); params.block_count()]);
        let result = work(&mut blocks[..params.block_count()]);
        // Only buffers of today's size are kept: an old hash with a larger cost is a one-off.
        if blocks.len() == self::params().block_count() {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(blocks);
        }
        result
    }
}

/// The gate every hash and verification goes through.
pub struct Hashing {
    /// Requests admitted: running plus waiting.
    admitted: Semaphore,
    running: Semaphore,
    memory: Memory,
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
            memory: Memory::default(),
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
        let memory = self.memory.clone();
        self.run(move || hash_now(&password, &memory)).await
    }

    /// Checks `candidate` against `stored` (or against a dummy hash when there is no account, so
    /// that both cases cost the same).
    pub async fn verify(
        &self,
        stored: Option<String>,
        candidate: String,
    ) -> Result<bool, HashingError> {
        let memory = self.memory.clone();
        self.run(move || verify_now(stored, &candidate, &memory))
            .await
    }
}

fn hash_now(password: &NewPassword, memory: &Memory) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    let mut raw_salt = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut raw_salt)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0u8; 32];
    let params = params();
    memory
        .with(&params, |blocks| {
            hasher().hash_password_into_with_memory(
                password.expose().as_bytes(),
                salt_bytes,
                &mut out,
                blocks,
            )
        })
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let email = crate::domain::account::Email::parse("nobody@example.invalid");
    email
        .ok()
        .and_then(|e| NewPassword::parse("no account has this password", &e).ok())
        .and_then(|p| hash_now(&p, &Memory::default()).ok())
        .unwrap_or_default()
});

/// Checks `candidate` against a stored PHC string, in the reused memory; the comparison of the
/// outputs is constant-time (`Output`'s equality).
fn verify_now(stored: Option<String>, candidate: &str, memory: &Memory) -> anyhow::Result<bool> {
    let exists = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let parsed =
        PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash is invalid: {e}"))?;
    anyhow::ensure!(
        parsed.algorithm == argon2::ARGON2ID_IDENT,
        "stored hash is not argon2id"
    );
    let params = Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version =
        Version::try_from(parsed.version.unwrap_or(0x13)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash has no salt or output");
    };
    let mut raw_salt = [0u8; 64];
    let salt = salt
        .decode_b64(&mut raw_salt)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(Algorithm::Argon2id, version, params.clone());
    memory
        .with(&params, |blocks| {
            argon.hash_password_into_with_memory(candidate.as_bytes(), salt, &mut out, blocks)
        })
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let ok = Output::new(&out).is_ok_and(|o| o == expected);
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

    #[test]
    fn hashes_made_before_the_memory_was_reused_still_verify_and_the_memory_is_kept() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut rand::thread_rng());
        let old = hasher()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        let memory = Memory::default();
        assert!(verify_now(Some(old.clone()), "correct horse battery", &memory).unwrap());
        assert!(!verify_now(Some(old), "wrong horse battery", &memory).unwrap());
        assert_eq!(
            memory.0.lock().unwrap().len(),
            1,
            "one buffer, kept for the next hash"
        );
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
