//! Notifications: the in-app inbox, preferences, dead letters, and what the worker reads to write
//! a mail (the recipient and the order, with the parties' names, in one statement each).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    notification_deliveries, notification_preferences, notifications, orders, users,
};
use crate::domain::ids::{NotificationId, OrderId, UserId};
use crate::domain::notify::content::{OrderFacts, Recipient};
use crate::domain::notify::Channel;

pub mod deliveries;

/// A recipient as the worker needs them, with what decides whether they get mail at all.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct RecipientRow {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub time_zone: String,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<RecipientRow> for Recipient {
    fn from(r: RecipientRow) -> Self {
        Recipient {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            time_zone: r.time_zone,
        }
    }
}

pub async fn recipients(
    conn: &mut AsyncPgConnection,
    ids: &[UserId],
) -> QueryResult<Vec<RecipientRow>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select(RecipientRow::as_select())
        .load(conn)
        .await
}

/// The order with both parties' names.
pub async fn order_facts(
    conn: &mut AsyncPgConnection,
    id: OrderId,
) -> QueryResult<Option<OrderFacts>> {
    let (client, creative) = diesel::alias!(users as client, users as creative);
    type Row = (
        OrderId,
        String,
        String,
        UserId,
        String,
        String,
        i64,
        String,
        DateTime<Utc>,
    );
    let row: Option<Row> = orders::table
        .inner_join(client.on(client.field(users::id).eq(orders::client_id)))
        .inner_join(creative.on(creative.field(users::id).eq(orders::creative_id)))
        .filter(orders::id.eq(id))
        .select((
            orders::id,
            orders::title,
            orders::requirements,
            orders::client_id,
            client.field(users::display_name),
            creative.field(users::display_name),
            orders::price_amount,
            orders::price_currency,
            orders::due_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|r| OrderFacts {
        id: r.0,
        title: r.1,
        requirements: r.2,
        client_id: r.3,
        client_name: r.4,
        creative_name: r.5,
        price_amount: r.6,
        price_currency: r.7,
        due_at: r.8,
    }))
}

// --- preferences ---------------------------------------------------------------------------------

/// Stored choices (departures from the defaults) of these users: (user, event type, channel, on).
pub async fn preferences_of(
    conn: &mut AsyncPgConnection,
    ids: &[UserId],
) -> QueryResult<Vec<(UserId, String, Channel, bool)>> {
    notification_preferences::table
        .filter(notification_preferences::user_id.eq_any(ids))
        .select((
            notification_preferences::user_id,
            notification_preferences::event_type,
            notification_preferences::channel,
            notification_preferences::enabled,
        ))
        .load(conn)
        .await
}

pub async fn set_preference(
    conn: &mut AsyncPgConnection,
    user: UserId,
    event_type: &str,
    channel: Channel,
    enabled: bool,
) -> QueryResult<()> {
    diesel::insert_into(notification_preferences::table)
        .values((
            notification_preferences::user_id.eq(user),
            notification_preferences::event_type.eq(event_type),
            notification_preferences::channel.eq(channel),
            notification_preferences::enabled.eq(enabled),
        ))
        .on_conflict((
            notification_preferences::user_id,
            notification_preferences::event_type,
            notification_preferences::channel,
        ))
        .do_update()
        .set((
            notification_preferences::enabled.eq(enabled),
            notification_preferences::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

// --- the inbox -----------------------------------------------------------------------------------

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub event_id: Uuid,
    pub event_type: String,
    pub order_id: Option<OrderId>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// A page of `user`'s notifications, newest first, after the cursor `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
    unread_only: bool,
    before: Option<NotificationId>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user))
        .select(NotificationRow::as_select())
        .order(notifications::id.desc())
        .limit(limit)
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    query.load(conn).await
}

/// Marks one of `user`'s notifications read (again is fine); `None` when it is not theirs.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: NotificationId,
) -> QueryResult<Option<NotificationRow>> {
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::user_id.eq(user)),
    )
    .set(notifications::read_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("COALESCE(read_at, now())")))
    .returning(NotificationRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

pub async fn mark_all_read(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

// --- dead letters --------------------------------------------------------------------------------

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = notification_deliveries)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub recipient_id: UserId,
    pub channel: Channel,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Dead deliveries, newest first, with their event's type.
pub async fn dead_letters(
    conn: &mut AsyncPgConnection,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, String)>> {
    use super::schema::outbox_events;
    let mut query = notification_deliveries::table
        .inner_join(outbox_events::table)
        .filter(notification_deliveries::status.eq("dead"))
        .select((DeliveryRow::as_select(), outbox_events::event_type))
        .order(notification_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(notification_deliveries::id.lt(before));
    }
    query.load(conn).await
}

/// Makes a dead delivery due now with a fresh set of attempts; `None` if it is not dead (never
/// was, or already retried).
pub async fn retry_dead(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<(DeliveryRow, String)>> {
    use super::schema::outbox_events;
    let updated: Option<DeliveryRow> = diesel::update(
        notification_deliveries::table
            .filter(notification_deliveries::id.eq(id))
            .filter(notification_deliveries::status.eq("dead")),
    )
    .set((
        notification_deliveries::status.eq("pending"),
        notification_deliveries::attempts.eq(0),
        notification_deliveries::next_attempt_at.eq(diesel::dsl::now),
    ))
    .returning(DeliveryRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(row) = updated else { return Ok(None) };
    let event_type = outbox_events::table
        .find(row.event_id)
        .select(outbox_events::event_type)
        .first(conn)
        .await?;
    Ok(Some((row, event_type)))
}

/// Whether a delivery with this id exists at all (dead or not), to tell 404 from 409.
pub async fn delivery_exists(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(notification_deliveries::table.find(id)))
        .get_result(conn)
        .await
}
