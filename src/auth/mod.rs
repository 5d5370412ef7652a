//! Credentials: password hashing, access tokens (JWT) and opaque secrets (refresh and reset tokens).
//! No HTTP and no SQL here; handlers combine these with `db` queries.

pub mod jwt;
pub mod password;
pub mod secret;
