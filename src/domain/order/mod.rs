//! The order state machine: which moves exist, who may make them, and under which conditions.
//! The database layer enforces the outcome with a guarded UPDATE; this module decides it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum OrderStatus {
    New,
    InProgress,
    Delivered,
    Completed,
    Declined,
    Cancelled,
    Disputed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::New,
        OrderStatus::InProgress,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Declined,
        OrderStatus::Cancelled,
        OrderStatus::Disputed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::Declined => "declined",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Disputed => "disputed",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            OrderStatus::Completed | OrderStatus::Declined | OrderStatus::Cancelled
        )
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part the caller plays on one order. Participation wins over the admin flag: an admin who is the
/// client of an order acts as its client, so nobody resolves their own dispute.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    Client,
    Creative,
    Admin,
    System,
}

named_enum!(ActorRole {
    Client => "client",
    Creative => "creative",
    Admin => "admin",
    System => "system",
});

/// Where a cancellation request stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum CancellationStatus {
    Pending,
    Accepted,
    Rejected,
}

named_enum!(CancellationStatus {
    Pending => "pending",
    Accepted => "accepted",
    Rejected => "rejected",
});

/// What the state machine needs to know about an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderFacts {
    pub status: OrderStatus,
    pub revisions_used: i32,
    pub revisions_included: i32,
    pub due_at: DateTime<Utc>,
    /// Upfront terms were accepted on the new order and escrow does not hold their amount yet.
    pub awaiting_payment: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub now: DateTime<Utc>,
    /// How late an in-progress order must be before its client may cancel it alone.
    pub late_cancel_after: Duration,
}

impl OrderStatus {
    /// The statuses in which an order past its due date is late: the work is not handed over. The
    /// one statement of the rule; the list filter and the dashboard query with it.
    pub const CAN_BE_LATE: [OrderStatus; 3] = [
        OrderStatus::New,
        OrderStatus::InProgress,
        OrderStatus::Disputed,
    ];
    /// The statuses whose deadline is still ahead of the creative (the dashboard's "due soon").
    pub const WORK_PENDING: [OrderStatus; 2] = [OrderStatus::New, OrderStatus::InProgress];
}

impl OrderFacts {
    /// Past its due date and not yet handed over.
    pub fn is_late(&self, now: DateTime<Utc>) -> bool {
        now > self.due_at && OrderStatus::CAN_BE_LATE.contains(&self.status)
    }
}

/// The deadline a revision gives the creative: never earlier than the current one, and at least the
/// time they had left when they delivered, or `window`, whichever is longer, from now. Lateness is
/// judged against it, so asking for a revision cannot make on-time work late.
pub fn revision_deadline(
    due_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    window: Duration,
) -> DateTime<Utc> {
    let left_when_delivered =
        delivered_at.map_or(Duration::zero(), |d| (due_at - d).max(Duration::zero()));
    due_at.max(now + left_when_delivered.max(window))
}

/// Why a move was refused; each maps to one HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such move exists from the current status (409).
    NotAllowed,
    /// The move exists but this actor may not make it (403).
    Forbidden(&'static str),
    /// The actor may make this move, but not now (409), e.g. no revisions left.
    Conflict { code: &'static str, message: String },
    /// A reason is required for this move (422).
    NoteRequired,
}

/// Side effects the database applies together with the status change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Entering `delivered`: start the auto-completion clock.
    Delivered,
    /// A revision was requested: count it and stop the auto-completion clock.
    RevisionUsed,
}

use ActorRole::{Admin, Client, Creative, System};
use OrderStatus::*;

/// The edges of the graph and who may take each directly (through `POST /transitions`).
/// `delivered → cancelled` (and the parties' `in_progress → cancelled`) exist only through a
/// cancellation request that the other party accepts; see [`check_consented_cancellation`].
fn actors_for(from: OrderStatus, to: OrderStatus) -> Option<&'static [ActorRole]> {
    Some(match (from, to) {
        (New, InProgress) => &[Creative],
        (New, Declined) => &[Creative],
        (New, Cancelled) => &[Client],
        (InProgress, Delivered) => &[Creative],
        (Delivered, Completed) => &[Client, System],
        (Delivered, InProgress) => &[Client],
        (InProgress, Disputed) | (Delivered, Disputed) => &[Client, Creative],
        (Disputed, Completed) | (Disputed, Cancelled) => &[Admin],
        (InProgress, Cancelled) => &[Client, Admin],
        (Delivered, Cancelled) => &[],
        _ => return None,
    })
}

