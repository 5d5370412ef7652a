//! Idempotency keys: a caller's key claims a request once for 24 h; the stored answer replays it.

use crate::domain::ids::UserId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::idempotency_keys;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub request_hash: Vec<u8>,
    pub response_status: Option<i32>,
    pub response_body: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub response_headers: serde_json::Value,
}

pub enum KeyClaim {
    /// The key is ours, under this owner token: do the work, then `complete_key` (or
    /// `release_key` on failure) with it.
    Claimed(Uuid),
    /// The key was used before (or is in use); the caller decides from the stored row.
    Existing(IdempotencyRow),
    /// Another request held the key a moment ago and just let it go; retry shortly.
    Released,
}

/// Claims `(user, key)` for a request. A key older than 24 h, or one left in flight for over a
/// minute by a crashed request, is reclaimed.
pub async fn claim_key(
    conn: &mut AsyncPgConnection,
    user: UserId,
    key: &str,
    request_hash: &[u8],
) -> QueryResult<KeyClaim> {
    // Diesel has no ON CONFLICT ... DO UPDATE ... WHERE, hence the one raw statement of this module.
    let owner = Uuid::new_v4();
    let claimed = diesel::sql_query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, owner) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, key) DO UPDATE \
           SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL, \
               response_headers = '{}', owner = EXCLUDED.owner, \
               created_at = now() \
         WHERE idempotency_keys.created_at < now() - interval '24 hours' \
            OR (idempotency_keys.response_status IS NULL \
                AND idempotency_keys.created_at < now() - interval '60 seconds')",
    )
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::Bytea, _>(request_hash)
    .bind::<diesel::sql_types::Uuid, _>(owner)
    .execute(conn)
    .await?;
    if claimed == 1 {
        return Ok(KeyClaim::Claimed(owner));
    }
    let row = idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user))
        .filter(idempotency_keys::key.eq(key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .await
        .optional()?;
    // None: its owner released it between our insert and this read; it is still "in use" to us.
    Ok(match row {
        Some(row) => KeyClaim::Existing(row),
        None => KeyClaim::Released,
    })
}

/// Stores the response to replay; run it in the transaction that did the work. False when the
/// claim is no longer `owner`'s (reclaimed by a retry): the caller must then roll its work back.
pub async fn complete_key(
    conn: &mut AsyncPgConnection,
    user: UserId,
    key: &str,
    owner: Uuid,
    status: u16,
    headers: &serde_json::Value,
    body: &serde_json::Value,
) -> QueryResult<bool> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::owner.eq(owner))
            .filter(idempotency_keys::response_status.is_null()),
    )
    .set((
        idempotency_keys::response_status.eq(i32::from(status)),
        idempotency_keys::response_body.eq(body),
        idempotency_keys::response_headers.eq(headers),
    ))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Forgets keys past their 24 hours, for the background worker.
pub async fn delete_expired_keys(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(Utc::now() - chrono::Duration::hours(24))),
    )
    .execute(conn)
    .await
}

/// Frees a key whose request failed, so the caller may retry with it; only `owner`'s claim, never
/// the one a retry has taken over since.
pub async fn release_key(
    conn: &mut AsyncPgConnection,
    user: UserId,
    key: &str,
    owner: Uuid,
) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::owner.eq(owner))
            .filter(idempotency_keys::response_status.is_null()),
    )
    .execute(conn)
    .await
    .map(|_| ())
}
