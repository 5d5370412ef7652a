//! The worker's side of webhooks: queueing deliveries at fan-out, claiming them under a lease,
//! recording each attempt, and settling (fenced by the attempt number).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Int4, Interval, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::EndpointRow;
use crate::db::notifications::deliveries::interval;
use crate::db::prepared::prepared;
use crate::domain::ids::UserId;

/// An enabled endpoint of a live account, as the fan-out needs it.
#[derive(QueryableByName, Debug)]
pub struct Subscription {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub owner_id: UserId,
    #[diesel(sql_type = Array<Text>)]
    pub events: Vec<String>,
}

pub async fn subscriptions(
    conn: &mut AsyncPgConnection,
    owners: &[UserId],
) -> QueryResult<Vec<Subscription>> {
    prepared(
        "SELECT e.id, e.owner_id, e.events FROM webhook_endpoints e \
         JOIN users u ON u.id = e.owner_id AND u.disabled_at IS NULL \
         WHERE e.enabled AND e.owner_id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(owners.iter().map(UserId::as_uuid).collect::<Vec<_>>())
    .load(conn)
    .await
}

/// Queues one delivery per (endpoint, event); a pair already queued is left alone.
pub async fn queue(conn: &mut AsyncPgConnection, pairs: &[(Uuid, Uuid)]) -> QueryResult<usize> {
    if pairs.is_empty() {
        return Ok(0);
    }
    let (endpoints, events): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    let ids: Vec<Uuid> = pairs.iter().map(|_| Uuid::now_v7()).collect();
    prepared(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) \
         ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<SqlUuid>, _>(endpoints)
    .bind::<Array<SqlUuid>, _>(events)
    .execute(conn)
    .await
}

/// A delivery claimed for sending, with what signing and sending it needs.
#[derive(QueryableByName, Debug, Clone)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub endpoint_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    /// This claim's attempt number; later writes are fenced by it.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub queued_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
    /// The rotated-out secret, while it still signs.
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub event_created_at: DateTime<Utc>,
}

/// Claims up to `limit` due deliveries to enabled endpoints under a lease of `lease`.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<Claimed>> {
    prepared(
        "WITH due AS ( \
           SELECT d.id FROM webhook_deliveries d \
           JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled \
           JOIN users u ON u.id = e.owner_id AND u.disabled_at IS NULL \
           WHERE d.status = 'pending' AND d.next_attempt_at <= now() \
           ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED), \
         claimed AS ( \
           UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + $2 \
           FROM due WHERE d.id = due.id \
           RETURNING d.id, d.endpoint_id, d.event_id, d.attempts, d.created_at AS queued_at) \
         SELECT c.*, e.url, e.secret, \
           CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret, \
           o.event_type, o.payload, o.created_at AS event_created_at \
         FROM claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id \
         JOIN outbox_events o ON o.id = c.event_id",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Interval, _>(interval(lease))
    .load(conn)
    .await
}

/// What an attempt saw, to record.
pub struct NewAttempt<'a> {
    pub delivery: &'a Claimed,
    pub succeeded: bool,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

pub async fn record_attempt(conn: &mut AsyncPgConnection, a: NewAttempt<'_>) -> QueryResult<()> {
    prepared(
        // Nothing is logged for a delivery deleted meanwhile (with its endpoint).
        "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, event_id, event_type, attempt, \
           succeeded, status_code, latency_ms, response_excerpt, error) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
         WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $2)",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(a.delivery.id)
    .bind::<SqlUuid, _>(a.delivery.endpoint_id)
    .bind::<SqlUuid, _>(a.delivery.event_id)
    .bind::<Text, _>(a.delivery.event_type.clone())
    .bind::<Int4, _>(a.delivery.attempts)
    .bind::<Bool, _>(a.succeeded)
    .bind::<Nullable<Int4>, _>(a.status_code)
    .bind::<Int4, _>(a.latency_ms)
    .bind::<Nullable<Text>, _>(a.response_excerpt)
    .bind::<Nullable<Text>, _>(a.error)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Settles a claimed delivery: delivered, failed for good, or due again at `retry_at`. Fenced by
/// the claim's attempt number: a worker whose lease ran out changes nothing. Returns whether it
/// was still this claim's to settle.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    d: &Claimed,
    outcome: Settled,
) -> QueryResult<bool> {
    let (status, retry_at) = match outcome {
        Settled::Delivered => ("delivered", None),
        Settled::Failed => ("failed", None),
        Settled::RetryAt(at) => ("pending", Some(at)),
    };
    let n = prepared(
        "UPDATE webhook_deliveries SET status = $3, \
           next_attempt_at = COALESCE($4, next_attempt_at), \
           delivered_at = CASE WHEN $3 = 'delivered' THEN now() END \
         WHERE id = $1 AND attempts = $2 AND status = 'pending'",
    )
    .bind::<SqlUuid, _>(d.id)
    .bind::<Int4, _>(d.attempts)
    .bind::<Text, _>(status)
    .bind::<Nullable<Timestamptz>, _>(retry_at)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    Failed,
    RetryAt(DateTime<Utc>),
}

/// After a success: the endpoint is healthy again.
pub async fn mark_healthy(conn: &mut AsyncPgConnection, endpoint: Uuid) -> QueryResult<()> {
    prepared("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
        .bind::<SqlUuid, _>(endpoint)
        .execute(conn)
        .await
        .map(|_| ())
}

/// After a failure: notes when failures began, and disables the endpoint if that was longer than
/// `disable_after` ago, or if `gave_up` (a delivery that failed for `disable_after` and is given
/// up) saw no success of the endpoint since its first attempt. Returns the endpoint if this call
/// disabled it (the caller gives up its pending deliveries in the same transaction).
pub async fn mark_failing(
    conn: &mut AsyncPgConnection,
    endpoint: Uuid,
    disable_after: Duration,
    gave_up: Option<Uuid>,
) -> QueryResult<Option<EndpointRow>> {
    prepared("UPDATE webhook_endpoints SET failing_since = now() WHERE id = $1 AND failing_since IS NULL")
        .bind::<SqlUuid, _>(endpoint)
        .execute(conn)
        .await?;
    prepared(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', \
           version = version + 1, updated_at = now() \
         WHERE id = $1 AND enabled AND (failing_since <= now() - $2 OR failing_since <= \
           (SELECT min(attempted_at) FROM webhook_attempts WHERE delivery_id = $3)) \
         RETURNING *",
    )
    .bind::<SqlUuid, _>(endpoint)
    .bind::<Interval, _>(interval(disable_after))
    .bind::<SqlUuid, _>(gave_up.unwrap_or(Uuid::nil()))
    .get_result(conn)
    .await
    .optional()
}

/// Gives up on an endpoint's pending deliveries (it was disabled for failing).
pub async fn fail_pending(conn: &mut AsyncPgConnection, endpoint: Uuid) -> QueryResult<usize> {
    prepared("UPDATE webhook_deliveries SET status = 'failed' WHERE endpoint_id = $1 AND status = 'pending'")
        .bind::<SqlUuid, _>(endpoint)
        .execute(conn)
        .await
}

/// Deletes delivery attempts older than 30 days (the log is for debugging recent deliveries).
pub async fn purge_attempts(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    // Ids are time-ordered: the primary key finds the old rows.
    let before = crate::db::live::v7_floor(Utc::now() - chrono::Duration::days(30));
    prepared("DELETE FROM webhook_attempts WHERE id < $1")
        .bind::<SqlUuid, _>(before)
        .execute(conn)
        .await
}
