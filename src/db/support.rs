//! Support tickets and their messages.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use diesel::pg::Pg;

use super::schema::{orders, support_messages, support_tickets};
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
    pub note_count: i32,
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
            note_count: self.note_count,
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

/// The user's own ticket, locked until the transaction ends (nobody else's is touched).
pub async fn lock_own(
    conn: &mut AsyncPgConnection,
    id: TicketId,
    user: UserId,
) -> QueryResult<Option<TicketRow>> {
    support_tickets::table
        .find(id)
        .filter(support_tickets::user_id.eq(user))
        .select(TicketRow::as_select())
        .for_update()
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

/// Adds a message and moves the ticket to `status`, resolved at `resolved_at` (cleared by a reply
/// that reopens it). An internal note only counts itself: nothing the user sees changes. The row is
/// locked by the caller.
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
    let ticket = support_tickets::table.find(message.ticket_id);
    if message.internal {
        return diesel::update(ticket)
            .set(support_tickets::note_count.eq(support_tickets::note_count + 1))
            .returning(TicketRow::as_returning())
            .get_result(conn)
            .await;
    }
    diesel::update(ticket)
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
        // The user never sees who handles their ticket: nothing of theirs changes.
        .set(support_tickets::assigned_to.eq(to))
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
    /// Leave out this team member's own tickets and those about their orders.
    pub not_involving: Option<UserId>,
}

type Condition =
    Box<dyn BoxableExpression<support_tickets::table, Pg, SqlType = diesel::sql_types::Bool>>;

/// A status as shown: a resolved ticket past the reopen window is closed, marked or not.
fn shown_as(status: TicketStatus, cutoff: DateTime<Utc>) -> Condition {
    use support_tickets::{resolved_at, status as stored};
    let past = resolved_at.assume_not_null().lt(cutoff);
    match status {
        TicketStatus::Closed => Box::new(
            stored
                .eq(TicketStatus::Closed)
                .or(stored.eq(TicketStatus::Resolved).and(past)),
        ),
        TicketStatus::Resolved => Box::new(
            stored
                .eq(TicketStatus::Resolved)
                .and(resolved_at.assume_not_null().ge(cutoff)),
        ),
        other => Box::new(stored.eq(other)),
    }
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
    let cutoff = Utc::now() - crate::domain::support::reopen_window();
    let mut shown: Option<Condition> = None;
    for s in &f.statuses {
        let c = shown_as(*s, cutoff);
        shown = Some(match shown {
            None => c,
            Some(prev) => Box::new(prev.or(c)),
        });
    }
    if let Some(shown) = shown {
        q = q.filter(shown);
    }
    if let Some(staff) = f.not_involving {
        let theirs = orders::table
            .filter(
                orders::client_id
                    .eq(staff)
                    .or(orders::creative_id.eq(staff)),
            )
            .select(orders::id.nullable());
        q = q.filter(support_tickets::user_id.ne(staff)).filter(
            support_tickets::order_id
                .is_null()
                .or(diesel::dsl::not(support_tickets::order_id.eq_any(theirs))),
        );
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
