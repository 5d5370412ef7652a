//! The client's edits of a new order.

use crate::domain::ids::{OrderId, UserId};
use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::OrderRow;
use crate::db::schema::orders;
use crate::domain::order::OrderStatus;

#[derive(Default, AsChangeset)]
#[diesel(table_name = orders)]
pub struct OrderEdits {
    pub requirements: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
}

pub enum EditOutcome {
    Updated(Box<OrderRow>),
    NotFound,
    Stale(i64),
    /// The order is no longer `new`; carries its status.
    NotEditable(OrderStatus),
}

/// The client edits an order that is still `new`, in one guarded statement.
pub async fn edit(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    client: UserId,
    edits: OrderEdits,
    expected_version: Option<i64>,
) -> QueryResult<EditOutcome> {
    let mut target = diesel::update(orders::table)
        .filter(orders::id.eq(id))
        .filter(orders::client_id.eq(client))
        .filter(orders::status.eq(OrderStatus::New))
        .into_boxed();
    if let Some(v) = expected_version {
        target = target.filter(orders::version.eq(v));
    }
    let updated = target
        .set((
            edits,
            orders::version.eq(orders::version + 1),
            orders::updated_at.eq(now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(row) = updated {
        return Ok(EditOutcome::Updated(Box::new(row)));
    }
    let current = orders::table
        .filter(orders::id.eq(id))
        .select(OrderRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(match current {
        None => EditOutcome::NotFound,
        Some(row) if row.status() != OrderStatus::New => EditOutcome::NotEditable(row.status()),
        Some(row) => EditOutcome::Stale(row.version),
    })
}
