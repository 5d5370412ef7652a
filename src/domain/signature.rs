//! Signed webhook bodies, Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
//! The platform verifies Stripe's deliveries with it and signs its own deliveries to integrators
//! with it, so integrators reuse what they know.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a webhook delivery is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches the payload")]
    Mismatch,
}

/// How many `v1=` candidates are tried.
const MAX_SIGNATURES: usize = 8;

/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

/// Verifies `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">[,v1=…]` over
/// the raw body, in constant time, within [`TOLERANCE_SECS`] of `now`.
pub fn verify(header: &str, payload: &[u8], secret: &str, now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.push(sig),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    // The body is hashed once; each candidate (a few at most: Stripe sends one per live secret)
    // is compared in constant time.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    for sig in signatures.into_iter().take(MAX_SIGNATURES) {
        let Some(expected) = hex_decode(sig) else {
            continue;
        };
        if mac.clone().verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The header a sender computes: `t=<t>,v1=<hex>` with one `v1` per secret (a secret being rolled
/// signs alongside its successor, so receivers holding either verify).
pub fn sign_all(payload: &[u8], secrets: &[&str], t: i64) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        header.push_str(",v1=");
        for b in mac.finalize().into_bytes() {
            header.push_str(&format!("{b:02x}"));
        }
    }
    header
}

/// [`sign_all`] with one secret.
pub fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    sign_all(payload, &[secret], t)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_tampering_or_age_is_refused() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
        let header = sign(body, "whsec_test", 1_000_000);
        assert_eq!(verify(&header, body, "whsec_test", 1_000_100), Ok(()));
        let tampered = br#"{"id":"evt_1","type":"payment_intent.succeeded "}"#;
        assert_eq!(
            verify(&header, tampered, "whsec_test", 1_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, body, "whsec_other", 1_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, body, "whsec_test", 1_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify("v1=abc", body, "whsec_test", 0),
            Err(SignatureError::Malformed)
        );
        // Several v1 signatures (a secret being rolled): any one matching is enough.
        let two = format!("{header},v1=00");
        let two = two.replacen("v1=", "v1=zz,v1=", 1);
        assert_eq!(verify(&two, body, "whsec_test", 1_000_000), Ok(()));
    }
}
