//! Writing a move and reading the history.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{visible_ids, OrderRow, Viewer};
use crate::db::schema::{cancellation_requests, order_transitions, orders};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::{ActorRole, CancellationStatus, Effect, OrderStatus};

/// A status change to write: the guard (`from`, `expected_version`) and what it changes.
pub struct TransitionWrite<'a> {
    pub order_id: OrderId,
    pub from: OrderStatus,
    pub expected_version: i64,
    pub to: OrderStatus,
    pub effect: Effect,
    pub actor_id: Option<UserId>,
    pub actor_role: ActorRole,
    pub note: Option<&'a str>,
    /// When entering `delivered`: when the order completes by itself.
    pub auto_complete_at: Option<DateTime<Utc>>,
    /// A new deadline (a revision's); `None` keeps the current one.
    pub due_at: Option<DateTime<Utc>>,
    /// The move is the creative's first answer to the new order.
    pub first_response: bool,
    /// The move is the order's first delivery, against this due date (the one in force).
    pub first_delivery_due: Option<DateTime<Utc>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = orders)]
struct StatusChange {
    status: OrderStatus,
    delivered_at: Option<DateTime<Utc>>,
    #[diesel(treat_none_as_null = true)]
    auto_complete_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    // What a profile reads of the creative, set the first time it happens (None: left as it is).
    completed_at: Option<DateTime<Utc>>,
    first_response_at: Option<DateTime<Utc>>,
    first_delivered_at: Option<DateTime<Utc>>,
    first_delivery_on_time: Option<bool>,
}

/// A cancellation request closed because the order left the states it applies to.
pub struct ClosedRequest {
    pub id: Uuid,
    pub requested_by: UserId,
}

/// Moves an order in one statement guarded by its expected status and version, appends the
/// history row and closes a pending cancellation request the move makes moot. `None` when the
/// guard failed (somebody else moved the order first). Run it inside the caller's transaction; the
/// events are the caller's to write (`app::moves`).
pub async fn apply_transition(
    conn: &mut AsyncPgConnection,
    w: TransitionWrite<'_>,
) -> QueryResult<Option<(OrderRow, Vec<ClosedRequest>)>> {
    let at = Utc::now();
    let change = StatusChange {
        status: w.to,
        delivered_at: (w.effect == Effect::Delivered).then_some(at),
        auto_complete_at: w.auto_complete_at,
        due_at: w.due_at,
        completed_at: (w.to == OrderStatus::Completed).then_some(at),
        first_response_at: w.first_response.then_some(at),
        first_delivered_at: w.first_delivery_due.map(|_| at),
        first_delivery_on_time: w.first_delivery_due.map(|due| at <= due),
    };
    let revision = i32::from(w.effect == Effect::RevisionUsed);
    let updated = diesel::update(
        orders::table
            .filter(orders::id.eq(w.order_id))
            .filter(orders::status.eq(w.from))
            .filter(orders::version.eq(w.expected_version)),
    )
    .set((
        change,
        orders::revisions_used.eq(orders::revisions_used + revision),
        orders::version.eq(orders::version + 1),
        orders::updated_at.eq(at),
    ))
    .returning(OrderRow::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    let Some(row) = updated else {
        return Ok(None);
    };
    insert_history(
        conn,
        row.id,
        Some(w.from),
        w.to,
        w.actor_id,
        w.actor_role,
        w.note,
    )
    .await?;
    // A pending cancellation request is moot once the order leaves the states it applies to; on
    // delivered work silence must not answer it before the order would have completed by itself.
    let closed = if matches!(w.to, OrderStatus::InProgress | OrderStatus::Delivered) {
        if let (OrderStatus::Delivered, Some(completes)) = (w.to, w.auto_complete_at) {
            defer_pending_requests(conn, row.id, completes).await?;
        }
        Vec::new()
    } else {
        close_pending_requests(conn, row.id, at).await?
    };
    Ok(Some((row, closed)))
}

async fn defer_pending_requests(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    until: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        cancellation_requests::table
            .filter(cancellation_requests::order_id.eq(order_id))
            .filter(cancellation_requests::status.eq(CancellationStatus::Pending))
            .filter(cancellation_requests::auto_accept_at.lt(until)),
    )
    .set(cancellation_requests::auto_accept_at.eq(until))
    .execute(conn)
    .await
}

async fn close_pending_requests(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    at: DateTime<Utc>,
) -> QueryResult<Vec<ClosedRequest>> {
    let rows: Vec<(Uuid, UserId)> = diesel::update(
        cancellation_requests::table
            .filter(cancellation_requests::order_id.eq(order_id))
            .filter(cancellation_requests::status.eq(CancellationStatus::Pending)),
    )
    .set((
        cancellation_requests::status.eq(CancellationStatus::Rejected),
        cancellation_requests::resolved_at.eq(at),
    ))
    .returning((
        cancellation_requests::id,
        cancellation_requests::requested_by,
    ))
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, requested_by)| ClosedRequest { id, requested_by })
        .collect())
}

pub(super) async fn insert_history(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor_id: Option<UserId>,
    actor_role: ActorRole,
    note: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(order_transitions::table)
        .values((
            order_transitions::id.eq(Uuid::now_v7()),
            order_transitions::order_id.eq(order_id),
            order_transitions::from_status.eq(from),
            order_transitions::to_status.eq(to),
            order_transitions::actor_id.eq(actor_id),
            order_transitions::actor_role.eq(actor_role),
            order_transitions::note.eq(note),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = order_transitions)]
pub struct TransitionRow {
    pub id: Uuid,
    pub order_id: OrderId,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub actor_id: Option<UserId>,
    pub actor_role: ActorRole,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An order's history, oldest first (one keyset page).
pub async fn history(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    viewer: Viewer,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<TransitionRow>> {
    let mut query = order_transitions::table
        .filter(order_transitions::order_id.eq(order_id))
        .filter(order_transitions::order_id.eq_any(visible_ids(order_id, viewer)))
        .select(TransitionRow::as_select())
        .order(order_transitions::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(order_transitions::id.gt(after));
    }
    query.load(conn).await
}

// --- time-based transitions ---------------------------------------------------------------------

/// Delivered orders whose auto-completion time has come, locked for this worker; other workers skip
/// them, so several instances can run the job at once.
pub async fn lock_due_completions(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    // Delivered work with a cancellation request pending is not accepted by silence: the request
    // decides (a dispute when it goes unanswered).
    let disputed_by_request = cancellation_requests::table
        .filter(cancellation_requests::status.eq(CancellationStatus::Pending))
        .select(cancellation_requests::order_id);
    orders::table
        .filter(orders::status.eq(OrderStatus::Delivered))
        .filter(orders::auto_complete_at.le(now))
        .filter(orders::id.ne_all(disputed_by_request))
        .order(orders::auto_complete_at.asc())
        .limit(limit)
        .select(OrderRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}
