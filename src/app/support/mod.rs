//! Support tickets: a user opens one (about one of their orders or not) and writes on it; the team
//! answers, notes, assigns and resolves. Each write locks the ticket, so two replies never race
//! the status; the team's acts are audited and the user hears of answers through the outbox.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::attachments::{self, AttachmentRow, Owner, Scope};
use crate::db::orders;
use crate::db::support::{self, MessageRow, TicketRow};
use crate::domain::ids::{AttachmentId, OrderId, SupportMessageId, TicketId, UserId};
use crate::domain::support::{self as rules, AuthorRole, TicketStatus};
use crate::error::ApiError;

mod staff;

pub use staff::{assign, resolve, staff_reply, staff_thread};

/// A ticket with the messages its reader may see and their files.
pub struct Thread {
    pub ticket: TicketRow,
    pub messages: Vec<MessageRow>,
    pub files: Vec<AttachmentRow>,
}

/// What a user sends to open a ticket (parsed).
pub struct NewTicket {
    pub subject: String,
    pub body: String,
    pub order_id: Option<OrderId>,
    pub files: Vec<AttachmentId>,
}

/// A message as written (parsed).
pub struct NewMessage {
    pub body: String,
    pub files: Vec<AttachmentId>,
    pub internal: bool,
}

fn refused(r: rules::Refusal) -> ApiError {
    ApiError::conflict(r.code, "Ticket refuses this", r.message)
}

/// Why `user` may not act as support on the ticket: it is theirs, or about an order of theirs.
async fn involvement(
    conn: &mut AsyncPgConnection,
    user: UserId,
    ticket: &TicketRow,
) -> Result<Option<ApiError>, ApiError> {
    if ticket.user_id == user {
        return Ok(Some(ApiError::Forbidden {
            code: "own_ticket",
            detail: "This is your own ticket: another member of the team handles it.".into(),
        }));
    }
    let Some(order) = ticket.order_id else {
        return Ok(None);
    };
    let party = orders::find_visible(
        conn,
        order,
        orders::Viewer {
            user_id: user,
            is_admin: false,
        },
    )
    .await?
    .is_some();
    Ok(party.then(|| ApiError::Forbidden {
        code: "own_order",
        detail: "This ticket is about an order you are a party to: another member of the team handles it.".into(),
    }))
}

/// Whether `caller` may see the ticket (and its files): its user, or the team but for members it
/// involves.
pub async fn sees(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: TicketId,
) -> Result<bool, ApiError> {
    let Some(t) = support::find(conn, id).await? else {
        return Ok(false);
    };
    if t.user_id == caller.user_id {
        return Ok(true);
    }
    Ok(caller.is_admin && involvement(conn, caller.user_id, &t).await?.is_none())
}

/// The caller's own ticket (404 for anyone else's, admins included: the team reads tickets under
/// `/v1/admin`), locked when asked.
async fn own(
    conn: &mut AsyncPgConnection,
    caller: UserId,
    id: TicketId,
    lock: bool,
) -> Result<TicketRow, ApiError> {
    let t = if lock {
        support::lock_own(conn, id, caller).await?
    } else {
        support::find(conn, id)
            .await?
            .filter(|t| t.user_id == caller)
    };
    t.ok_or(ApiError::NotFound("ticket"))
}

/// Files may be added to a ticket its user or the team may write on (not a closed one).
pub async fn may_add_files(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: TicketId,
) -> Result<(), ApiError> {
    if !sees(conn, caller, id).await? {
        return Err(ApiError::NotFound("ticket"));
    }
    let t = support::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    if t.facts().effective_status(Utc::now()) == TicketStatus::Closed {
        return Err(refused(rules::Refusal {
            code: "ticket_closed",
            message: "This ticket is closed: open a new ticket.".into(),
        }));
    }
    Ok(())
}

