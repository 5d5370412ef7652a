//! What the support team does to accounts and orders: disable and enable accounts, send a password
//! reset, give an order more time, settle a dispute. Every act is audited in its own transaction,
//! and nobody acts as support on an order they are a party to.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

use super::audit::{self, Staff};
use crate::config::OrderTimings;
use crate::db::orders::OrderRow;
use crate::db::support::{self, TicketRow};
use crate::db::users::UserRow;
use crate::db::{accounts, orders, outbox, sessions};
use crate::domain::audit::Action;
use crate::domain::events::{Event, OrderDueDateExtended};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::money::Money;
use crate::domain::order::{self as machine, ActorRole, Clock, Effect, OrderStatus};
use crate::error::ApiError;

/// A user as support sees them: the account, their latest orders and tickets.
pub struct UserOverview {
    pub user: UserRow,
    pub orders: Vec<OrderRow>,
    pub tickets: Vec<TicketRow>,
}

pub async fn user_overview(
    conn: &mut AsyncPgConnection,
    id: UserId,
) -> Result<UserOverview, ApiError> {
    let user = crate::db::users::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let orders = accounts::recent_orders(conn, id, 20).await?;
    let filter = support::Filter {
        user: Some(id),
        ..Default::default()
    };
    let tickets = support::list(conn, &filter, None, 20).await?;
    Ok(UserOverview {
        user,
        orders,
        tickets,
    })
}

fn account_state(u: &UserRow) -> serde_json::Value {
    json!({"disabled_at": u.disabled_at, "version": u.version})
}

/// Disables (`true`) or re-enables an account. Disabling ends every session at once: the user's
/// access tokens fail on their next request and their refresh tokens never work again. Asking for
/// the state the account is in changes nothing and records nothing.
pub async fn set_disabled(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: UserId,
    disabled: bool,
    reason: &str,
) -> Result<UserRow, ApiError> {
    if id == staff.id {
        return Err(ApiError::conflict(
            "own_account",
            "Not on your own account",
            "Another member of the team changes your account.",
        ));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let user = accounts::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("user"))?;
        if user.disabled_at.is_some() == disabled {
            return Ok(user);
        }
        let updated = accounts::set_disabled(conn, id, disabled).await?;
        let action = if disabled {
            sessions::revoke_all(conn, id).await?;
            Action::UserDisabled
        } else {
            Action::UserEnabled
        };
        let mut after = account_state(&updated);
        after["reason"] = json!(reason);
        audit::record(conn, staff, action, id.as_uuid(), Some(&account_state(&user)), Some(&after))
            .await?;
        tracing::info!(user_id = %id, action = action.as_str(), "account access changed by support");
        Ok(updated)
    })
    .await
}

/// Sends the user a password-reset mail, as if they had asked for it.
pub async fn send_password_reset(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: UserId,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let user = accounts::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("user"))?;
        if user.disabled_at.is_some() {
            return Err(ApiError::conflict(
                "account_disabled",
                "Account disabled",
                "A disabled account cannot sign in: enable it first.",
            ));
        }
        super::accounts::issue_reset(conn, &user).await?;
        let after = json!({"email": user.email});
        audit::record(
            conn,
            staff,
            Action::UserPasswordResetSent,
            id.as_uuid(),
            None::<&()>,
            Some(&after),
        )
        .await?;
        Ok(())
    })
    .await
}

/// The order, locked, if the team member is not one of its parties.
async fn order_for_staff(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: OrderId,
) -> Result<OrderRow, ApiError> {
    let order = orders::lock(conn, id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    if order.client_id == staff.id || order.creative_id == staff.id {
        return Err(ApiError::Forbidden {
            code: "own_order",
            detail: "You are a party to this order: another member of the team acts on it.".into(),
        });
    }
    Ok(order)
}

/// A new due date and why, against the order version the team member saw (`None`: any).
pub struct DueDateChange {
    pub due_at: DateTime<Utc>,
    pub note: String,
    pub expected_version: Option<i64>,
}

/// 412 when the order is no longer at the version the caller saw.
fn check_version(order: &OrderRow, expected: Option<i64>) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != order.version => Err(ApiError::PreconditionFailed {
            current_version: order.version,
        }),
        _ => Ok(()),
    }
}

/// The furthest support may move a due date in one go.
const MAX_EXTENSION_DAYS: i64 = 365;

