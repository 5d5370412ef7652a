//! The worker's queries: fanning outbox events out into deliveries, and claiming due deliveries
//! under a lease. Every claim is `FOR UPDATE SKIP LOCKED`, so any number of workers share the work.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Interval, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{notification_deliveries, notifications, outbox_events};
use crate::domain::ids::{NotificationId, OrderId, UserId};
use crate::domain::notify::Channel;

/// An outbox event not yet fanned out.
#[derive(QueryableByName, Debug)]
pub struct StoredEvent {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
}

/// Locks up to `limit` events nobody has fanned out, oldest first.
///
/// Only events of `known` types are taken: during a rolling deploy, an older worker leaves the
/// events of a type it does not know to a newer one instead of marking them done.
pub async fn lock_undispatched(
    conn: &mut AsyncPgConnection,
    known: &[&str],
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    diesel::sql_query(
        "SELECT id, event_type, payload FROM outbox_events \
         WHERE dispatched_at IS NULL AND event_type = ANY($2) \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Array<Text>, _>(known)
    .load(conn)
    .await
}

pub async fn mark_dispatched(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::update(outbox_events::table.filter(outbox_events::id.eq_any(ids)))
        .set(outbox_events::dispatched_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
}

#[derive(Insertable)]
#[diesel(table_name = notification_deliveries)]
pub struct NewDelivery {
    pub id: Uuid,
    pub event_id: Uuid,
    pub recipient_id: UserId,
    pub channel: Channel,
    pub status: &'static str,
    pub delivered_at: Option<DateTime<Utc>>,
    pub batch_order_id: Option<OrderId>,
}

/// Records deliveries; one already recorded for the same (event, recipient, channel) is kept.
pub async fn insert(conn: &mut AsyncPgConnection, rows: &[NewDelivery]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(notification_deliveries::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

#[derive(Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub event_id: Uuid,
    pub event_type: String,
    pub order_id: Option<OrderId>,
    pub title: String,
    pub body: String,
}

pub async fn insert_in_app(
    conn: &mut AsyncPgConnection,
    rows: &[NewNotification],
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(notifications::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// A delivery a worker holds until its lease ends.
#[derive(QueryableByName, Debug, Clone)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub recipient_id: UserId,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub batch_order_id: Option<OrderId>,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
}

pub(crate) fn interval(d: Duration) -> diesel::data_types::PgInterval {
    diesel::data_types::PgInterval::from_microseconds(d.as_micros().min(i64::MAX as u128) as i64)
}

/// Claims up to `limit` due email deliveries: each is counted as an attempt and becomes due again
/// only after `lease`, so a worker that dies mid-send leaves it to another.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH due AS ( \
           SELECT id FROM notification_deliveries \
           WHERE status = 'pending' AND channel = 'email' AND next_attempt_at <= now() \
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED), \
         claimed AS ( \
           UPDATE notification_deliveries d \
           SET attempts = d.attempts + 1, next_attempt_at = now() + $2 \
           FROM due WHERE d.id = due.id \
           RETURNING d.id, d.event_id, d.recipient_id, d.attempts, d.batch_order_id) \
         SELECT c.*, e.event_type, e.payload FROM claimed c JOIN outbox_events e ON e.id = c.event_id",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Interval, _>(interval(lease))
    .load(conn)
    .await
}

/// Claims the other due new-message mails to `recipient` about `order`, so one mail carries them
/// all. Rows in backoff or leased by another worker are not due, so they are left alone.
pub async fn claim_batch(
    conn: &mut AsyncPgConnection,
    recipient: UserId,
    order: OrderId,
    except: &[Uuid],
    lease: Duration,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH mine AS ( \
           SELECT id FROM notification_deliveries \
           WHERE recipient_id = $1 AND batch_order_id = $2 AND status = 'pending' \
             AND next_attempt_at <= now() AND id <> ALL($3) \
           FOR UPDATE SKIP LOCKED), \
         claimed AS ( \
           UPDATE notification_deliveries d \
           SET attempts = d.attempts + 1, next_attempt_at = now() + $4 \
           FROM mine WHERE d.id = mine.id \
           RETURNING d.id, d.event_id, d.recipient_id, d.attempts, d.batch_order_id) \
         SELECT c.*, e.event_type, e.payload FROM claimed c JOIN outbox_events e ON e.id = c.event_id \
         ORDER BY c.event_id",
    )
    .bind::<SqlUuid, _>(recipient)
    .bind::<SqlUuid, _>(order)
    .bind::<Array<SqlUuid>, _>(except)
    .bind::<Interval, _>(interval(lease))
    .load(conn)
    .await
}

/// When the last new-message mail to `recipient` about `order` left, if one did.
pub async fn last_batch_sent(
    conn: &mut AsyncPgConnection,
    recipient: UserId,
    order: OrderId,
) -> QueryResult<Option<DateTime<Utc>>> {
    notification_deliveries::table
        .filter(notification_deliveries::recipient_id.eq(recipient))
        .filter(notification_deliveries::batch_order_id.eq(order))
        .select(diesel::dsl::max(notification_deliveries::delivered_at))
        .first(conn)
        .await
}

/// The claims as two arrays (ids, the attempt counts the claim set), for the fenced updates below:
/// a row another worker claimed since has another count and is left alone.
fn fence(claims: &[Claimed]) -> (Vec<Uuid>, Vec<i32>) {
    claims.iter().map(|c| (c.id, c.attempts)).unzip()
}

const FENCED: &str =
    "(id, attempts) IN (SELECT * FROM unnest($1::uuid[], $2::int[])) AND status = 'pending'";

/// Marks claimed deliveries delivered; `note` says why when nothing needed sending.
pub async fn mark_delivered(
    conn: &mut AsyncPgConnection,
    claims: &[Claimed],
    note: Option<&str>,
) -> QueryResult<usize> {
    let (ids, attempts) = fence(claims);
    diesel::sql_query(format!(
        "UPDATE notification_deliveries SET status = 'delivered', delivered_at = now(), \
         last_error = $3 WHERE {FENCED}"
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<diesel::sql_types::Integer>, _>(attempts)
    .bind::<Nullable<Text>, _>(note)
    .execute(conn)
    .await
}

/// Puts claimed deliveries back to wait until `at`; `refund` gives back the attempt the claim
/// counted (a batched mail held for its window, or a round out of lease, did not fail).
pub async fn reschedule(
    conn: &mut AsyncPgConnection,
    claims: &[Claimed],
    at: DateTime<Utc>,
    error: Option<&str>,
    refund: bool,
) -> QueryResult<usize> {
    let (ids, attempts) = fence(claims);
    diesel::sql_query(format!(
        "UPDATE notification_deliveries SET next_attempt_at = $3, \
         last_error = COALESCE($4, last_error), attempts = attempts - $5::int WHERE {FENCED}"
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<diesel::sql_types::Integer>, _>(attempts)
    .bind::<Timestamptz, _>(at)
    .bind::<Nullable<Text>, _>(error)
    .bind::<diesel::sql_types::Integer, _>(i32::from(refund))
    .execute(conn)
    .await
}

pub async fn mark_dead(
    conn: &mut AsyncPgConnection,
    claims: &[Claimed],
    error: &str,
) -> QueryResult<usize> {
    let (ids, attempts) = fence(claims);
    diesel::sql_query(format!(
        "UPDATE notification_deliveries SET status = 'dead', last_error = $3 WHERE {FENCED}"
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<diesel::sql_types::Integer>, _>(attempts)
    .bind::<Text, _>(error)
    .execute(conn)
    .await
}

/// Removes the secrets (reset and verification tokens) from delivered events' payloads.
pub async fn purge_secrets(conn: &mut AsyncPgConnection, event_ids: &[Uuid]) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE outbox_events SET payload = payload - 'token' WHERE id = ANY($1) AND payload ? 'token'",
    )
    .bind::<Array<SqlUuid>, _>(event_ids)
    .execute(conn)
    .await
}
