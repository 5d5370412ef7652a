//! Listing a caller's orders: filters, sorts and keyset cursors.

use crate::domain::ids::{OrderId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{OrderRow, OrderView};
use crate::db::schema::orders;
use crate::domain::order::OrderStatus;

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
    Newest { id: OrderId },
    DueAt { due_at: DateTime<Utc>, id: OrderId },
}

pub struct OrderFilter {
    pub viewer: UserId,
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

/// The viewer's orders, one keyset page. Each role filter has an index that leads with the
/// participant column and ends with the sort key, so a deep page costs what the first one does.
/// A page of the orders `f` selects, as shown (names and unread counts).
pub async fn list(conn: &mut AsyncPgConnection, f: OrderFilter) -> QueryResult<Vec<OrderView>> {
    let plain = f.late.is_none() && f.q.is_none() && f.due_before.is_none();
    if f.role == RoleFilter::Either && f.sort == OrderSort::Newest && plain {
        let before = match f.after {
            Some(OrderCursor::Newest { id }) => Some(id),
            _ => None,
        };
        return either_newest(conn, f.viewer, &f.statuses, before, f.limit).await;
    }
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
        query = query.filter(orders::status.eq_any(f.statuses));
    }
    match f.late {
        Some(true) => {
            query = query
                .filter(orders::due_at.lt(f.now))
                .filter(orders::status.eq_any(OrderStatus::CAN_BE_LATE));
        }
        Some(false) => {
            query = query.filter(
                orders::due_at
                    .ge(f.now)
                    .or(orders::status.ne_all(OrderStatus::CAN_BE_LATE)),
            );
        }
        None => {}
    }
    if let Some(q) = f.q {
        query = query.filter(orders::title.ilike(crate::db::like_pattern(&q)));
    }
    if let Some(before) = f.due_before {
        query = query.filter(orders::due_at.lt(before));
    }
    let rows = keyset(query, f.sort, f.after).load(conn).await?;
    super::views(conn, rows, f.viewer).await
}

/// The list most asked for (both roles, newest first, maybe by status), in one statement with its
/// names and unread counts: two index range scans
/// (`orders_client_idx`, `orders_creative_idx`) merged: a page reads about `limit` rows of each
/// role however many orders the user has, where `client_id = $1 OR creative_id = $1` would read
/// and sort them all. Nobody is both parties of one order, so the arms never overlap.
async fn either_newest(
    conn: &mut AsyncPgConnection,
    viewer: UserId,
    statuses: &[OrderStatus],
    before: Option<OrderId>,
    limit: i64,
) -> QueryResult<Vec<OrderView>> {
    let mut filter = String::new();
    if before.is_some() {
        filter.push_str(" AND id < $3");
    }
    // One status (the common case) as an equality, so each arm is one range of
    // `orders_*_status_idx` already in id order; `= ANY` on a later index column would need the
    // user's orders in those statuses read in full and sorted.
    match statuses {
        [] => {}
        [_] => filter.push_str(" AND status = $5"),
        _ => filter.push_str(" AND status = ANY($4)"),
    }
    let arm = |role: &str| {
        format!("(SELECT * FROM orders WHERE {role} = $1{filter} ORDER BY id DESC LIMIT $2)")
    };
    let inner = format!(
        "SELECT * FROM ({} UNION ALL {}) page ORDER BY id DESC LIMIT $2",
        arm("client_id"),
        arm("creative_id")
    );
    let sql = super::views::views_of(&inner);
    let one = match statuses {
        [only] => Some(only.as_str()),
        _ => None,
    };
    let statuses: Vec<&str> = statuses.iter().map(OrderStatus::as_str).collect();
    crate::db::prepared::prepared(sql)
        .bind::<diesel::sql_types::Uuid, _>(viewer)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(before)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(statuses)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(one)
        .load(conn)
        .await
}

type OrdersQuery<'a> = orders::BoxedQuery<'a, diesel::pg::Pg, SelectedOrder>;
type SelectedOrder = diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<OrderRow, diesel::pg::Pg>>;

/// The sort order and the position after the cursor; a cursor of the other sort is ignored.
fn keyset(query: OrdersQuery<'_>, sort: OrderSort, after: Option<OrderCursor>) -> OrdersQuery<'_> {
    match (sort, after) {
        (OrderSort::Newest, Some(OrderCursor::Newest { id })) => {
            query.filter(orders::id.lt(id)).order(orders::id.desc())
        }
        (OrderSort::Newest, _) => query.order(orders::id.desc()),
        (OrderSort::DueAt, Some(OrderCursor::DueAt { due_at, id })) => query
            .filter(
                orders::due_at
                    .gt(due_at)
                    .or(orders::due_at.eq(due_at).and(orders::id.gt(id))),
            )
            .order((orders::due_at.asc(), orders::id.asc())),
        (OrderSort::DueAt, _) => query.order((orders::due_at.asc(), orders::id.asc())),
    }
}
