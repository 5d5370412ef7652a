//! Opaque secrets handed to users (refresh tokens, password-reset tokens): 256 random bits, URL-safe.
//! Only their SHA-256 is stored, so a database leak does not leak usable tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The refresh token that follows `previous` in its session: derived under a server key, so a
/// retried refresh (its first answer lost) can be given the same successor again without the
/// plaintext ever being stored, and nobody without the key can compute it.
pub fn successor(key: &[u8], previous: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"createspace refresh successor v1\0");
    mac.update(previous.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_digests_stable() {
        let a = generate();
        assert_eq!(a.len(), 43);
        assert_ne!(a, generate());
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest("other"));
    }

    #[test]
    fn successors_are_stable_per_key_and_unguessable_without_it() {
        let a = generate();
        assert_eq!(successor(b"key one", &a), successor(b"key one", &a));
        assert_ne!(successor(b"key one", &a), successor(b"key two", &a));
        assert_ne!(
            successor(b"key one", &a),
            successor(b"key one", &generate())
        );
        assert_eq!(successor(b"key one", &a).len(), 43);
    }
}
