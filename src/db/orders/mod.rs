//! Orders, their status history and cancellation requests: rows and visibility here, the rest in
//! one file per concern.
//!
//! Visibility lives in the queries: every read for a caller filters on the caller's participation
//! (or the admin flag), so a row that is not theirs is never loaded.

use crate::domain::ids::{OrderId, ServiceId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::orders;
use crate::domain::order::{ActorRole, OrderFacts, OrderStatus};

mod cancellations;
mod dashboard;
mod edits;
mod list;
mod transitions;
mod views;

pub use cancellations::*;
pub use dashboard::*;
pub use edits::*;
pub use list::*;
pub use transitions::*;
pub use views::*;

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: OrderId,
    pub client_id: UserId,
    pub creative_id: UserId,
    pub service_id: Option<ServiceId>,
    pub title: String,
    pub requirements: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub due_at: DateTime<Utc>,
    pub revisions_included: i32,
    pub revisions_used: i32,
    pub status: OrderStatus,
    pub version: i64,
    pub delivered_at: Option<DateTime<Utc>>,
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The creative's first answer to the new order: a message, a confirmation or a decline.
    pub first_response_at: Option<DateTime<Utc>>,
    pub first_delivered_at: Option<DateTime<Utc>>,
    /// Whether the first delivery came by the due date in force at that moment.
    pub first_delivery_on_time: Option<bool>,
    /// Upfront terms were accepted on the new order and escrow does not hold their amount yet.
    pub awaiting_payment: bool,
}

impl OrderRow {
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// What the state machine needs to know about this order.
    pub fn facts(&self) -> OrderFacts {
        OrderFacts {
            status: self.status(),
            revisions_used: self.revisions_used,
            revisions_included: self.revisions_included,
            due_at: self.due_at,
            awaiting_payment: self.awaiting_payment,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = orders)]
pub struct NewOrder {
    pub id: OrderId,
    pub client_id: UserId,
    pub creative_id: UserId,
    pub service_id: Option<ServiceId>,
    pub title: String,
    pub requirements: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub due_at: DateTime<Utc>,
    pub revisions_included: i32,
    pub status: OrderStatus,
}

/// The caller as the queries see them.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub user_id: UserId,
    pub is_admin: bool,
}

/// Places an order: the row, its first history entry and the `order.placed` event, for the caller
/// to run inside one transaction.
pub async fn place(conn: &mut AsyncPgConnection, order: NewOrder) -> QueryResult<OrderRow> {
    let row: OrderRow = diesel::insert_into(orders::table)
        .values(&order)
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await?;
    insert_history(
        conn,
        row.id,
        None,
        OrderStatus::New,
        Some(row.client_id),
        ActorRole::Client,
        None,
    )
    .await?;
    Ok(row)
}

type VisibleFilter =
    Box<dyn BoxableExpression<orders::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>>;

fn visible_to(viewer: Viewer) -> VisibleFilter {
    if viewer.is_admin {
        Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE"))
    } else {
        Box::new(
            orders::client_id
                .eq(viewer.user_id)
                .or(orders::creative_id.eq(viewer.user_id)),
        )
    }
}

/// The id of `order_id` if the viewer may see it, as a subquery for rows that hang off an order.
fn visible_ids(
    order_id: OrderId,
    viewer: Viewer,
) -> diesel::dsl::IntoBoxed<'static, diesel::dsl::Select<orders::table, orders::id>, diesel::pg::Pg>
{
    orders::table
        .select(orders::id)
        .filter(orders::id.eq(order_id))
        .filter(visible_to(viewer))
        .into_boxed()
}

/// Locks an order row for the rest of the transaction. Every path that touches an order's
/// cancellation requests takes this lock first, so all of them lock in the same order (order, then
/// request) and cannot deadlock with a transition.
pub async fn lock(conn: &mut AsyncPgConnection, id: OrderId) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::id.eq(id))
        .select(OrderRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Whether the order waits on an upfront payment before its creative may start.
pub async fn set_awaiting_payment(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    awaiting: bool,
) -> QueryResult<()> {
    diesel::update(orders::table.filter(orders::id.eq(id)))
        .set(orders::awaiting_payment.eq(awaiting))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records the creative's first answer to the order (their profile's response time), once.
pub async fn mark_first_response(conn: &mut AsyncPgConnection, id: OrderId) -> QueryResult<()> {
    diesel::update(
        orders::table
            .filter(orders::id.eq(id))
            .filter(orders::first_response_at.is_null()),
    )
    .set(orders::first_response_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whether `client` has completed an order with `creative` (a past client).
pub async fn completed_between(
    conn: &mut AsyncPgConnection,
    client: UserId,
    creative: UserId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        orders::table
            .filter(orders::client_id.eq(client))
            .filter(orders::creative_id.eq(creative))
            .filter(orders::status.eq(OrderStatus::Completed)),
    ))
    .get_result(conn)
    .await
}

/// The order if the viewer takes part in it or is an admin.
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    viewer: Viewer,
) -> QueryResult<Option<OrderRow>> {
    visible_row(id, viewer).first(conn).await.optional()
}

/// One order by id, if the viewer may see it.
type VisibleRow = diesel::dsl::Select<
    diesel::dsl::Filter<ById, VisibleFilter>,
    diesel::dsl::AsSelect<OrderRow, diesel::pg::Pg>,
>;
type ById = diesel::dsl::Filter<orders::table, diesel::dsl::Eq<orders::id, OrderId>>;

fn visible_row(id: OrderId, viewer: Viewer) -> VisibleRow {
    orders::table
        .filter(orders::id.eq(id))
        .filter(visible_to(viewer))
        .select(OrderRow::as_select())
}
