//! Deliveries: each time the creative hands work over. Earlier ones stay when a revision follows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{deliveries, messages};
use crate::domain::ids::{DeliveryId, MessageId, OrderId};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub order_id: OrderId,
    pub message_id: MessageId,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(deliveries::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// One page of the order's deliveries, oldest first, each with its message's body.
pub async fn page(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    after: Option<DeliveryId>,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, String)>> {
    let mut query = deliveries::table
        .inner_join(messages::table)
        .filter(deliveries::order_id.eq(order))
        .order(deliveries::id.asc())
        .limit(limit)
        .select((DeliveryRow::as_select(), messages::body))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(deliveries::id.gt(after));
    }
    query.load(conn).await
}

/// One delivery with its message's body.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: DeliveryId,
) -> QueryResult<Option<(DeliveryRow, String)>> {
    deliveries::table
        .inner_join(messages::table)
        .filter(deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), messages::body))
        .first(conn)
        .await
        .optional()
}
