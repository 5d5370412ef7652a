//! Cancellation requests.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{visible_ids, OrderRow, Viewer};
use crate::db::schema::{cancellation_requests, orders};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::{ActorRole, CancellationStatus};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = cancellation_requests)]
pub struct CancellationRow {
    pub id: Uuid,
    pub order_id: OrderId,
    pub requested_by: UserId,
    pub requester_role: ActorRole,
    pub reason: String,
    pub status: CancellationStatus,
    pub auto_accept_at: DateTime<Utc>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_cancellation(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    requested_by: UserId,
    role: ActorRole,
    reason: &str,
    auto_accept_at: DateTime<Utc>,
) -> QueryResult<CancellationRow> {
    diesel::insert_into(cancellation_requests::table)
        .values((
            cancellation_requests::id.eq(Uuid::now_v7()),
            cancellation_requests::order_id.eq(order_id),
            cancellation_requests::requested_by.eq(requested_by),
            cancellation_requests::requester_role.eq(role),
            cancellation_requests::reason.eq(reason),
            cancellation_requests::auto_accept_at.eq(auto_accept_at),
        ))
        .returning(CancellationRow::as_returning())
        .get_result(conn)
        .await
}

/// The order's latest cancellation request, whatever its state.
pub async fn latest_cancellation(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    viewer: Viewer,
) -> QueryResult<Option<CancellationRow>> {
    cancellation_requests::table
        .filter(cancellation_requests::order_id.eq(order_id))
        .filter(cancellation_requests::order_id.eq_any(visible_ids(order_id, viewer)))
        .order(cancellation_requests::id.desc())
        .select(CancellationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every request `user` has made on the order, newest first.
pub async fn requests_by(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    user: UserId,
) -> QueryResult<Vec<CancellationRow>> {
    cancellation_requests::table
        .filter(cancellation_requests::order_id.eq(order_id))
        .filter(cancellation_requests::requested_by.eq(user))
        .order(cancellation_requests::id.desc())
        .select(CancellationRow::as_select())
        .load(conn)
        .await
}

/// Closes a pending request, guarded so that it is closed once.
pub async fn resolve_cancellation(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    accepted: bool,
    resolved_by: Option<UserId>,
) -> QueryResult<Option<CancellationRow>> {
    diesel::update(
        cancellation_requests::table
            .filter(cancellation_requests::id.eq(id))
            .filter(cancellation_requests::status.eq(CancellationStatus::Pending)),
    )
    .set((
        cancellation_requests::status.eq(if accepted {
            CancellationStatus::Accepted
        } else {
            CancellationStatus::Rejected
        }),
        cancellation_requests::resolved_by.eq(resolved_by),
        cancellation_requests::resolved_at.eq(now),
    ))
    .returning(CancellationRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Orders with a pending request past its auto-accept time, locked for this worker (other workers
/// skip them). The order is locked before its request, as everywhere else.
pub async fn lock_orders_with_due_cancellations(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    let due = cancellation_requests::table
        .filter(cancellation_requests::status.eq(CancellationStatus::Pending))
        .filter(cancellation_requests::auto_accept_at.le(now))
        .select(cancellation_requests::order_id);
    orders::table
        .filter(orders::id.eq_any(due))
        .order(orders::id.asc())
        .limit(limit)
        .select(OrderRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// The order's pending request if it is due (the caller holds the order's lock).
pub async fn due_cancellation(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
) -> QueryResult<Option<CancellationRow>> {
    cancellation_requests::table
        .filter(cancellation_requests::order_id.eq(order_id))
        .filter(cancellation_requests::status.eq(CancellationStatus::Pending))
        .filter(cancellation_requests::auto_accept_at.le(now))
        .select(CancellationRow::as_select())
        .first(conn)
        .await
        .optional()
}
