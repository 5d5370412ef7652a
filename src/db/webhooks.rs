//! Integrators' webhook endpoints, the deliveries fanned out to them, and what each attempt saw.
//! Every read and write of an endpoint is scoped to its owner in the statement itself.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Int4, Interval, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::notifications::deliveries::interval;
use super::prepared::prepared;
use super::schema::{webhook_attempts, webhook_endpoints};
use super::Update;
use crate::domain::ids::{UserId, WebhookEndpointId};

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub owner_id: UserId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint {
    pub id: WebhookEndpointId,
    pub owner_id: UserId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub secret: String,
}

/// What an owner may change. `enabled` goes with `disabled_reason` (see [`EndpointChanges::enable`]).
#[derive(AsChangeset, Default)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    /// Cleared on re-enabling: the failures that disabled it are behind.
    pub failing_since: Option<Option<DateTime<Utc>>>,
}

impl EndpointChanges {
    pub fn enable(&mut self, on: bool) {
        self.enabled = Some(on);
        self.disabled_reason = Some((!on).then(|| "owner".to_string()));
        if on {
            self.failing_since = Some(None);
        }
    }
}

/// Counts the owner's endpoints with the owner's row locked, so two concurrent creations cannot
/// both pass the limit.
pub async fn lock_count(conn: &mut AsyncPgConnection, owner: UserId) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: N = prepared(
        "SELECT (SELECT count(*) FROM webhook_endpoints WHERE owner_id = u.id) AS n \
         FROM users u WHERE u.id = $1 FOR NO KEY UPDATE",
    )
    .bind::<SqlUuid, _>(owner)
    .get_result(conn)
    .await?;
    Ok(row.n)
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewEndpoint) -> QueryResult<EndpointRow> {
    diesel::insert_into(webhook_endpoints::table)
        .values(new)
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::owner_id.eq(owner))
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The owner's endpoints, newest first, before `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    before: Option<WebhookEndpointId>,
    limit: i64,
) -> QueryResult<Vec<EndpointRow>> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::owner_id.eq(owner))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_endpoints::id.lt(before));
    }
    query.load(conn).await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
    changes: EndpointChanges,
    expected_version: Option<i64>,
) -> QueryResult<Update<EndpointRow>> {
    let mut target = diesel::update(webhook_endpoints::table)
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::owner_id.eq(owner))
        .into_boxed();
    if let Some(v) = expected_version {
        target = target.filter(webhook_endpoints::version.eq(v));
    }
    let updated = target
        .set((
            changes,
            webhook_endpoints::version.eq(webhook_endpoints::version + 1),
            webhook_endpoints::updated_at.eq(diesel::dsl::now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    Ok(match updated {
        Some(row) => Update::Updated(row),
        None => match find(conn, owner, id).await? {
            Some(row) => Update::Stale(row.version),
            None => Update::NotFound,
        },
    })
}

/// Replaces the secret; the old one keeps signing alongside until `overlap_until`.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
    secret: String,
    overlap_until: DateTime<Utc>,
) -> QueryResult<Option<EndpointRow>> {
    use webhook_endpoints::dsl as e;
    diesel::update(
        e::webhook_endpoints
            .filter(e::id.eq(id))
            .filter(e::owner_id.eq(owner)),
    )
    // One rotation at a time: a second would cut the first old secret off at once.
    .filter(
        e::previous_secret_expires_at
            .is_null()
            .or(e::previous_secret_expires_at.le(diesel::dsl::now)),
    )
    .set((
        e::previous_secret.eq(e::secret.nullable()),
        e::previous_secret_expires_at.eq(overlap_until),
        e::secret.eq(secret),
        e::version.eq(e::version + 1),
        e::updated_at.eq(diesel::dsl::now),
    ))
    .returning(EndpointRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
) -> QueryResult<bool> {
    let n = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .filter(webhook_endpoints::owner_id.eq(owner)),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub attempt: i32,
    pub succeeded: bool,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

/// An endpoint's attempts, newest first (the endpoint already known to be the caller's).
pub async fn attempts(
    conn: &mut AsyncPgConnection,
    endpoint: WebhookEndpointId,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<AttemptRow>> {
    let mut query = webhook_attempts::table
        .filter(webhook_attempts::endpoint_id.eq(endpoint))
        .select(AttemptRow::as_select())
        .order(webhook_attempts::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_attempts::id.lt(before));
    }
    query.load(conn).await
}

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
    let before = super::live::v7_floor(Utc::now() - chrono::Duration::days(30));
    prepared("DELETE FROM webhook_attempts WHERE id < $1")
        .bind::<SqlUuid, _>(before)
        .execute(conn)
        .await
}
