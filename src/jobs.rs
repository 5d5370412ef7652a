//! Time-based transitions, run by a background task: delivered orders complete by themselves, and
//! unanswered cancellation requests are accepted. All state is in PostgreSQL and rows are claimed
//! with `FOR UPDATE SKIP LOCKED`, so the task survives restarts and several instances can run it.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::app::moves;
use crate::config::OrderTimings;
use crate::db::{self, orders, DbPool};
use crate::domain::order::{self as machine, ActorRole, Clock, Effect, OrderStatus};

const BATCH: i64 = 50;

/// Runs until the task is dropped, every `timings.worker_interval`.
pub async fn run(pool: DbPool, timings: OrderTimings) {
    let mut tick = tokio::time::interval(timings.worker_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = run_once(&pool, &timings).await {
            tracing::warn!(error = ?e, "background job failed; retrying next tick");
        }
    }
}

/// One pass: everything due now, in batches. Returns how many orders it moved.
pub async fn run_once(pool: &DbPool, timings: &OrderTimings) -> anyhow::Result<usize> {
    let mut conn = db::connection(pool).await?;
    let clock = timings.clock(chrono::Utc::now());
    let mut moved = 0;
    loop {
        let n = complete_due(&mut conn, &clock, timings).await?;
        moved += n;
        if n < BATCH as usize {
            break;
        }
    }
    loop {
        let (n, seen) = accept_due_cancellations(&mut conn, timings).await?;
        moved += n;
        if seen < BATCH as usize {
            break;
        }
    }
    orders::delete_expired_keys(&mut conn).await?;
    db::outbox::purge_expired_reset_tokens(&mut conn).await?;
    Ok(moved)
}

async fn complete_due(
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
            let due = orders::lock_due_completions(conn, BATCH).await?;
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
                let m = moves::Move {
                    order: &order,
                    to: OrderStatus::Completed,
                    effect: Effect::None,
                    actor_id: None,
                    actor_role: ActorRole::System,
                    note: Some(&note),
                };
                let moved = moves::write(conn, m, timings.auto_complete_after).await?;
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

/// Returns (orders cancelled, orders looked at).
async fn accept_due_cancellations(
    conn: &mut AsyncPgConnection,
    timings: &OrderTimings,
) -> anyhow::Result<(usize, usize)> {
    let result = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let due = orders::lock_orders_with_due_cancellations(conn, BATCH).await?;
            let seen = due.len();
            let mut cancelled = 0;
            for order in due {
                let Some(request) = orders::due_cancellation(conn, order.id).await? else {
                    continue;
                };
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
                let m = moves::Move {
                    order: &order,
                    to: OrderStatus::Cancelled,
                    effect: Effect::None,
                    actor_id: None,
                    actor_role: ActorRole::System,
                    note: Some(&note),
                };
                moves::write(conn, m, timings.auto_complete_after)
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
