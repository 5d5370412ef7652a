//! Messages of an order's thread, read markers and unread counts. Every read here is for a caller
//! the use case has already shown to be a participant (or an admin).

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, now};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid};

use super::schema::{message_reads, messages};
use crate::domain::ids::{MessageId, OrderId, UserId};
use crate::domain::messages::MessageKind;
use crate::domain::order::ActorRole;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: MessageId,
    pub order_id: OrderId,
    pub sender_id: Option<UserId>,
    pub sender_role: ActorRole,
    pub kind: MessageKind,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl MessageRow {
    /// A message from a party (or an admin).
    pub fn user(order_id: OrderId, sender: UserId, role: ActorRole, body: String) -> Self {
        MessageRow {
            id: MessageId::new(),
            order_id,
            sender_id: Some(sender),
            sender_role: role,
            kind: MessageKind::User,
            body,
            created_at: Utc::now(),
        }
    }

    /// A line the system posts on a change.
    pub fn system(order_id: OrderId, body: String) -> Self {
        MessageRow {
            id: MessageId::new(),
            order_id,
            sender_id: None,
            sender_role: ActorRole::System,
            kind: MessageKind::System,
            body,
            created_at: Utc::now(),
        }
    }
}

/// Appends `row` to its thread. Ids are UUIDv7 from the clock of the instance that wrote them; with
/// several instances a clock a few milliseconds behind would sort a later message before an earlier
/// one (and a reader past the earlier one would never see it). So the id is moved past the
/// thread's newest when needed: thread order is commit order. Callers hold the order's row lock
/// (every path that writes to a thread does), so two writers cannot take the same id.
pub async fn insert(conn: &mut AsyncPgConnection, row: &mut MessageRow) -> QueryResult<()> {
    // The common case in one statement: the new id already sorts after the thread's newest.
    let sql =
        "INSERT INTO messages (id, order_id, sender_id, sender_role, kind, body, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7 \
         WHERE NOT EXISTS (SELECT 1 FROM messages WHERE order_id = $2 AND id >= $1)";
    let inserted = crate::db::prepared::prepared(sql)
        .bind::<Uuid, _>(row.id)
        .bind::<Uuid, _>(row.order_id)
        .bind::<Nullable<Uuid>, _>(row.sender_id)
        .bind::<Text, _>(row.sender_role)
        .bind::<Text, _>(row.kind)
        .bind::<Text, _>(row.body.clone())
        .bind::<Timestamptz, _>(row.created_at)
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(());
    }
    let newest: Option<MessageId> = messages::table
        .filter(messages::order_id.eq(row.order_id))
        .order(messages::id.desc())
        .select(messages::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(newest) = newest.filter(|n| *n >= row.id) {
        row.id = newest.successor();
    }
    diesel::insert_into(messages::table)
        .values(&*row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Where a page of a thread starts.
#[derive(Clone, Copy, Debug)]
pub enum Position {
    /// The oldest messages.
    Start,
    /// The messages right after this one.
    After(MessageId),
    /// The messages right before this one (still returned oldest first).
    Before(MessageId),
}

/// One page of the thread, oldest first; `limit + 1` rows are asked for by callers that want to
/// know whether there is more.
pub async fn page(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    from: Position,
    limit: i64,
) -> QueryResult<Vec<MessageRow>> {
    let query = messages::table
        .filter(messages::order_id.eq(order))
        .select(MessageRow::as_select())
        .limit(limit)
        .into_boxed();
    match from {
        Position::Start => query.order(messages::id.asc()).load(conn).await,
        Position::After(id) => {
            query
                .filter(messages::id.gt(id))
                .order(messages::id.asc())
                .load(conn)
                .await
        }
        Position::Before(id) => {
            let mut rows: Vec<MessageRow> = query
                .filter(messages::id.lt(id))
                .order(messages::id.desc())
                .load(conn)
                .await?;
            rows.reverse();
            Ok(rows)
        }
    }
}

/// Whether `id` is a message of `order` (a read marker may only point into its own thread).
pub async fn belongs(
    conn: &mut AsyncPgConnection,
    id: MessageId,
    order: OrderId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        messages::table
            .filter(messages::id.eq(id))
            .filter(messages::order_id.eq(order)),
    ))
    .get_result(conn)
    .await
}

/// Moves `user`'s read marker on `order` to `up_to`, never back; returns where it stands.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    user: UserId,
    up_to: MessageId,
) -> QueryResult<MessageId> {
    diesel::insert_into(message_reads::table)
        .values((
            message_reads::order_id.eq(order),
            message_reads::user_id.eq(user),
            message_reads::last_read_id.eq(up_to),
        ))
        .on_conflict((message_reads::user_id, message_reads::order_id))
        .do_update()
        .set((
            message_reads::last_read_id.eq(diesel::dsl::sql::<diesel::sql_types::Uuid>(
                "GREATEST(message_reads.last_read_id, excluded.last_read_id)",
            )),
            message_reads::updated_at.eq(now),
        ))
        .returning(message_reads::last_read_id)
        .get_result(conn)
        .await
}

/// `user`'s read marker on `order`, if any.
pub async fn last_read(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    user: UserId,
) -> QueryResult<Option<MessageId>> {
    message_reads::table
        .find((user, order))
        .select(message_reads::last_read_id)
        .first(conn)
        .await
        .optional()
}

/// Messages `user` has not read (their own never count), per order of `orders_of_page`, in one
/// query.
pub async fn unread_counts(
    conn: &mut AsyncPgConnection,
    user: UserId,
    orders_of_page: &[OrderId],
) -> QueryResult<Vec<(OrderId, i64)>> {
    messages::table
        .left_join(
            message_reads::table.on(message_reads::order_id
                .eq(messages::order_id)
                .and(message_reads::user_id.eq(user))),
        )
        .filter(messages::order_id.eq_any(orders_of_page))
        .filter(
            message_reads::last_read_id.is_null().or(messages::id
                .nullable()
                .gt(message_reads::last_read_id.nullable())),
        )
        .filter(messages::sender_id.is_distinct_from(user))
        .group_by(messages::order_id)
        .select((messages::order_id, count_star()))
        .load(conn)
        .await
}
