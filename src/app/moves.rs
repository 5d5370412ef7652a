//! Moving an order: the one place a status change is written, whoever makes it (a party, an admin,
//! the worker auto-completing or auto-accepting a cancellation).

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::config::{to_chrono, OrderTimings};
use crate::db::attachments::Owner;
use crate::db::deliveries;
use crate::db::messages::{self as thread, MessageRow};
use crate::db::{orders, outbox};
use crate::domain::events::{self, Event};
use crate::domain::ids::{AttachmentId, DeliveryId, OrderId, UserId};
use crate::domain::order::{
    self as machine, ActorRole, Clock, Effect, OrderFacts, OrderStatus, Refusal,
};
use crate::error::ApiError;

/// A party's (or an admin's) request to move an order.
pub struct Request<'a> {
    pub caller: orders::Viewer,
    pub order_id: OrderId,
    pub to: OrderStatus,
    pub note: Option<&'a str>,
    /// The version the caller last saw (`If-Match`); `None` means whatever is current.
    pub expected_version: Option<i64>,
    /// What a move to `delivered` hands over; without it, the note (or a plain line) is the
    /// delivery's message and it carries no files.
    pub delivery: Option<Handover>,
    /// The request's id, for the audit entry of a move support makes.
    pub request_id: Option<String>,
}

/// The content of a delivery: its message (parsed) and the files it carries.
pub struct Handover {
    pub message: String,
    pub files: Vec<AttachmentId>,
}

/// The order after a move, and the delivery when the move delivered.
pub struct Moved {
    pub order: orders::OrderRow,
    pub delivery: Option<deliveries::DeliveryRow>,
}

/// The caller's part in an order they can see.
pub fn role_of(order: &orders::OrderRow, caller: orders::Viewer) -> ActorRole {
    if order.client_id == caller.user_id {
        ActorRole::Client
    } else if order.creative_id == caller.user_id {
        ActorRole::Creative
    } else {
        ActorRole::Admin
    }
}

/// Moves an order on a caller's request: 404 if they cannot see it, 412 on a stale version, the
/// state machine's refusal (403/409/422) otherwise, or the order after the move.
pub async fn make(
    conn: &mut AsyncPgConnection,
    r: Request<'_>,
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<Moved, ApiError> {
    // A reason the move needs is part of the request's shape (the document's if/then): refuse its
    // absence before looking at the order, so the answer is 422 whatever the order's state.
    if machine::requires_note(r.to) && r.note.is_none() {
        return Err(note_required(r.to));
    }
    let order = super::orders::visible(conn, r.order_id, r.caller).await?;
    make_on(conn, order, r, clock, timings).await
}

/// [`make`] on the order as the caller already read it (visible to them), e.g. in the statement
/// that also checked their session.
pub async fn make_on(
    conn: &mut AsyncPgConnection,
    order: orders::OrderRow,
    r: Request<'_>,
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<Moved, ApiError> {
    if machine::requires_note(r.to) && r.note.is_none() {
        return Err(note_required(r.to));
    }
    if r.expected_version.is_some_and(|v| v != order.version) {
        return Err(ApiError::PreconditionFailed {
            current_version: order.version,
        });
    }
    let role = role_of(&order, r.caller);
    let current = order.facts();
    let effect = machine::check(&current, r.to, role, r.note, clock)
        .map_err(|e| refusal(e, &current, role, r.to, clock))?;
    let m = Move {
        order: &order,
        to: r.to,
        effect,
        actor_id: Some(r.caller.user_id),
        actor_role: role,
        note: r.note,
    };
    let handover = r.delivery;
    let staff = (role == ActorRole::Admin).then(|| super::audit::Staff {
        id: r.caller.user_id,
        request_id: r.request_id.clone(),
    });
    let moved = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let moved = write_with_handover(conn, m, handover, timings).await?;
            if let (Some(staff), Some(moved)) = (&staff, &moved) {
                let before = serde_json::json!({"status": current.status, "version": order.version});
                let after = serde_json::json!({"status": moved.order.status, "version": moved.order.version, "note": m.note});
                let action = crate::domain::audit::Action::OrderMoved;
                let target = moved.order.id.as_uuid();
                super::audit::record(conn, staff, action, target, Some(&before), Some(&after)).await?;
            }
            Ok(moved)
        })
        .await?;
    if let Some(moved) = moved {
        tracing::info!(order_id = %moved.order.id, from = %current.status, to = %r.to, role = role.as_str(), "order moved");
        return Ok(moved);
    }
    // Somebody moved the order between our read and our guarded update.
    let now = super::orders::visible(conn, r.order_id, r.caller).await?;
    if r.expected_version.is_some() {
        return Err(ApiError::PreconditionFailed {
            current_version: now.version,
        });
    }
    let now_facts = now.facts();
    Err(ApiError::InvalidTransition {
        code: "concurrent_transition",
        detail: format!(
            "The order changed while this request ran; it is now `{}`.",
            now_facts.status
        ),
        current_status: now_facts.status,
        allowed: machine::allowed_moves(&now_facts, role, clock),
    })
}