/// Gives the creative more time: a later due date, with the reason in the thread and a mail to both
/// parties. Only while the work is still to be handed over.
pub async fn extend_due_date(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: OrderId,
    change: DueDateChange,
) -> Result<OrderRow, ApiError> {
    let DueDateChange { due_at, note, .. } = &change;
    let (due_at, note) = (*due_at, note.as_str());
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = order_for_staff(conn, staff, id).await?;
        check_version(&order, change.expected_version)?;
        if !OrderStatus::CAN_BE_LATE.contains(&order.status()) {
            return Err(ApiError::conflict(
                "due_date_fixed",
                "Due date no longer matters",
                format!(
                    "The order is `{}`: its work is handed over or the order is closed.",
                    order.status()
                ),
            ));
        }
        if due_at <= order.due_at.max(Utc::now()) {
            return Err(ApiError::validation(
                "due_at",
                "not_later",
                "must be later than both the order's current due date and now",
            ));
        }
        if due_at > order.due_at.max(Utc::now()) + Duration::days(MAX_EXTENSION_DAYS) {
            return Err(ApiError::validation(
                "due_at",
                "too_far",
                format!("may be at most {MAX_EXTENSION_DAYS} days after the current due date"),
            ));
        }
        let updated = accounts::set_due(conn, id, due_at).await?;
        let line = format!(
            "Support moved the due date to {}. Reason: {note}",
            due_at.to_rfc3339()
        );
        super::messages::post_system(conn, id, line).await?;
        let event = OrderDueDateExtended {
            order_id: id,
            client_id: order.client_id,
            creative_id: order.creative_id,
            previous_due_at: order.due_at,
            due_at,
            note: note.to_string(),
            version: updated.version,
        };
        outbox::insert(conn, &Event::OrderDueDateExtended(event)).await?;
        let (before, after) = (
            json!({"due_at": order.due_at, "version": order.version}),
            json!({"due_at": updated.due_at, "version": updated.version, "note": note}),
        );
        audit::record(
            conn,
            staff,
            Action::OrderDueDateExtended,
            id.as_uuid(),
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(updated)
    })
    .await
}

/// How support settles a dispute.
pub struct Resolution {
    pub outcome: OrderStatus,
    pub note: String,
    /// Part of the escrow returned to the client, the rest released to the creative.
    pub client_refund: Option<Money>,
    /// The order version the team member saw (`None`: any).
    pub expected_version: Option<i64>,
}

/// Settles a dispute in one transaction: the move to `completed` or `cancelled` with its history,
/// thread line and events, the money's split, and the audit entry. An admin who is a party to the
/// order cannot (403 `own_order`): nobody resolves their own dispute.
pub async fn resolve_dispute(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: OrderId,
    r: Resolution,
    clock: &Clock,
    timings: &OrderTimings,
) -> Result<OrderRow, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = order_for_staff(conn, staff, id).await?;
        // The split moves escrow before the order's status: take the order's tally rows first,
        // as every other move does (order tallies, then escrow tallies), or this could deadlock
        // with a completion of another order of the same people.
        crate::db::tallies::lock_for_orders(conn, &[id]).await?;
        check_version(&order, r.expected_version)?;
        let facts = order.facts();
        machine::check_dispute_resolution(&facts, r.outcome)
            .map_err(|e| super::moves::refusal(e, &facts, ActorRole::Admin, r.outcome, clock))?;
        if let Some(refund) = r.client_refund {
            let held = super::escrow::held(conn, &order).await?;
            check_refund(&order, refund, held)?;
            // The split: the refund leaves escrow for the client, the rest goes to the creative
            // less the fee, whichever way the order ends.
            let by = Some(staff.id);
            super::escrow::refund(conn, &order, refund.amount(), "dispute_resolution", by).await?;
            super::escrow::release_all(conn, &order, timings.platform_fee_bps).await?;
        }
        let m = super::moves::Move {
            order: &order,
            to: r.outcome,
            effect: Effect::None,
            actor_id: Some(staff.id),
            actor_role: ActorRole::Admin,
            note: Some(&r.note),
        };
        // The row is locked: the guarded write cannot lose a race here.
        let moved = super::moves::write(conn, m, timings)
            .await?
            .ok_or_else(|| anyhow::anyhow!("a locked order changed under its lock"))?;
        let refund = r.client_refund.map(|m| json!({"amount": m.amount(), "currency": m.currency().code()}));
        let (before, after) = (
            json!({"status": order.status(), "version": order.version}),
            json!({"status": moved.status(), "version": moved.version, "note": r.note, "client_refund": refund}),
        );
        audit::record(conn, staff, Action::OrderDisputeResolved, id.as_uuid(), Some(&before), Some(&after))
            .await?;
        Ok(moved)
    })
    .await
}

fn check_refund(order: &OrderRow, refund: Money, held: i64) -> Result<(), ApiError> {
    if refund.currency().code() != order.price_currency {
        return Err(ApiError::validation(
            "client_refund.currency",
            "currency_mismatch",
            format!("must be the order's currency, {}", order.price_currency),
        ));
    }
    if refund.amount() > held {
        return Err(ApiError::validation(
            "client_refund.amount",
            "exceeds_escrow",
            format!(
                "the escrow of this order holds {held} {}; a refund cannot exceed it",
                order.price_currency
            ),
        ));
    }
    Ok(())
}
