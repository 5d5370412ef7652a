//! Payment terms: either party proposes, the other accepts the version they read. Every write locks
//! the order row first (as transitions and invoices do), so proposals are numbered without races
//! and an acceptance cannot cross a new proposal.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::moves::role_of;
use crate::db::billing::{self, NewProposal, TermsRow};
use crate::db::{orders, outbox};
use crate::domain::billing::terms::Terms;
use crate::domain::events::{Event, EventPrice, PaymentTermsAccepted, PaymentTermsProposed};
use crate::domain::ids::OrderId;
use crate::domain::order::{ActorRole, OrderStatus};
use crate::error::ApiError;

/// Each party makes at most this many proposals on an order: enough for any negotiation, a bound
/// on the history every read returns, and per party, so one side cannot use up the other's.
pub const MAX_PROPOSALS_PER_PARTY: usize = 25;

/// The order's proposals, newest first, for a participant or an admin.
pub async fn history(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: OrderId,
) -> Result<Vec<TermsRow>, ApiError> {
    super::orders::visible(conn, id, caller).await?;
    Ok(billing::proposals(conn, id).await?)
}

/// The caller's side of the order, if they are its client or creative.
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
            detail: "Only the order's client or creative agree on its payment terms.".into(),
        }),
    }
}

fn check_open(order: &orders::OrderRow) -> Result<(), ApiError> {
    match order.status() {
        OrderStatus::Declined | OrderStatus::Cancelled => Err(ApiError::conflict(
            "order_closed",
            "Order closed",
            format!(
                "The order is {}; nothing is to be paid on it.",
                order.status().as_str()
            ),
        )),
        _ => Ok(()),
    }
}

fn price(amount: i64, currency: &str) -> EventPrice {
    EventPrice {
        amount,
        currency: currency.to_string(),
    }
}

/// A party proposes terms (a counter-proposal replaces the current one); the other party hears of
/// it. With `expected`, only if the current proposal is still that version (0: none yet).
pub async fn propose(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: OrderId,
    terms: &Terms,
    expected: Option<i64>,
) -> Result<Vec<TermsRow>, ApiError> {
    let (order, role) = party(conn, id, caller).await?;
    if terms.amount.currency().code() != order.price_currency {
        return Err(ApiError::validation(
            "amount.currency",
            "currency_mismatch",
            format!("must be {}, the order's currency", order.price_currency),
        ));
    }
    let other = if role == ActorRole::Client {
        order.creative_id
    } else {
        order.client_id
    };
    conn.transaction::<_, ApiError, _>(async |conn| {
        let locked = orders::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("order"))?;
        check_open(&locked)?;
        let mut all = billing::proposals(conn, id).await?;
        let current = all.first().map_or(0, |p| p.version);
        if expected.is_some_and(|v| v != current) {
            return Err(ApiError::PreconditionFailed {
                current_version: current,
            });
        }
        let mine = all.iter().filter(|p| p.proposed_by == caller.user_id).count();
        if mine >= MAX_PROPOSALS_PER_PARTY {
            return Err(ApiError::conflict(
                "too_many_proposals",
                "Too many proposals",
                format!("You have made {MAX_PROPOSALS_PER_PARTY} proposals on this order; talk it over in the order's messages."),
            ));
        }
        let new = NewProposal {
            order: id,
            version: current + 1,
            by: caller.user_id,
            role,
            terms,
        };
        let row = billing::insert_proposal(conn, new).await?;
        let event = PaymentTermsProposed {
            order_id: id,
            version: row.version,
            proposed_by: caller.user_id,
            recipient_id: other,
            amount: price(row.amount, &row.currency),
            method: row.method,
            schedule: row.schedule,
            due_at: row.due_at,
        };
        outbox::insert(conn, &Event::PaymentTermsProposed(event)).await?;
        all.insert(0, row);
        Ok(all)
    })
    .await
}

/// The party who did not make the current proposal accepts it, naming the version they read.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: OrderId,
    expected: i64,
) -> Result<Vec<TermsRow>, ApiError> {
    party(conn, id, caller).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let locked = orders::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("order"))?;
        let mut all = billing::proposals(conn, id).await?;
        let Some(current) = all.first() else {
            return Err(ApiError::conflict(
                "no_proposal",
                "Nothing to accept",
                "No payment terms have been proposed on this order yet.",
            ));
        };
        if current.version != expected {
            return Err(ApiError::PreconditionFailed {
                current_version: current.version,
            });
        }
        if current.proposed_by == caller.user_id {
            return Err(ApiError::Forbidden {
                code: "own_proposal",
                detail: "The other party accepts a proposal, not the one who made it.".into(),
            });
        }
        if current.accepted_at.is_some() {
            return Err(already_accepted());
        }
        check_open(&locked)?;
        let row = billing::accept(conn, current.id, caller.user_id)
            .await?
            .ok_or_else(already_accepted)?;
        let event = PaymentTermsAccepted {
            order_id: id,
            version: row.version,
            proposed_by: row.proposed_by,
            accepted_by: caller.user_id,
            amount: price(row.amount, &row.currency),
        };
        outbox::insert(conn, &Event::PaymentTermsAccepted(event)).await?;
        super::escrow::refresh_awaiting_payment(conn, &locked).await?;
        all[0] = row;
        Ok(all)
    })
    .await
}

fn already_accepted() -> ApiError {
    ApiError::conflict(
        "already_accepted",
        "Already accepted",
        "These terms are already accepted.",
    )
}
