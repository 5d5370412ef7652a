//! `Idempotency-Key` for any `POST`: the first request with a key does the work and records its
//! answer (status, the headers a client needs, body) in the same transaction; a retry with the same
//! key and body replays that answer; the same key with another body is 422; a retry while the first
//! is still running is 409. A refusal (4xx) is an answer and replays too, except the ones that say
//! "retry"; a failure on our side frees the key.
//!
//! ```ignore
//! let claim = match idempotency::begin(&mut conn, &caller, &key, "POST /v1/things", &body).await? {
//!     Begin::Replay(response) => return Ok(response),
//!     Begin::Proceed(claim) => claim,
//! };
//! let result = /* the work, calling idempotency::complete(conn, claim, ...) in its transaction */;
//! if let Some(claim) = &claim { idempotency::settle(&mut conn, claim, &result).await; }
//! ```

use crate::domain::ids::UserId;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::auth_user::AuthUser;
use super::error::{ApiError, PROBLEM_JSON};
use super::extract::IdempotencyKey;
use crate::db::idempotency as keys;

/// A key this request holds until it settles.
pub struct Claim {
    user: UserId,
    key: String,
    owner: uuid::Uuid,
}

pub enum Begin {
    /// No key, or a key newly claimed: do the work.
    Proceed(Option<Claim>),
    /// The key already has an answer: send it again.
    Replay(HttpResponse),
}

/// What an idempotent request hashes: the route and the body, so one key cannot be replayed
/// against another request.
fn request_hash(route: &str, body: &impl Serialize) -> Vec<u8> {
    let canonical =
        serde_json::to_string(&serde_json::to_value(body).unwrap_or_default()).unwrap_or_default();
    Sha256::digest(format!("{route}\n{canonical}").as_bytes()).to_vec()
}

pub async fn begin(
    conn: &mut AsyncPgConnection,
    caller: &AuthUser,
    key: &IdempotencyKey,
    route: &str,
    body: &impl Serialize,
) -> Result<Begin, ApiError> {
    begin_for(conn, caller.id, key, route, body).await
}

/// As [`begin`], for a caller known so far by their token alone (a handler that checks the session
/// later, in its own statement). A 401 found then frees the key (see [`settle`]).
pub async fn begin_for(
    conn: &mut AsyncPgConnection,
    user: UserId,
    key: &IdempotencyKey,
    route: &str,
    body: &impl Serialize,
) -> Result<Begin, ApiError> {
    let Some(key) = key.0.as_deref() else {
        return Ok(Begin::Proceed(None));
    };
    let hash = request_hash(route, body);
    match keys::claim_key(conn, user, key, &hash).await? {
        keys::KeyClaim::Claimed(owner) => Ok(Begin::Proceed(Some(Claim {
            user,
            key: key.to_string(),
            owner,
        }))),
        keys::KeyClaim::Existing(row) if row.request_hash != hash => Err(ApiError::validation(
            "Idempotency-Key",
            "key_reused",
            "this key was used with a different request body",
        )),
        keys::KeyClaim::Existing(row) => match (row.response_status, row.response_body) {
            (Some(status), Some(body)) => {
                Ok(Begin::Replay(replay(status, &row.response_headers, body)))
            }
            _ => Err(key_in_use()),
        },
        keys::KeyClaim::Released => Err(key_in_use()),
    }
}

/// A `POST` that creates something, under its `Idempotency-Key` (if sent): a replay answers as the
/// first time; otherwise `work` runs and its 201 answer is recorded for the retries.
pub async fn created<T: Serialize + Send + Sync>(
    conn: &mut AsyncPgConnection,
    caller: &AuthUser,
    key: &IdempotencyKey,
    route: &str,
    body: &impl Serialize,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, ApiError>,
) -> Result<HttpResponse, ApiError> {
    use diesel_async::AsyncConnection;
    let claim = match begin(conn, caller, key, route, body).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Proceed(claim) => claim,
    };
    let result = async {
        let response = work(conn).await?;
        if let Some(claim) = &claim {
            conn.transaction::<_, ApiError, _>(async |conn| {
                complete(conn, claim, StatusCode::CREATED, &[], &response).await
            })
            .await?;
        }
        Ok(HttpResponse::Created().json(response))
    }
    .await;
    if let Some(claim) = &claim {
        settle(conn, claim, &result).await;
    }
    result
}

/// Records the answer to replay; call it in the transaction that did the work.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    status: StatusCode,
    headers: &[(header::HeaderName, String)],
    body: &impl Serialize,
) -> Result<(), ApiError> {
    let body = serde_json::to_value(body).map_err(anyhow::Error::from)?;
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    let recorded = keys::complete_key(
        conn,
        claim.user,
        &claim.key,
        claim.owner,
        status.as_u16(),
        &Value::Object(headers),
        &body,
    )
    .await?;
    if recorded {
        Ok(())
    } else {
        // This request ran so long that a retry took the key over: the retry's answer is the one
        // that counts, and this request's work must roll back (it runs in this transaction).
        Err(ApiError::conflict(
            "idempotency_key_reclaimed",
            "Request superseded",
            "A retry with this Idempotency-Key took this request over; its answer is the one that counts.",
        ))
    }
}

/// After the work: a refusal is the answer and is kept for replay; our failure frees the key.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    result: &Result<HttpResponse, ApiError>,
) {
    let settled = match result {
        // Conflicts that say "retry" are the exception: replaying them would make the retry pointless.
        Err(e) if e.status_code().is_client_error() && !is_retryable(e) => {
            match serde_json::to_value(e.to_problem()) {
                Ok(problem) => {
                    let status = e.status_code().as_u16();
                    let headers = json!({});
                    let owner = claim.owner;
                    keys::complete_key(
                        conn, claim.user, &claim.key, owner, status, &headers, &problem,
                    )
                    .await
                    .map(|_| ())
                }
                Err(_) => keys::release_key(conn, claim.user, &claim.key, claim.owner).await,
            }
        }
        // Our failure, or a transient one: free the key so a retry runs again.
        Err(_) => keys::release_key(conn, claim.user, &claim.key, claim.owner).await,
        Ok(_) => Ok(()),
    };
    if let Err(e) = settled {
        // The original outcome is what the caller needs; a stuck key is reclaimable after a minute.
        tracing::error!(error = ?e, "could not settle the idempotency key");
    }
}

fn key_in_use() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_use",
        "Request in progress",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    )
}

fn is_retryable(e: &ApiError) -> bool {
    // A 401 is no answer to the request: the same key sent again with a live session must run.
    matches!(
        e,
        ApiError::Unauthorized(_)
            | ApiError::RateLimited { .. }
            | ApiError::Busy { .. }
            | ApiError::Conflict {
                code: "concurrent_update" | "idempotency_key_reclaimed",
                ..
            }
    )
}

fn replay(status: i32, headers: &Value, body: Value) -> HttpResponse {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.insert_header(("Idempotent-Replayed", "true"));
    for (name, value) in headers.as_object().into_iter().flatten() {
        if let Some(value) = value.as_str() {
            res.insert_header((name.as_str(), value));
        }
    }
    if status.is_client_error() {
        return res.content_type(PROBLEM_JSON).body(body.to_string());
    }
    res.json(body)
}
