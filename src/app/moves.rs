//! Moving an order: the one place a status change is written, whoever makes it (a party, an admin,
//! the worker auto-completing or auto-accepting a cancellation).

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::config::to_chrono;
use crate::db::{orders, outbox};
use crate::domain::events::{self, Event};
use crate::domain::order::{ActorRole, Effect, OrderStatus};

/// A move the state machine has allowed.
pub struct Move<'a> {
    /// The order as read (or locked) before deciding; its status and version guard the write.
    pub order: &'a orders::OrderRow,
    pub to: OrderStatus,
    pub effect: Effect,
    /// `None` when the system moves the order.
    pub actor_id: Option<Uuid>,
    pub actor_role: ActorRole,
    pub note: Option<&'a str>,
}

/// Writes `m` inside the caller's transaction: the guarded update, its history row, the closing of
/// a cancellation request the move makes moot, and the events. `None` when the guard failed
/// (somebody moved the order first); nothing is written then.
pub async fn write(
    conn: &mut AsyncPgConnection,
    m: Move<'_>,
    auto_complete_after: Duration,
) -> diesel::QueryResult<Option<orders::OrderRow>> {
    let now = chrono::Utc::now();
    let auto_complete_at =
        (m.effect == Effect::Delivered).then(|| now + to_chrono(auto_complete_after));
    let written = orders::apply_transition(
        conn,
        orders::TransitionWrite {
            order_id: m.order.id,
            from: m.order.status(),
            expected_version: m.order.version,
            to: m.to,
            effect: m.effect,
            actor_id: m.actor_id,
            actor_role: m.actor_role,
            note: m.note,
            auto_complete_at,
        },
    )
    .await?;
    let Some((row, closed)) = written else {
        return Ok(None);
    };
    for request in closed {
        outbox::insert(
            conn,
            &Event::CancellationRejected(events::CancellationRejected {
                order_id: row.id,
                request_id: request.id,
                requested_by: request.requested_by,
                reason: events::RejectionReason::OrderMoved,
                order_status: m.to,
            }),
        )
        .await?;
    }
    outbox::insert(
        conn,
        &Event::OrderStatusChanged(events::OrderStatusChanged {
            order_id: row.id,
            client_id: row.client_id,
            creative_id: row.creative_id,
            from: m.order.status(),
            to: m.to,
            actor_id: m.actor_id,
            actor_role: m.actor_role,
            note: m.note.map(String::from),
            version: row.version,
        }),
    )
    .await?;
    Ok(Some(row))
}
