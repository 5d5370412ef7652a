//! Support tickets and their messages.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{support_messages, support_tickets};
use crate::domain::ids::{OrderId, SupportMessageId, TicketId, UserId};
use crate::domain::support::{AuthorRole, TicketFacts, TicketStatus};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = support_tickets)]
pub struct TicketRow {
    pub id: TicketId,
    pub user_id: UserId,
    pub order_id: Option<OrderId>,
    pub subject: String,
    pub status: TicketStatus,
    pub assigned_to: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub message_count: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TicketRow {
    pub fn facts(&self) -> TicketFacts {
        TicketFacts {
            status: self.status,
            resolved_at: self.resolved_at,
            message_count: self.message_count,
        }
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = support_messages)]
pub struct MessageRow {
    pub id: SupportMessageId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    pub author_role: AuthorRole,
    pub internal: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &TicketRow) -> QueryResult<()> {
    diesel::insert_into(support_tickets::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn find(conn: &mut AsyncPgConnection, id: TicketId) -> QueryResult<Option<TicketRow>> {
    support_tickets::table
        .find(id)
        .select(TicketRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The ticket, locked until the transaction ends: messages and moves on one ticket take turns.
pub async fn lock(conn: &mut AsyncPgConnection, id: TicketId) -> QueryResult<Option<TicketRow>> {
    support_tickets::table
        .find(id)
        .select(TicketRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Adds a message and moves the ticket to `status`, resolved at `resolved_at` (kept by a note on a
/// resolved ticket, cleared by a reply that reopens it). The row is locked by the caller.
pub async fn add_message(
    conn: &mut AsyncPgConnection,
    message: &MessageRow,
    status: TicketStatus,
    resolved_at: Option<DateTime<Utc>>,
) -> QueryResult<TicketRow> {
    diesel::insert_into(support_messages::table)
        .values(message)
        .execute(conn)
        .await?;
    diesel::update(support_tickets::table.find(message.ticket_id))
        .set((
            support_tickets::message_count.eq(support_tickets::message_count + 1),
            support_tickets::status.eq(status),
            support_tickets::resolved_at.eq(resolved_at),
            support_tickets::version.eq(support_tickets::version + 1),
            support_tickets::updated_at.eq(now),
        ))
        .returning(TicketRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn resolve(conn: &mut AsyncPgConnection, id: TicketId) -> QueryResult<TicketRow> {
    diesel::update(support_tickets::table.find(id))
        .set((
            support_tickets::status.eq(TicketStatus::Resolved),
            support_tickets::resolved_at.eq(now),
            support_tickets::version.eq(support_tickets::version + 1),
            support_tickets::updated_at.eq(now),
        ))
        .returning(TicketRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn assign(
    conn: &mut AsyncPgConnection,
    id: TicketId,
    to: Option<UserId>,
) -> QueryResult<TicketRow> {
    diesel::update(support_tickets::table.find(id))
        .set((
            support_tickets::assigned_to.eq(to),
            support_tickets::version.eq(support_tickets::version + 1),
            support_tickets::updated_at.eq(now),
        ))
        .returning(TicketRow::as_returning())
        .get_result(conn)
        .await
}

/// A ticket's messages, oldest first; internal notes only when asked (for the team).
pub async fn messages(
    conn: &mut AsyncPgConnection,
    ticket: TicketId,
    with_internal: bool,
) -> QueryResult<Vec<MessageRow>> {
    let mut q = support_messages::table
        .filter(support_messages::ticket_id.eq(ticket))
        .into_boxed();
    if !with_internal {
        q = q.filter(support_messages::internal.eq(false));
    }
    q.order(support_messages::id.asc())
        .select(MessageRow::as_select())
        .load(conn)
        .await
}

/// Which tickets a list shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub user: Option<UserId>,
    pub statuses: Vec<TicketStatus>,
    pub assigned_to: Option<UserId>,
    pub order: Option<OrderId>,
}

/// One page of tickets, newest first, after the cursor `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    f: &Filter,
    before: Option<TicketId>,
    limit: i64,
) -> QueryResult<Vec<TicketRow>> {
    let mut q = support_tickets::table.into_boxed();
    if let Some(user) = f.user {
        q = q.filter(support_tickets::user_id.eq(user));
    }
    if !f.statuses.is_empty() {
        q = q.filter(support_tickets::status.eq_any(f.statuses.clone()));
    }
    if let Some(a) = f.assigned_to {
        q = q.filter(support_tickets::assigned_to.eq(a));
    }
    if let Some(o) = f.order {
        q = q.filter(support_tickets::order_id.eq(o));
    }
    if let Some(b) = before {
        q = q.filter(support_tickets::id.lt(b));
    }
    q.order(support_tickets::id.desc())
        .limit(limit)
        .select(TicketRow::as_select())
        .load(conn)
        .await
}

/// Closes the tickets resolved before `before` (the reopen window has passed).
pub async fn close_resolved_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        support_tickets::table
            .filter(support_tickets::status.eq(TicketStatus::Resolved))
            .filter(support_tickets::resolved_at.lt(before)),
    )
    .set((
        support_tickets::status.eq(TicketStatus::Closed),
        support_tickets::version.eq(support_tickets::version + 1),
        support_tickets::updated_at.eq(now),
    ))
    .execute(conn)
    .await
}