/// A user opens a ticket. An `order_id` must be one of their orders, and `files` files they
/// uploaded to it and have not attached yet: those move to the ticket.
pub async fn open(
    conn: &mut AsyncPgConnection,
    caller: UserId,
    new: NewTicket,
) -> Result<Thread, ApiError> {
    if let Some(order) = new.order_id {
        let theirs = orders::find_visible(
            conn,
            order,
            orders::Viewer {
                user_id: caller,
                is_admin: false,
            },
        )
        .await?;
        if theirs.is_none() {
            return Err(ApiError::validation(
                "order_id",
                "unknown_order",
                "must be one of your orders",
            ));
        }
    } else if !new.files.is_empty() {
        return Err(ApiError::validation(
            "attachment_ids",
            "order_required",
            "files sent when opening a ticket are your uploads to its order: name the order in `order_id`, or upload to the ticket once it exists",
        ));
    }
    let now = Utc::now();
    let ticket = TicketRow {
        id: TicketId::new(),
        user_id: caller,
        order_id: new.order_id,
        subject: new.subject,
        status: TicketStatus::Open,
        assigned_to: None,
        resolved_at: None,
        message_count: 0,
        note_count: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let message = MessageRow {
        id: SupportMessageId::new(),
        ticket_id: ticket.id,
        author_id: caller,
        author_role: AuthorRole::User,
        internal: false,
        body: new.body,
        created_at: now,
    };
    conn.transaction::<_, ApiError, _>(async |conn| {
        support::insert(conn, &ticket).await?;
        let ticket = support::add_message(conn, &message, TicketStatus::Open, None).await?;
        if let Some(order) = new.order_id {
            take_files(conn, &new.files, Scope::Order(order), caller, &message).await?;
        }
        tracing::info!(ticket_id = %ticket.id, "support ticket opened");
        Ok(())
    })
    .await?;
    thread(conn, ticket.id, false).await
}

/// The ticket and what its reader sees of it: the team sees internal notes, the user never.
pub async fn thread(
    conn: &mut AsyncPgConnection,
    id: TicketId,
    with_internal: bool,
) -> Result<Thread, ApiError> {
    let ticket = support::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    let messages = support::messages(conn, id, with_internal).await?;
    let ids: Vec<SupportMessageId> = messages.iter().map(|m| m.id).collect();
    let files = attachments::of_support_messages(conn, &ids).await?;
    Ok(Thread {
        ticket,
        messages,
        files,
    })
}

/// The caller's own ticket, as they see it.
pub async fn own_thread(
    conn: &mut AsyncPgConnection,
    caller: UserId,
    id: TicketId,
) -> Result<Thread, ApiError> {
    own(conn, caller, id, false).await?;
    thread(conn, id, false).await
}

async fn take_files(
    conn: &mut AsyncPgConnection,
    files: &[AttachmentId],
    scope: Scope,
    uploader: UserId,
    message: &MessageRow,
) -> Result<(), ApiError> {
    if files.is_empty() {
        return Ok(());
    }
    let owner = Owner::SupportMessage(message.ticket_id, message.id);
    let taken = attachments::attach(conn, files, scope, uploader, owner).await?;
    if taken != files.len() {
        return Err(ApiError::validation(
            "attachment_ids",
            "unknown_attachment",
            "each id must be a file you uploaded here that no message holds yet",
        ));
    }
    Ok(())
}

/// The user writes on their ticket: it goes back to the team (a resolved one reopens within the
/// window; a closed one refuses, 409 `ticket_closed`).
pub async fn user_reply(
    conn: &mut AsyncPgConnection,
    caller: UserId,
    id: TicketId,
    new: NewMessage,
) -> Result<(TicketRow, MessageRow), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let ticket = own(conn, caller, id, true).await?;
        write(conn, &ticket, caller, AuthorRole::User, new).await
    })
    .await
}

async fn write(
    conn: &mut AsyncPgConnection,
    ticket: &TicketRow,
    author: UserId,
    role: AuthorRole,
    new: NewMessage,
) -> Result<(TicketRow, MessageRow), ApiError> {
    let status =
        rules::after_message(&ticket.facts(), role, new.internal, Utc::now()).map_err(refused)?;
    let message = MessageRow {
        id: SupportMessageId::new(),
        ticket_id: ticket.id,
        author_id: author,
        author_role: role,
        internal: new.internal,
        body: new.body,
        created_at: Utc::now(),
    };
    let resolved_at = match status {
        TicketStatus::Resolved | TicketStatus::Closed => ticket.resolved_at,
        _ => None,
    };
    let updated = support::add_message(conn, &message, status, resolved_at).await?;
    take_files(conn, &new.files, Scope::Ticket(ticket.id), author, &message).await?;
    Ok((updated, message))
}

/// The worker closes tickets resolved longer ago than the reopen window.
pub async fn close_expired(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    Ok(support::close_resolved_before(conn, now - rules::reopen_window()).await?)
}
