//! Cancellation requests: one party asks to cancel an order in progress or delivered, the other
//! answers. Every path locks the order row first, so requests and moves cannot interleave.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::moves::{self, refusal, role_of};
use crate::config::{to_chrono, OrderTimings};
use crate::db::{orders, outbox};
use crate::domain::events::{self, Event};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::{
    self as machine, ActorRole, CancellationStatus, Clock, Effect, OrderStatus,
};
use crate::error::ApiError;

/// The order and the caller's part in it, if they are its client or creative: 404 if they cannot
/// see it, 403 for an admin who is no party.
async fn party(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    caller: orders::Viewer,
) -> Result<(orders::OrderRow, ActorRole), ApiError> {
    let order = super::orders::visible(conn, id, caller).await?;
    match role_of(&order, caller) {
        role @ (ActorRole::Client | ActorRole::Creative) => Ok((order, role)),
        _ => Err(ApiError::Forbidden {
            code: "not_a_party",
            detail: "Only the order's client or creative can take part in a cancellation request."
                .into(),
        }),
    }
}

/// A party asks to cancel; the other party hears of it (`order.cancellation_requested`).
pub async fn open(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: OrderId,
    reason: &str,
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<orders::CancellationRow, ApiError> {
    let (order, role) = party(conn, id, caller).await?;
    let other = if role == ActorRole::Client {
        order.creative_id
    } else {
        order.client_id
    };
    conn.transaction::<_, ApiError, _>(async |conn| {
        // Under the order's lock, so the order cannot close between this check and the insert.
        let locked = orders::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("order"))?;
        let current = locked.facts();
        machine::check_consented_cancellation(current.status)
            .map_err(|r| refusal(r, &current, role, OrderStatus::Cancelled, clock))?;
        let previous = orders::requests_by(conn, id, caller.user_id).await?;
        may_ask_again(&previous, clock, timings)?;
        let auto_accept_at = auto_accept_at(&locked, clock, timings);
        let row =
            orders::insert_cancellation(conn, id, caller.user_id, role, reason, auto_accept_at)
                .await?;
        let event = events::CancellationRequested {
            order_id: id,
            request_id: row.id,
            requested_by: row.requested_by,
            recipient_id: other,
            reason: row.reason.clone(),
            auto_accept_at: row.auto_accept_at,
        };
        outbox::insert(conn, &Event::CancellationRequested(event)).await?;
        let line = format!(
            "The {} asked to cancel the order: {}",
            role.as_str(),
            row.reason
        );
        super::messages::post_system(conn, id, line).await?;
        Ok(row)
    })
    .await
}

/// How many requests one party may make on one order; after that, a dispute is the way.
pub const MAX_REQUESTS_PER_PARTY: usize = 3;

/// A rejected request is not re-opened at once, again and again: the requester waits
/// `CANCELLATION_REQUEST_COOLDOWN` after the other party's "no", and asks at most
/// [`MAX_REQUESTS_PER_PARTY`] times.
fn may_ask_again(
    previous: &[orders::CancellationRow],
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<(), ApiError> {
    if previous.len() >= MAX_REQUESTS_PER_PARTY {
        return Err(ApiError::conflict(
            "cancellation_requests_exhausted",
            "No more cancellation requests",
            format!(
                "You have asked {MAX_REQUESTS_PER_PARTY} times to cancel this order; open a dispute instead."
            ),
        ));
    }
    let rejected_at = previous
        .iter()
        .filter(|r| r.status == CancellationStatus::Rejected && r.resolved_by.is_some())
        .filter_map(|r| r.resolved_at)
        .max();
    if let Some(at) = rejected_at {
        let again = at + to_chrono(timings.cancellation_request_cooldown);
        if clock.now < again {
            return Err(ApiError::conflict(
                "cancellation_request_cooldown",
                "Too soon to ask again",
                format!(
                    "Your last request was rejected; you may ask again from {}.",
                    again.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ));
        }
    }
    Ok(())
}

/// When silence answers the request. On delivered work, never before the order would have completed
/// by itself: an away creative must not lose delivered work to a two-day silence (and then the
/// worker refers the order to a dispute rather than cancelling it).
fn auto_accept_at(
    order: &orders::OrderRow,
    clock: &Clock,
    timings: &OrderTimings,
) -> chrono::DateTime<chrono::Utc> {
    let after_silence = clock.now + to_chrono(timings.cancellation_auto_accept_after);
    match (order.status(), order.auto_complete_at) {
        (OrderStatus::Delivered, Some(completes)) => after_silence.max(completes),
        _ => after_silence,
    }
}

/// The other party accepts (the order is cancelled) or rejects (the requester hears so).
pub async fn respond(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: OrderId,
    accept: bool,
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<orders::CancellationRow, ApiError> {
    let (_, role) = party(conn, id, caller).await?;
    let request = orders::latest_cancellation(conn, id, caller)
        .await?
        .filter(|r| r.status == CancellationStatus::Pending)
        .ok_or_else(|| no_pending("This order has no pending cancellation request to answer."))?;
    if request.requested_by == caller.user_id {
        return Err(ApiError::Forbidden {
            code: "own_request",
            detail: "The other party answers a cancellation request, not the one who made it."
                .into(),
        });
    }
    let answer = Answer {
        caller: caller.user_id,
        role,
        request: &request,
        accept,
    };
    conn.transaction::<_, ApiError, _>(async |conn| resolve(conn, answer, clock, timings).await)
        .await
}

fn no_pending(detail: &str) -> ApiError {
    ApiError::conflict(
        "no_pending_cancellation_request",
        "No pending cancellation request",
        detail,
    )
}

struct Answer<'a> {
    caller: UserId,
    role: ActorRole,
    request: &'a orders::CancellationRow,
    accept: bool,
}

async fn resolve(
    conn: &mut AsyncPgConnection,
    a: Answer<'_>,
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<orders::CancellationRow, ApiError> {
    let id = a.request.order_id;
    // The order's lock first, as on every path that touches its cancellation requests.
    let locked = orders::lock(conn, id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let current = locked.facts();
    let resolved = orders::resolve_cancellation(conn, a.request.id, a.accept, Some(a.caller))
        .await?
        .ok_or_else(|| no_pending("The request was resolved by another action first."))?;
    if !a.accept {
        let event = events::CancellationRejected {
            order_id: id,
            request_id: a.request.id,
            requested_by: a.request.requested_by,
            reason: events::RejectionReason::Rejected,
            order_status: current.status,
        };
        outbox::insert(conn, &Event::CancellationRejected(event)).await?;
        let line = format!("The {} rejected the cancellation request.", a.role.as_str());
        super::messages::post_system(conn, id, line).await?;
        return Ok(resolved);
    }
    machine::check_consented_cancellation(current.status)
        .map_err(|r| refusal(r, &current, a.role, OrderStatus::Cancelled, clock))?;
    let note = format!("Cancellation request accepted: {}", a.request.reason);
    let m = moves::Move {
        order: &locked,
        to: OrderStatus::Cancelled,
        effect: Effect::None,
        actor_id: Some(a.caller),
        actor_role: a.role,
        note: Some(&note),
    };
    moves::write(conn, m, timings).await?.ok_or_else(|| {
        ApiError::conflict(
            "concurrent_transition",
            "Order changed",
            "The order changed while this request ran; fetch it and try again.",
        )
    })?;
    Ok(resolved)
}