/// Moves that need a reason from the person making them.
pub fn requires_note(to: OrderStatus) -> bool {
    matches!(to, Declined | Disputed)
}

/// Decides whether `actor` may move the order to `to` now.
pub fn check(
    order: &OrderFacts,
    to: OrderStatus,
    actor: ActorRole,
    note: Option<&str>,
    clock: &Clock,
) -> Result<Effect, Refusal> {
    let from = order.status;
    let actors = actors_for(from, to).ok_or(Refusal::NotAllowed)?;
    if !actors.contains(&actor) {
        return Err(Refusal::Forbidden(forbidden_reason(from, to, actor)));
    }
    match (from, to, actor) {
        (New, InProgress, _) if order.awaiting_payment => {
            return Err(Refusal::Conflict {
                code: "payment_required",
                message: "The agreed terms are paid upfront: the work starts once the client's payment is in escrow.".into(),
            })
        }
        (Delivered, InProgress, _) if order.revisions_used >= order.revisions_included => {
            return Err(Refusal::Conflict {
                code: "no_revisions_left",
                message: format!(
                    "All {} included revisions have been used.",
                    order.revisions_included
                ),
            })
        }
        // Support settles a dispute through one use case that also settles the money and audits
        // it (`POST /v1/admin/orders/{id}/dispute-resolution`), never through a bare move.
        (Disputed, _, Admin) => {
            return Err(Refusal::Conflict {
                code: "dispute_resolution_required",
                message: format!(
                    "Resolve a dispute with POST /v1/admin/orders/{{id}}/dispute-resolution (outcome `{to}`), which also settles the escrow and records the decision."
                ),
            })
        }
        (InProgress, Cancelled, Client) => {
            let late_enough = clock.now - order.due_at > clock.late_cancel_after;
            if !late_enough {
                return Err(Refusal::Conflict {
                    code: "not_late_enough",
                    message: format!(
                        "A client may cancel an order in progress alone only once it is more than {} hours late; otherwise ask for a cancellation request.",
                        clock.late_cancel_after.num_hours()
                    ),
                });
            }
        }
        _ => {}
    }
    if requires_note(to) && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(Refusal::NoteRequired);
    }
    Ok(match (from, to) {
        (_, Delivered) => Effect::Delivered,
        (Delivered, InProgress) => Effect::RevisionUsed,
        _ => Effect::None,
    })
}

fn forbidden_reason(from: OrderStatus, to: OrderStatus, actor: ActorRole) -> &'static str {
    match (from, to, actor) {
        (InProgress | Delivered, Cancelled, Client | Creative) => {
            "Cancelling an order in progress needs the other party's consent: create a cancellation request."
        }
        (Disputed, _, _) => "Only an admin can resolve a dispute.",
        _ => "Your role on this order does not allow this move.",
    }
}

/// The moves `actor` may make now, for frontends to draw buttons from. A note that a move requires
/// does not count against it: the button still shows.
pub fn allowed_moves(order: &OrderFacts, actor: ActorRole, clock: &Clock) -> Vec<OrderStatus> {
    OrderStatus::ALL
        .into_iter()
        .filter(|to| check(order, *to, actor, Some("reason"), clock).is_ok())
        .collect()
}

/// How support may settle a dispute: the order is in dispute and the outcome ends it.
pub fn check_dispute_resolution(order: &OrderFacts, outcome: OrderStatus) -> Result<(), Refusal> {
    if order.status != Disputed {
        return Err(Refusal::Conflict {
            code: "not_disputed",
            message: format!(
                "Only an order in dispute can be resolved; this one is `{}`.",
                order.status
            ),
        });
    }
    match outcome {
        Completed | Cancelled => Ok(()),
        _ => Err(Refusal::NotAllowed),
    }
}

/// May a cancellation request be opened (or accepted) for an order in this status?
pub fn check_consented_cancellation(status: OrderStatus) -> Result<(), Refusal> {
    match status {
        InProgress | Delivered => Ok(()),
        _ => Err(Refusal::NotAllowed),
    }
}

/// Applies a move's effect to the facts (the same arithmetic the database does).
pub fn apply(order: &OrderFacts, to: OrderStatus, effect: Effect) -> OrderFacts {
    OrderFacts {
        status: to,
        revisions_used: order.revisions_used + i32::from(effect == Effect::RevisionUsed),
        ..order.clone()
    }
}

#[cfg(test)]
mod tests;
