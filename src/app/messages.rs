//! The thread of an order: its participants (and admins) write in it while the order is open, the
//! system posts a line on every change, and each reader's marker records how far they have read.

use diesel_async::AsyncPgConnection;

use super::moves::role_of;
use crate::db::attachments::{self, AttachmentRow, Owner};
use crate::db::messages::{self, MessageRow, Position};
use crate::db::{orders, outbox};
use crate::domain::events::{Event, MessagePosted};
use crate::domain::ids::{AttachmentId, MessageId, OrderId, UserId};
use crate::domain::messages::may_post;
use crate::error::ApiError;

/// A message with the files it carries.
pub struct Posted {
    pub message: MessageRow,
    pub attachments: Vec<AttachmentRow>,
}

/// Posts `body` (already parsed) to the thread of `order`, which the caller locked in this
/// transaction after showing `caller` may see it (the lock keeps the order from closing between
/// the check and the insert), with files the caller uploaded to this order and nobody holds yet;
/// the other participants hear of it (`message.posted`). 409 `order_closed` once the order is
/// completed, declined or cancelled.
pub async fn post(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    order: orders::OrderRow,
    body: String,
    files: &[AttachmentId],
) -> Result<Posted, ApiError> {
    let order_id = order.id;
    let role = role_of(&order, caller);
    if !may_post(order.status()) {
        return Err(order_closed(order.status()));
    }
    let mut message = MessageRow::user(order_id, caller.user_id, role, body);
    messages::insert(conn, &mut message).await?;
    if role == crate::domain::order::ActorRole::Creative && order.first_response_at.is_none() {
        orders::mark_first_response(conn, order_id).await?;
    }
    let owner = Owner::Message(message.id);
    take_files(conn, files, order_id, caller.user_id, owner).await?;
    let recipients = [order.client_id, order.creative_id]
        .into_iter()
        .filter(|u| *u != caller.user_id)
        .collect();
    let event = MessagePosted {
        order_id,
        message_id: message.id,
        sender_id: caller.user_id,
        sender_role: role,
        recipient_ids: recipients,
        excerpt: message.body.chars().take(200).collect(),
        attachment_count: files.len(),
    };
    outbox::insert(conn, &Event::MessagePosted(event)).await?;
    let attachments = if files.is_empty() {
        Vec::new()
    } else {
        attachments::of_messages(conn, &[message.id]).await?
    };
    Ok(Posted {
        message,
        attachments,
    })
}

/// Gives the files to their owner, or refuses the whole request if any id is not a file the caller
/// uploaded to this order and nobody holds yet.
pub async fn take_files(
    conn: &mut AsyncPgConnection,
    files: &[AttachmentId],
    order: OrderId,
    uploader: UserId,
    owner: Owner,
) -> Result<(), ApiError> {
    if files.is_empty() {
        return Ok(());
    }
    let scope = attachments::Scope::Order(order);
    let taken = attachments::attach(conn, files, scope, uploader, owner).await?;
    if taken != files.len() {
        return Err(ApiError::validation(
            "attachment_ids",
            "unknown_attachment",
            "each id must be a file you uploaded to this order that no message or delivery holds yet",
        ));
    }
    Ok(())
}

pub fn order_closed(status: crate::domain::order::OrderStatus) -> ApiError {
    ApiError::conflict(
        "order_closed",
        "Order closed",
        format!("The order is `{status}`: its thread is kept, read-only."),
    )
}

/// A line the system posts on a change; run it in the change's transaction.
pub async fn post_system(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    text: String,
) -> diesel::QueryResult<()> {
    messages::insert(conn, &mut MessageRow::system(order, text)).await
}

/// One page of the thread, with its files and how far the caller has read.
pub struct Page {
    pub messages: Vec<MessageRow>,
    pub attachments: Vec<AttachmentRow>,
    pub last_read: Option<MessageId>,
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    order_id: OrderId,
    from: Position,
    limit: i64,
) -> Result<Page, ApiError> {
    super::orders::visible(conn, order_id, caller).await?;
    let rows = messages::page(conn, order_id, from, limit).await?;
    let ids: Vec<MessageId> = rows.iter().map(|m| m.id).collect();
    let attachments = attachments::of_messages(conn, &ids).await?;
    let last_read = messages::last_read(conn, order_id, caller.user_id).await?;
    Ok(Page {
        messages: rows,
        attachments,
        last_read,
    })
}

/// Moves the caller's read marker forward to `up_to` (never back); returns where it stands.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    order_id: OrderId,
    up_to: MessageId,
) -> Result<MessageId, ApiError> {
    super::orders::visible(conn, order_id, caller).await?;
    if !messages::belongs(conn, up_to, order_id).await? {
        return Err(ApiError::validation(
            "up_to",
            "unknown_message",
            "is not a message of this order",
        ));
    }
    Ok(messages::mark_read(conn, order_id, caller.user_id, up_to).await?)
}

/// Whether the caller wrote `m` or has read up to it.
pub fn is_read(m: &MessageRow, caller: UserId, last_read: Option<MessageId>) -> bool {
    m.sender_id == Some(caller) || last_read.is_some_and(|r| m.id <= r)
}
