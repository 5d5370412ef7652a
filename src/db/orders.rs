//! Orders, their status history and cancellation requests.
//!
//! Visibility lives in the queries: every read for a caller filters on the caller's participation
//! (or the admin flag), so a row that is not theirs is never loaded.

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, now};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{cancellation_requests, order_transitions, orders, users};
use crate::domain::order::{ActorRole, Effect, OrderFacts, OrderStatus};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub creative_id: Uuid,
    pub service_id: Option<Uuid>,
    pub title: String,
    pub requirements: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub due_at: DateTime<Utc>,
    pub revisions_included: i32,
    pub revisions_used: i32,
    pub status: String,
    pub version: i64,
    pub delivered_at: Option<DateTime<Utc>>,
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderRow {
    /// The status column is constrained by a CHECK to the domain's values.
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::New)
    }

    /// What the state machine needs to know about this order.
    pub fn facts(&self) -> OrderFacts {
        OrderFacts {
            status: self.status(),
            revisions_used: self.revisions_used,
            revisions_included: self.revisions_included,
            due_at: self.due_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = orders)]
pub struct NewOrder {
    pub id: Uuid,
    pub client_id: Uuid,
    pub creative_id: Uuid,
    pub service_id: Option<Uuid>,
    pub title: String,
    pub requirements: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub due_at: DateTime<Utc>,
    pub revisions_included: i32,
    pub status: &'static str,
}