/// A move that needs a reason was asked for without one.
pub fn note_required(to: OrderStatus) -> ApiError {
    ApiError::validation(
        "note",
        "required",
        format!("a reason is required to move an order to `{to}`"),
    )
}

/// Maps the state machine's refusal to the answer the caller gets.
pub fn refusal(
    r: Refusal,
    order: &OrderFacts,
    role: ActorRole,
    to: OrderStatus,
    clock: &Clock,
) -> ApiError {
    let allowed = machine::allowed_moves(order, role, clock);
    match r {
        Refusal::NotAllowed => ApiError::InvalidTransition {
            code: "invalid_transition",
            detail: format!(
                "An order in status `{}` cannot move to `{to}`.",
                order.status
            ),
            current_status: order.status,
            allowed,
        },
        Refusal::Conflict { code, message } => ApiError::InvalidTransition {
            code,
            detail: message,
            current_status: order.status,
            allowed,
        },
        Refusal::Forbidden(reason) => ApiError::Forbidden {
            code: "transition_forbidden",
            detail: reason.to_string(),
        },
        Refusal::NoteRequired => note_required(to),
    }
}

/// [`write`], and for a move to `delivered` the delivery it hands over: its message in the thread
/// and its files, in the same transaction. Every delivery, through `/deliveries` or a bare
/// transition, takes this one path.
async fn write_with_handover(
    conn: &mut AsyncPgConnection,
    m: Move<'_>,
    handover: Option<Handover>,
    timings: &OrderTimings,
) -> Result<Option<Moved>, ApiError> {
    let Some(order) = write(conn, m, timings).await? else {
        return Ok(None);
    };
    let (OrderStatus::Delivered, Some(actor)) = (m.to, m.actor_id) else {
        return Ok(Some(Moved {
            order,
            delivery: None,
        }));
    };
    let handover = handover.unwrap_or_else(|| Handover {
        message: m
            .note
            .filter(|n| !n.is_empty())
            .unwrap_or("The work is delivered.")
            .to_string(),
        files: Vec::new(),
    });
    let mut message = MessageRow::user(order.id, actor, m.actor_role, handover.message);
    thread::insert(conn, &mut message).await?;
    let delivery = deliveries::DeliveryRow {
        id: DeliveryId::new(),
        order_id: order.id,
        message_id: message.id,
        created_at: message.created_at,
    };
    deliveries::insert(conn, &delivery).await?;
    let owner = Owner::Delivery(delivery.id);
    super::messages::take_files(conn, &handover.files, order.id, actor, owner).await?;
    Ok(Some(Moved {
        order,
        delivery: Some(delivery),
    }))
}

/// A move the state machine has allowed.
#[derive(Clone, Copy)]
pub struct Move<'a> {
    /// The order as read (or locked) before deciding; its status and version guard the write.
    pub order: &'a orders::OrderRow,
    pub to: OrderStatus,
    pub effect: Effect,
    /// `None` when the system moves the order.
    pub actor_id: Option<UserId>,
    pub actor_role: ActorRole,
    pub note: Option<&'a str>,
}

/// Writes `m` inside the caller's transaction: the guarded update, its history row, the closing of
/// a cancellation request the move makes moot, and the events. `None` when the guard failed
/// (somebody moved the order first); nothing is written then.
pub async fn write(
    conn: &mut AsyncPgConnection,
    m: Move<'_>,
    timings: &OrderTimings,
) -> diesel::QueryResult<Option<orders::OrderRow>> {
    let now = chrono::Utc::now();
    let auto_complete_at =
        (m.effect == Effect::Delivered).then(|| now + to_chrono(timings.auto_complete_after));
    let due_at = (m.effect == Effect::RevisionUsed).then(|| {
        machine::revision_deadline(
            m.order.due_at,
            m.order.delivered_at,
            now,
            to_chrono(timings.revision_window),
        )
    });
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
            due_at,
            first_response: m.order.first_response_at.is_none()
                && m.order.status() == OrderStatus::New
                && m.actor_role == ActorRole::Creative,
            first_delivery_due: (m.effect == Effect::Delivered
                && m.order.first_delivered_at.is_none())
            .then_some(m.order.due_at),
        },
    )
    .await?;
    let Some((row, closed)) = written else {
        return Ok(None);
    };
    super::escrow::on_move(conn, &row, m.to, timings.platform_fee_bps).await?;
    let line = crate::domain::messages::moved(m.order.status(), m.to, m.actor_role, m.note);
    super::messages::post_system(conn, row.id, line).await?;
    for request in closed {
        let line = "The pending cancellation request was closed: the order moved on.".to_string();
        super::messages::post_system(conn, row.id, line).await?;
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
