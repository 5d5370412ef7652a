//! What the worker does on its own: complete delivered orders nobody accepted, and accept
//! cancellation requests nobody answered (on delivered work: refer the order to a dispute). Each batch is one transaction over rows claimed with
//! `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::moves;
use crate::config::OrderTimings;
use crate::db::orders;
use crate::domain::order::{self as machine, ActorRole, Clock, Effect, OrderStatus};

/// A move the worker makes on its own.
fn system_move<'a>(order: &'a orders::OrderRow, to: OrderStatus, note: &'a str) -> moves::Move<'a> {
    moves::Move {
        order,
        to,
        effect: Effect::None,
        actor_id: None,
        actor_role: ActorRole::System,
        note: Some(note),
    }
}

/// Rows claimed per transaction.
pub const BATCH: i64 = 50;

/// Completes up to [`BATCH`] delivered orders past their auto-complete time; returns how many.
pub async fn complete_due(
    conn: &mut AsyncPgConnection,
    clock: &Clock,
    timings: &OrderTimings,
) -> anyhow::Result<usize> {
    let note = format!(
        "Completed automatically: no client action within {} of delivery.",
        humantime::format_duration(Duration::from_secs(timings.auto_complete_after.as_secs()))
    );
    let done = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let mut due = orders::lock_due_completions(conn, BATCH).await?;
            // Releases lock each creative's balance row: in one order everywhere, so two workers'
            // batches cannot deadlock on two creatives.
            due.sort_by_key(|o| o.creative_id);
            let ids: Vec<_> = due.iter().map(|o| o.id).collect();
            crate::db::tallies::lock_for_orders(conn, &ids).await?;
            let mut done = 0;
            for order in due {
                if machine::check(
                    &order.facts(),
                    OrderStatus::Completed,
                    ActorRole::System,
                    None,
                    clock,
                )
                .is_err()
                {
                    continue;
                }
                let m = system_move(&order, OrderStatus::Completed, &note);
                let moved = moves::write(conn, m, timings).await?;
                done += usize::from(moved.is_some());
            }
            Ok(done)
        })
        .await?;
    if done > 0 {
        tracing::info!(count = done, "orders completed automatically");
    }
    Ok(done)
}

/// Accepts up to [`BATCH`] cancellation requests past their deadline; returns (orders cancelled,
/// orders looked at).
pub async fn accept_due_cancellations(
    conn: &mut AsyncPgConnection,
    timings: &OrderTimings,
) -> anyhow::Result<(usize, usize)> {
    let result = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let due = orders::lock_orders_with_due_cancellations(conn, BATCH).await?;
            let seen = due.len();
            let ids: Vec<_> = due.iter().map(|o| o.id).collect();
            crate::db::tallies::lock_for_orders(conn, &ids).await?;
            let mut cancelled = 0;
            for order in due {
                let Some(request) = orders::due_cancellation(conn, order.id).await? else {
                    continue;
                };
                // Work delivered at least once (a revision since included) is not cancelled by
                // silence: support decides. The move to `disputed` closes the request and tells
                // the requester so.
                if order.delivered_at.is_some() {
                    let note = format!(
                        "Cancellation request on delivered work unanswered: referred to support as a dispute. Reason: {}",
                        request.reason
                    );
                    let m = system_move(&order, OrderStatus::Disputed, &note);
                    moves::write(conn, m, timings)
                        .await?
                        .ok_or(diesel::result::Error::RollbackTransaction)?;
                    continue;
                }
                let allowed = machine::check_consented_cancellation(order.status()).is_ok();
                // Resolved before the move, which would otherwise close it as moot.
                orders::resolve_cancellation(conn, request.id, allowed, None).await?;
                if !allowed {
                    continue;
                }
                let note = format!(
                    "Cancellation request unanswered: accepted automatically. Reason: {}",
                    request.reason
                );
                // We hold the order's lock, so its version cannot have moved: a miss is a bug, and
                // rolling back keeps the request pending rather than accepted on an open order.
                let m = system_move(&order, OrderStatus::Cancelled, &note);
                moves::write(conn, m, timings)
                    .await?
                    .ok_or(diesel::result::Error::RollbackTransaction)?;
                cancelled += 1;
            }
            Ok((cancelled, seen))
        })
        .await?;
    if result.0 > 0 {
        tracing::info!(
            count = result.0,
            "orders cancelled after unanswered requests"
        );
    }
    Ok(result)
}
