//! Orders as a response shows them: with both parties' names and the viewer's unread count, read
//! in the same statement as the orders wherever the orders come from raw SQL.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::OrderRow;
use crate::domain::ids::{OrderId, UserId};

#[derive(QueryableByName, Clone, Debug)]
pub struct OrderView {
    #[diesel(embed)]
    pub order: OrderRow,
    #[diesel(sql_type = Text)]
    pub client_name: String,
    #[diesel(sql_type = Text)]
    pub creative_name: String,
    /// Messages of the order the viewer has not read (their own never count).
    #[diesel(sql_type = BigInt)]
    pub unread_count: i64,
}

/// `inner` (orders, `SELECT *`, the viewer bound as `$1`) with the parties' names and the viewer's
/// unread count, newest first.
pub(super) fn views_of(inner: &str) -> String {
    views_with(inner, "")
}

/// The viewer's (`$1`) unread count in the thread of `order` (an SQL expression), as a column.
fn unread_count_of(order: &str) -> String {
    format!(
        "(SELECT count(*) FROM messages m \
            LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = $1 \
          WHERE m.order_id = {order} AND (r.last_read_id IS NULL OR m.id > r.last_read_id) \
            AND m.sender_id IS DISTINCT FROM $1) AS unread_count"
    )
}

/// [`views_of`] with more columns after the view's (`, expr AS name`).
fn views_with(inner: &str, more: &str) -> String {
    format!(
        "SELECT o.*, c.display_name AS client_name, cr.display_name AS creative_name{more}, {} \
         FROM ({inner}) o \
         JOIN users c ON c.id = o.client_id \
         JOIN users cr ON cr.id = o.creative_id \
         ORDER BY o.id DESC",
        unread_count_of("o.id")
    )
}

/// An order as shown, with what the statement learnt of the caller on the way.
#[derive(QueryableByName, Clone, Debug)]
pub struct CallerView {
    #[diesel(embed)]
    pub view: OrderView,
    #[diesel(sql_type = Bool)]
    pub caller_is_admin: bool,
    #[diesel(sql_type = Bool)]
    pub caller_email_verified: bool,
}

/// The caller's row, if their session is live: the same conditions as
/// `db::sessions::active_caller`, for folding into a read (`$1` the user, `$3` the session).
pub(super) const LIVE_CALLER: &str =
    "SELECT u.is_admin, u.email_verified_at IS NOT NULL AS email_verified, u.display_name \
     FROM users u JOIN sessions s ON s.user_id = u.id \
     WHERE u.id = $1 AND u.disabled_at IS NULL \
       AND s.id = $3 AND s.revoked_at IS NULL AND s.expires_at > now()";

/// The order if the caller takes part in it (or is an admin) *and* their session is live, in one
/// statement: the revocation check of every request, folded into the read. `None` says neither why
/// (no live session: 401; not theirs: 404), which the caller's own check then tells apart: only
/// refused requests pay for a second statement.
pub async fn find_view_in_session(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    user: UserId,
    session: uuid::Uuid,
) -> QueryResult<Option<CallerView>> {
    let inner = "SELECT orders.* FROM orders, caller WHERE orders.id = $2 \
         AND (orders.client_id = $1 OR orders.creative_id = $1 OR caller.is_admin)";
    let more = ", (SELECT is_admin FROM caller) AS caller_is_admin, \
         (SELECT email_verified FROM caller) AS caller_email_verified";
    let sql = format!("WITH caller AS ({LIVE_CALLER}) {}", views_with(inner, more));
    crate::db::prepared::prepared(sql)
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(session)
        .get_result(conn)
        .await
        .optional()
}

#[derive(QueryableByName)]
struct Extras {
    #[diesel(sql_type = Text)]
    client_name: String,
    #[diesel(sql_type = Text)]
    creative_name: String,
    #[diesel(sql_type = BigInt)]
    unread_count: i64,
}