/// The caller as the queries see them.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub user_id: Uuid,
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
    order_id: Uuid,
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
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::id.eq(id))
        .select(OrderRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The order if the viewer takes part in it or is an admin.
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    viewer: Viewer,
) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::id.eq(id))
        .filter(visible_to(viewer))
        .select(OrderRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Display names of the given users, for the parties of a page of orders.
pub async fn display_names(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)
        .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleFilter {
    Client,
    Creative,
    Either,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderSort {
    /// Newest first: `id DESC` (ids are time-ordered).
    Newest,
    /// Soonest due first: `due_at ASC, id ASC`.
    DueAt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderCursor {
    Newest { id: Uuid },
    DueAt { due_at: DateTime<Utc>, id: Uuid },
}

pub struct OrderFilter {
    pub viewer: Uuid,
    pub role: RoleFilter,
    pub statuses: Vec<OrderStatus>,
    /// Only orders past due and not yet handed over.
    pub late: Option<bool>,
    pub q: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub sort: OrderSort,
    pub after: Option<OrderCursor>,
    pub limit: i64,
    pub now: DateTime<Utc>,
}

/// Statuses in which an order past its due date counts as late.
pub const LATE_STATUSES: [&str; 3] = ["new", "in_progress", "disputed"];

/// The viewer's orders, one keyset page. Each role filter has an index that leads with the
/// participant column and ends with the sort key, so a deep page costs what the first one does.
pub async fn list(conn: &mut AsyncPgConnection, f: OrderFilter) -> QueryResult<Vec<OrderRow>> {
    let mut query = orders::table
        .select(OrderRow::as_select())
        .limit(f.limit)
        .into_boxed();
    query = match f.role {
        RoleFilter::Client => query.filter(orders::client_id.eq(f.viewer)),
        RoleFilter::Creative => query.filter(orders::creative_id.eq(f.viewer)),
        RoleFilter::Either => query.filter(
            orders::client_id
                .eq(f.viewer)
                .or(orders::creative_id.eq(f.viewer)),
        ),
    };
    if !f.statuses.is_empty() {
        let names: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
        query = query.filter(orders::status.eq_any(names));
    }
    match f.late {
        Some(true) => {
            query = query
                .filter(orders::due_at.lt(f.now))
                .filter(orders::status.eq_any(LATE_STATUSES))
        }
        Some(false) => {
            query = query.filter(
                orders::due_at
                    .ge(f.now)
                    .or(orders::status.ne_all(LATE_STATUSES)),
            )
        }
        None => {}
    }
    if let Some(q) = f.q {
        query = query.filter(orders::title.ilike(super::like_pattern(&q)));
    }
    if let Some(before) = f.due_before {
        query = query.filter(orders::due_at.lt(before));
    }
    query = match (f.sort, f.after) {
        (OrderSort::Newest, cursor) => {
            if let Some(OrderCursor::Newest { id }) = cursor {
                query = query.filter(orders::id.lt(id));
            }
            query.order(orders::id.desc())
        }
        (OrderSort::DueAt, cursor) => {
            if let Some(OrderCursor::DueAt { due_at, id }) = cursor {
                query = query.filter(
                    orders::due_at
                        .gt(due_at)
                        .or(orders::due_at.eq(due_at).and(orders::id.gt(id))),
                );
            }
            query.order((orders::due_at.asc(), orders::id.asc()))
        }
    };
    query.load(conn).await
}

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
    id: Uuid,
    client: Uuid,
    edits: OrderEdits,
    expected_version: Option<i64>,
) -> QueryResult<EditOutcome> {
    let mut target = diesel::update(orders::table)
        .filter(orders::id.eq(id))
        .filter(orders::client_id.eq(client))
        .filter(orders::status.eq(OrderStatus::New.as_str()))
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

/// A status change to write: the guard (`from`, `expected_version`) and what it changes.
pub struct TransitionWrite<'a> {
    pub order_id: Uuid,
    pub from: OrderStatus,
    pub expected_version: i64,
    pub to: OrderStatus,
    pub effect: Effect,
    pub actor_id: Option<Uuid>,
    pub actor_role: ActorRole,
    pub note: Option<&'a str>,
    /// When entering `delivered`: when the order completes by itself.
    pub auto_complete_at: Option<DateTime<Utc>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = orders)]
struct StatusChange {
    status: &'static str,
    delivered_at: Option<DateTime<Utc>>,
    #[diesel(treat_none_as_null = true)]
    auto_complete_at: Option<DateTime<Utc>>,
}

/// A cancellation request closed because the order left the states it applies to.
pub struct ClosedRequest {
    pub id: Uuid,
    pub requested_by: Uuid,
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
        status: w.to.as_str(),
        delivered_at: (w.effect == Effect::Delivered).then_some(at),
        auto_complete_at: w.auto_complete_at,
    };
    let revision = i32::from(w.effect == Effect::RevisionUsed);
    let updated = diesel::update(
        orders::table
            .filter(orders::id.eq(w.order_id))
            .filter(orders::status.eq(w.from.as_str()))
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
    let mut closed = Vec::new();
    if !matches!(w.to, OrderStatus::InProgress | OrderStatus::Delivered) {
        // A pending cancellation request is moot once the order leaves the states it applies to.
        let rows: Vec<(Uuid, Uuid)> = diesel::update(
            cancellation_requests::table
                .filter(cancellation_requests::order_id.eq(row.id))
                .filter(cancellation_requests::status.eq("pending")),
        )
        .set((
            cancellation_requests::status.eq("rejected"),
            cancellation_requests::resolved_at.eq(at),
        ))
        .returning((
            cancellation_requests::id,
            cancellation_requests::requested_by,
        ))
        .load(conn)
        .await?;
        closed = rows
            .into_iter()
            .map(|(id, requested_by)| ClosedRequest { id, requested_by })
            .collect();
    }
    Ok(Some((row, closed)))
}

async fn insert_history(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor_id: Option<Uuid>,
    actor_role: ActorRole,
    note: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(order_transitions::table)
        .values((
            order_transitions::id.eq(Uuid::now_v7()),
            order_transitions::order_id.eq(order_id),
            order_transitions::from_status.eq(from.map(|s| s.as_str())),
            order_transitions::to_status.eq(to.as_str()),
            order_transitions::actor_id.eq(actor_id),
            order_transitions::actor_role.eq(actor_role.as_str()),
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
    pub order_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An order's history, oldest first (one keyset page).
pub async fn history(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
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
    orders::table
        .filter(orders::status.eq(OrderStatus::Delivered.as_str()))
        .filter(orders::auto_complete_at.le(now))
        .order(orders::auto_complete_at.asc())
        .limit(limit)
        .select(OrderRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

// --- cancellation requests ----------------------------------------------------------------------

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = cancellation_requests)]
pub struct CancellationRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub requested_by: Uuid,
    pub requester_role: String,
    pub reason: String,
    pub status: String,
    pub auto_accept_at: DateTime<Utc>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_cancellation(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    requested_by: Uuid,
    role: ActorRole,
    reason: &str,
    auto_accept_at: DateTime<Utc>,
) -> QueryResult<CancellationRow> {
    diesel::insert_into(cancellation_requests::table)
        .values((
            cancellation_requests::id.eq(Uuid::now_v7()),
            cancellation_requests::order_id.eq(order_id),
            cancellation_requests::requested_by.eq(requested_by),
            cancellation_requests::requester_role.eq(role.as_str()),
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
    order_id: Uuid,
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

/// Closes a pending request, guarded so that it is closed once.
pub async fn resolve_cancellation(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    accepted: bool,
    resolved_by: Option<Uuid>,
) -> QueryResult<Option<CancellationRow>> {
    diesel::update(
        cancellation_requests::table
            .filter(cancellation_requests::id.eq(id))
            .filter(cancellation_requests::status.eq("pending")),
    )
    .set((
        cancellation_requests::status.eq(if accepted { "accepted" } else { "rejected" }),
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
        .filter(cancellation_requests::status.eq("pending"))
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
    order_id: Uuid,
) -> QueryResult<Option<CancellationRow>> {
    cancellation_requests::table
        .filter(cancellation_requests::order_id.eq(order_id))
        .filter(cancellation_requests::status.eq("pending"))
        .filter(cancellation_requests::auto_accept_at.le(now))
        .select(CancellationRow::as_select())
        .first(conn)
        .await
        .optional()
}

// --- dashboard ----------------------------------------------------------------------------------

/// Order counts by status where `user` is the client (or the creative).
pub async fn counts_by_status(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    as_client: bool,
) -> QueryResult<Vec<(String, i64)>> {
    let query = orders::table
        .group_by(orders::status)
        .select((orders::status, count_star()))
        .into_boxed();
    let query = if as_client {
        query.filter(orders::client_id.eq(user))
    } else {
        query.filter(orders::creative_id.eq(user))
    };
    query.load(conn).await
}

/// Orders of `user` as client (or as creative) in `statuses` due within `[from, to)`. One role per
/// query so each is a range scan of that role's `(participant, due_at) INCLUDE (status)` index,
/// answered from the index alone; callers add the two (nobody is both parties of one order).
pub async fn count_due_between(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    as_client: bool,
    statuses: &[&str],
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
) -> QueryResult<i64> {
    let mut query = orders::table
        .filter(orders::status.eq_any(statuses))
        .filter(orders::due_at.lt(to))
        .select(count_star())
        .into_boxed();
    query = if as_client {
        query.filter(orders::client_id.eq(user))
    } else {
        query.filter(orders::creative_id.eq(user))
    };
    if let Some(from) = from {
        query = query.filter(orders::due_at.ge(from));
    }
    query.first(conn).await
}
