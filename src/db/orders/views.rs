//! Orders as a response shows them: with both parties' names and the viewer's unread count, read
//! in the same statement as the orders wherever the orders come from raw SQL.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{OrderRow, Viewer};
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
    format!(
        "SELECT o.*, c.display_name AS client_name, cr.display_name AS creative_name, \
           (SELECT count(*) FROM messages m \
              LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = $1 \
            WHERE m.order_id = o.id AND (r.last_read_id IS NULL OR m.id > r.last_read_id) \
              AND m.sender_id IS DISTINCT FROM $1) AS unread_count \
         FROM ({inner}) o \
         JOIN users c ON c.id = o.client_id \
         JOIN users cr ON cr.id = o.creative_id \
         ORDER BY o.id DESC"
    )
}

/// The order if `viewer` takes part in it (or is an admin), as shown: one statement.
pub async fn find_visible_view(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    viewer: Viewer,
) -> QueryResult<Option<OrderView>> {
    let inner = "SELECT * FROM orders WHERE id = $2 AND (client_id = $1 OR creative_id = $1 OR $3)";
    crate::db::prepared::prepared(views_of(inner))
        .bind::<SqlUuid, _>(viewer.user_id)
        .bind::<SqlUuid, _>(id)
        .bind::<Bool, _>(viewer.is_admin)
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
