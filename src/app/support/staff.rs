//! The support team's side of a ticket: reading it with its notes, answering, resolving,
//! assigning. Never by a member the ticket involves; every act audited in its transaction.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::{involvement, refused, thread, write, NewMessage, Thread};
use crate::app::audit::{self, Staff};
use crate::db::outbox;
use crate::db::support::{self, MessageRow, TicketRow};
use crate::domain::audit::Action;
use crate::domain::events::{Event, SupportTicketReplied, SupportTicketResolved};
use crate::domain::ids::{TicketId, UserId};
use crate::domain::support::{self as rules, AuthorRole};
use crate::error::ApiError;

/// A ticket the team acts on, locked: not the acting member's own, nor one about their order
/// (nobody answers or resolves their own request or complaint as support).
async fn for_staff(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: TicketId,
) -> Result<TicketRow, ApiError> {
    let ticket = support::lock(conn, id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    match involvement(conn, staff.id, &ticket).await? {
        Some(refusal) => Err(refusal),
        None => Ok(ticket),
    }
}

/// A ticket as the team reads it, internal notes included; not by a member it involves.
pub async fn staff_thread(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: TicketId,
) -> Result<Thread, ApiError> {
    let ticket = support::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    if let Some(refusal) = involvement(conn, staff.id, &ticket).await? {
        return Err(refusal);
    }
    thread(conn, id, true).await
}

/// The team answers (the user is told, and the ticket waits on them) or adds an internal note
/// (nothing changes for the user, who never sees it).
pub async fn staff_reply(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: TicketId,
    new: NewMessage,
) -> Result<(TicketRow, MessageRow), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let ticket = for_staff(conn, staff, id).await?;
        let internal = new.internal;
        if internal && !new.files.is_empty() {
            return Err(ApiError::validation(
                "attachment_ids",
                "not_allowed",
                "internal notes carry no files (a ticket's files are shown to its user)",
            ));
        }
        let (updated, message) = write(conn, &ticket, staff.id, AuthorRole::Support, new).await?;
        let action = if internal {
            Action::TicketNoteAdded
        } else {
            Action::TicketReplied
        };
        let after = serde_json::json!({"message_id": message.id, "status": updated.status});
        let before = serde_json::json!({"status": ticket.status});
        audit::record(
            conn,
            staff,
            action,
            id.as_uuid(),
            Some(&before),
            Some(&after),
        )
        .await?;
        if !internal {
            let event = SupportTicketReplied {
                ticket_id: id,
                message_id: message.id,
                user_id: ticket.user_id,
                subject: ticket.subject.clone(),
                excerpt: message.body.chars().take(200).collect(),
            };
            outbox::insert(conn, &Event::SupportTicketReplied(event)).await?;
        }
        Ok((updated, message))
    })
    .await
}

/// The team resolves a ticket; its user is told and may reopen it by replying within the window.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: TicketId,
) -> Result<TicketRow, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let ticket = for_staff(conn, staff, id).await?;
        rules::resolve(&ticket.facts(), Utc::now()).map_err(refused)?;
        let updated = support::resolve(conn, id).await?;
        let (before, after) = (
            serde_json::json!({"status": ticket.status}),
            serde_json::json!({"status": updated.status, "resolved_at": updated.resolved_at}),
        );
        audit::record(
            conn,
            staff,
            Action::TicketResolved,
            id.as_uuid(),
            Some(&before),
            Some(&after),
        )
        .await?;
        let event = SupportTicketResolved {
            ticket_id: id,
            user_id: ticket.user_id,
            subject: ticket.subject.clone(),
        };
        outbox::insert(conn, &Event::SupportTicketResolved(event)).await?;
        Ok(updated)
    })
    .await
}

/// Assigns a ticket to a member of the team, or unassigns it (`None`).
pub async fn assign(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    id: TicketId,
    to: Option<UserId>,
) -> Result<TicketRow, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let ticket = for_staff(conn, staff, id).await?;
        if let Some(assignee) = to {
            let member = crate::db::users::find(conn, assignee).await?;
            let involved = involvement(conn, assignee, &ticket).await?.is_some();
            if involved || !member.is_some_and(|u| u.is_admin && u.disabled_at.is_none()) {
                return Err(ApiError::validation(
                    "assignee_id",
                    "not_support",
                    "must be an active member of the support team whom the ticket does not involve",
                ));
            }
        }
        let updated = support::assign(conn, id, to).await?;
        let (before, after) = (
            serde_json::json!({"assigned_to": ticket.assigned_to}),
            serde_json::json!({"assigned_to": updated.assigned_to}),
        );
        audit::record(
            conn,
            staff,
            Action::TicketAssigned,
            id.as_uuid(),
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(updated)
    })
    .await
}
