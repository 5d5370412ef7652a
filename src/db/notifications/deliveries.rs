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
pub async fn lock_undispatched(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    diesel::sql_query(
        "SELECT id, event_type, payload FROM outbox_events WHERE dispatched_at IS NULL \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind::<BigInt, _>(limit)
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

fn interval(d: Duration) -> diesel::data_types::PgInterval {
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

/// Claims the other pending new-message mails to `recipient` about `order`, so one mail carries
/// them all.
pub async fn claim_batch(
    conn: &mut AsyncPgConnection,
    recipient: UserId,
    order: OrderId,
    except: Uuid,
    lease: Duration,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH mine AS ( \
           SELECT id FROM notification_deliveries \
           WHERE recipient_id = $1 AND batch_order_id = $2 AND status = 'pending' AND id <> $3 \
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
    .bind::<SqlUuid, _>(except)
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

pub async fn mark_delivered(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::update(
        notification_deliveries::table
            .filter(notification_deliveries::id.eq_any(ids))
            .filter(notification_deliveries::status.eq("pending")),
    )
    .set((
        notification_deliveries::status.eq("delivered"),
        notification_deliveries::delivered_at.eq(diesel::dsl::now),
        notification_deliveries::last_error.eq(None::<String>),
    ))
    .execute(conn)
    .await
}

/// Puts a claimed delivery back to wait until `at`; `refund` gives back the attempt its claim
/// counted (a batched mail held for its window did not fail).
pub async fn reschedule(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    at: DateTime<Utc>,
    error: Option<&str>,
    refund: bool,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE notification_deliveries SET next_attempt_at = $2, \
         last_error = COALESCE($3, last_error), attempts = attempts - $4::int \
         WHERE id = ANY($1) AND status = 'pending'",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Timestamptz, _>(at)
    .bind::<Nullable<Text>, _>(error)
    .bind::<diesel::sql_types::Integer, _>(i32::from(refund))
    .execute(conn)
    .await
}

pub async fn mark_dead(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    error: &str,
) -> QueryResult<usize> {
    diesel::update(
        notification_deliveries::table
            .filter(notification_deliveries::id.eq_any(ids))
            .filter(notification_deliveries::status.eq("pending")),
    )
    .set((
        notification_deliveries::status.eq("dead"),
        notification_deliveries::last_error.eq(error),
    ))
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