/// The view of one order already loaded (the answer to a write): names and the viewer's unread
/// count in one statement.
pub async fn view_one(
    conn: &mut AsyncPgConnection,
    order: OrderRow,
    viewer: UserId,
) -> QueryResult<OrderView> {
    let sql = format!(
        "SELECT c.display_name AS client_name, cr.display_name AS creative_name, {} \
         FROM users c, users cr WHERE c.id = $3 AND cr.id = $4",
        unread_count_of("$2")
    );
    let extras: Extras = crate::db::prepared::prepared(sql)
        .bind::<SqlUuid, _>(viewer)
        .bind::<SqlUuid, _>(order.id)
        .bind::<SqlUuid, _>(order.client_id)
        .bind::<SqlUuid, _>(order.creative_id)
        .get_result(conn)
        .await?;
    Ok(OrderView {
        order,
        client_name: extras.client_name,
        creative_name: extras.creative_name,
        unread_count: extras.unread_count,
    })
}

/// An order row with what the statement learnt of the caller on the way.
#[derive(QueryableByName, Clone, Debug)]
pub struct CallerOrder {
    #[diesel(embed)]
    pub order: OrderRow,
    #[diesel(sql_type = Bool)]
    pub caller_is_admin: bool,
    #[diesel(sql_type = Bool)]
    pub caller_email_verified: bool,
    #[diesel(sql_type = Text)]
    pub caller_name: String,
}

/// The order row if the caller takes part in it (or is an admin) *and* their session is live, in
/// one statement; `None` says neither why (see [`find_view_in_session`]).
pub async fn find_visible_in_session(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    user: UserId,
    session: uuid::Uuid,
) -> QueryResult<Option<CallerOrder>> {
    visible_in_session(conn, id, user, session, "").await
}

/// As [`find_visible_in_session`], with the order row locked for the rest of the transaction.
pub async fn lock_visible_in_session(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    user: UserId,
    session: uuid::Uuid,
) -> QueryResult<Option<CallerOrder>> {
    visible_in_session(conn, id, user, session, " FOR UPDATE OF orders").await
}

async fn visible_in_session(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    user: UserId,
    session: uuid::Uuid,
    lock: &str,
) -> QueryResult<Option<CallerOrder>> {
    let sql = format!(
        "WITH caller AS ({LIVE_CALLER}) \
         SELECT orders.*, caller.is_admin AS caller_is_admin, \
           caller.email_verified AS caller_email_verified, caller.display_name AS caller_name \
         FROM orders, caller WHERE orders.id = $2 \
           AND (orders.client_id = $1 OR orders.creative_id = $1 OR caller.is_admin){lock}"
    );
    crate::db::prepared::prepared(sql)
        .bind::<SqlUuid, _>(user)
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(session)
        .get_result(conn)
        .await
        .optional()
}

/// Views of orders already loaded: names and unread counts in two statements for the whole page.
pub async fn views(
    conn: &mut AsyncPgConnection,
    rows: Vec<OrderRow>,
    viewer: UserId,
) -> QueryResult<Vec<OrderView>> {
    use std::collections::HashMap;
    let mut ids: Vec<UserId> = rows
        .iter()
        .flat_map(|r| [r.client_id, r.creative_id])
        .collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<UserId, String> = crate::db::users::display_names(conn, &ids)
        .await?
        .into_iter()
        .collect();
    let order_ids: Vec<OrderId> = rows.iter().map(|r| r.id).collect();
    let unread: HashMap<OrderId, i64> =
        crate::db::messages::unread_counts(conn, viewer, &order_ids)
            .await?
            .into_iter()
            .collect();
    let name = |id: UserId| names.get(&id).cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|order| OrderView {
            client_name: name(order.client_id),
            creative_name: name(order.creative_id),
            unread_count: unread.get(&order.id).copied().unwrap_or(0),
            order,
        })
        .collect())
}
