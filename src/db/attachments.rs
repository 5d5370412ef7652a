//! Files uploaded to an order: their metadata (the bytes are in storage, keyed by the id), which
//! message or delivery holds them, and the sweep of those nobody referenced.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::attachments;
use crate::domain::ids::{
    AttachmentId, DeliveryId, MessageId, OrderId, SupportMessageId, TicketId, UserId,
};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    /// The order the file was uploaded to, or none when it belongs to a support ticket.
    pub order_id: Option<OrderId>,
    pub uploaded_by: UserId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub message_id: Option<MessageId>,
    pub delivery_id: Option<DeliveryId>,
    pub created_at: DateTime<Utc>,
    pub ticket_id: Option<TicketId>,
    pub support_message_id: Option<SupportMessageId>,
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &AttachmentRow) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    id: AttachmentId,
) -> QueryResult<Option<AttachmentRow>> {
    attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Who holds an attachment.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    Message(MessageId),
    Delivery(DeliveryId),
    /// A message of this ticket.
    SupportMessage(TicketId, SupportMessageId),
}

/// Where a file was uploaded: every file belongs to one order or one ticket.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    Order(OrderId),
    Ticket(TicketId),
}

/// Gives `ids` to `owner`: only files of `scope`, uploaded by `uploader`, held by nobody yet.
/// Returns how many were taken; fewer than asked means some id was not one of those. A file of an
/// order given to a ticket's message moves to the ticket: the order's other party no longer sees it.
pub async fn attach(
    conn: &mut AsyncPgConnection,
    ids: &[AttachmentId],
    scope: Scope,
    uploader: UserId,
    owner: Owner,
) -> QueryResult<usize> {
    let (order, ticket) = match scope {
        Scope::Order(o) => (Some(o), None),
        Scope::Ticket(t) => (None, Some(t)),
    };
    let target = attachments::table
        .filter(attachments::id.eq_any(ids))
        .filter(attachments::order_id.is_not_distinct_from(order))
        .filter(attachments::ticket_id.is_not_distinct_from(ticket))
        .filter(attachments::uploaded_by.eq(uploader))
        .filter(attachments::message_id.is_null())
        .filter(attachments::delivery_id.is_null())
        .filter(attachments::support_message_id.is_null());
    let update = diesel::update(target);
    match owner {
        Owner::SupportMessage(t, m) => {
            update
                .set((
                    attachments::support_message_id.eq(Some(m)),
                    attachments::ticket_id.eq(Some(t)),
                    attachments::order_id.eq(None::<OrderId>),
                ))
                .execute(conn)
                .await
        }
        Owner::Message(m) => {
            update
                .set(attachments::message_id.eq(m))
                .execute(conn)
                .await
        }
        Owner::Delivery(d) => {
            update
                .set(attachments::delivery_id.eq(d))
                .execute(conn)
                .await
        }
    }
}

/// The files of these messages, for rendering a page of a thread.
pub async fn of_messages(
    conn: &mut AsyncPgConnection,
    messages: &[MessageId],
) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::message_id.eq_any(messages))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
        .await
}

/// The files of these ticket messages.
pub async fn of_support_messages(
    conn: &mut AsyncPgConnection,
    messages: &[SupportMessageId],
) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::support_message_id.eq_any(messages))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
        .await
}

/// The files of these deliveries.
pub async fn of_deliveries(
    conn: &mut AsyncPgConnection,
    deliveries: &[DeliveryId],
) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::delivery_id.eq_any(deliveries))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
        .await
}

/// Attachments no owner has taken since `before`, oldest first: the sweep's work. "Owner" is every
/// column that can hold an attachment; a new kind of owner adds its column here (and to the
/// `attachments_one_owner` check).
pub async fn unreferenced(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<AttachmentId>> {
    attachments::table
        .filter(attachments::message_id.is_null())
        .filter(attachments::delivery_id.is_null())
        .filter(attachments::support_message_id.is_null())
        .filter(attachments::created_at.lt(before))
        .order(attachments::created_at.asc())
        .limit(limit)
        .select(attachments::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

pub async fn delete(conn: &mut AsyncPgConnection, id: AttachmentId) -> QueryResult<usize> {
    diesel::delete(attachments::table.find(id))
        .execute(conn)
        .await
}
