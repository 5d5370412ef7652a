//! The dashboard's kept counters (`order_tallies`, `escrow_tallies`): triggers maintain them (see
//! their migration); the only thing code does with them directly is lock them ahead of a batch.

use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::prepared::prepared;
use crate::domain::ids::OrderId;

/// The parties' rows, for `$1` the orders.
const PARTIES: &str =
    "SELECT client_id AS user_id, 'client' AS role FROM orders WHERE id = ANY($1) \
     UNION SELECT creative_id, 'creative' FROM orders WHERE id = ANY($1)";

/// Locks, in the triggers' own order, every tally row that moving `orders` will change. A request
/// changes one order's rows in (user, role) order within one statement; a worker batch moving
/// many orders in one transaction would otherwise take them order by order, in no global order,
/// and could deadlock with such a request. Order tallies before escrow ones, as a completion
/// changes them.
pub async fn lock_for_orders(conn: &mut AsyncPgConnection, orders: &[OrderId]) -> QueryResult<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<OrderId> = orders.to_vec();
    for (table, key) in [
        ("order_tallies", "t.user_id, t.role"),
        ("escrow_tallies", "t.user_id, t.role, t.currency"),
    ] {
        let sql = format!(
            "SELECT 1 FROM {table} t JOIN ({PARTIES}) p ON p.user_id = t.user_id AND p.role = t.role \
             ORDER BY {key} FOR UPDATE OF t"
        );
        prepared(sql)
            .bind::<Array<SqlUuid>, _>(ids.clone())
            .execute(conn)
            .await?;
    }
    Ok(())
}
