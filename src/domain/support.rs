//! Support tickets: how a ticket's status moves between its user and the support team, and what a
//! ticket and its messages may hold.

use chrono::{DateTime, Duration, Utc};

use super::text::{self, TextRule};
use super::Invalid;

pub const SUBJECT: TextRule = text::TITLE;
pub const BODY: TextRule = text::MESSAGE;
/// How long after its resolution a user's reply reopens a ticket; after it, the ticket is closed.
pub const REOPEN_WINDOW_DAYS: i64 = 14;
/// Messages (replies and notes) one ticket holds at most: a thread past it needs a new ticket.
pub const MAX_MESSAGES: i32 = 500;

stored_enum!(TicketStatus {
    /// Waiting on the support team.
    Open => "open",
    /// The team answered and waits on the user.
    WaitingOnUser => "waiting_on_user",
    /// The team resolved it; a reply within 14 days reopens it.
    Resolved => "resolved",
    /// Resolved more than 14 days ago: final.
    Closed => "closed",
});

impl TicketStatus {
    pub const ALL: [TicketStatus; 4] = [
        TicketStatus::Open,
        TicketStatus::WaitingOnUser,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];
}

stored_enum!(
    /// Who wrote a ticket message.
    AuthorRole {
        User => "user",
        Support => "support",
    }
);

/// What a ticket's status and resolution time say about the next move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketFacts {
    pub status: TicketStatus,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Messages the user sees.
    pub message_count: i32,
    /// The team's internal notes.
    pub note_count: i32,
}

/// Why a ticket refuses a message or a move (409).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

impl TicketFacts {
    /// A resolved ticket past the reopen window is closed, whether or not the worker marked it yet.
    pub fn effective_status(&self, now: DateTime<Utc>) -> TicketStatus {
        match (self.status, self.resolved_at) {
            (TicketStatus::Resolved, Some(at)) if now - at > reopen_window() => {
                TicketStatus::Closed
            }
            (status, _) => status,
        }
    }

    fn room(&self, internal: bool) -> Result<(), Refusal> {
        let count = if internal {
            self.note_count
        } else {
            self.message_count
        };
        if count >= MAX_MESSAGES {
            return Err(refuse(
                "ticket_full",
                format!("A ticket holds at most {MAX_MESSAGES} messages (and as many notes): open a new ticket."),
            ));
        }
        Ok(())
    }
}

pub fn reopen_window() -> Duration {
    Duration::days(REOPEN_WINDOW_DAYS)
}

/// The status after a message: a user's reply puts the ticket back with the team (reopening a
/// resolved one within the window); a support reply waits on the user; an internal note changes
/// nothing. A closed ticket takes no message.
pub fn after_message(
    t: &TicketFacts,
    by: AuthorRole,
    internal: bool,
    now: DateTime<Utc>,
) -> Result<TicketStatus, Refusal> {
    t.room(internal)?;
    let status = t.effective_status(now);
    if status == TicketStatus::Closed {
        return Err(refuse(
            "ticket_closed",
            format!(
                "This ticket was resolved more than {REOPEN_WINDOW_DAYS} days ago and is closed: open a new ticket."
            ),
        ));
    }
    Ok(match (by, internal) {
        (_, true) => status,
        (AuthorRole::User, false) => TicketStatus::Open,
        (AuthorRole::Support, false) => TicketStatus::WaitingOnUser,
    })
}

/// Resolving: any ticket not yet resolved or closed.
pub fn resolve(t: &TicketFacts, now: DateTime<Utc>) -> Result<(), Refusal> {
    match t.effective_status(now) {
        TicketStatus::Resolved | TicketStatus::Closed => Err(refuse(
            "ticket_resolved",
            "This ticket is resolved already.",
        )),
        _ => Ok(()),
    }
}

/// A ticket's subject, one line.
pub fn parse_subject(raw: &str) -> Result<String, Invalid> {
    SUBJECT.parse(raw)
}

/// A message's body.
pub fn parse_body(raw: &str) -> Result<String, Invalid> {
    BODY.parse(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    fn facts(status: TicketStatus, resolved_days_ago: Option<i64>) -> (TicketFacts, DateTime<Utc>) {
        let now = Utc::now();
        let t = TicketFacts {
            status,
            resolved_at: resolved_days_ago.map(|d| now - Duration::days(d)),
            message_count: 1,
            note_count: 0,
        };
        (t, now)
    }

    #[test]
    fn replies_move_the_ticket_between_the_team_and_the_user() {
        let (t, now) = facts(Open, None);
        assert_eq!(
            after_message(&t, AuthorRole::Support, false, now),
            Ok(WaitingOnUser)
        );
        let (t, now) = facts(WaitingOnUser, None);
        assert_eq!(after_message(&t, AuthorRole::User, false, now), Ok(Open));
        assert_eq!(
            after_message(&t, AuthorRole::Support, true, now),
            Ok(WaitingOnUser)
        );
    }

    #[test]
    fn a_reply_reopens_a_resolved_ticket_only_within_the_window() {
        let (t, now) = facts(Resolved, Some(13));
        assert_eq!(after_message(&t, AuthorRole::User, false, now), Ok(Open));
        let (t, now) = facts(Resolved, Some(15));
        assert_eq!(t.effective_status(now), Closed);
        let refused = after_message(&t, AuthorRole::User, false, now).unwrap_err();
        assert_eq!(refused.code, "ticket_closed");
        assert_eq!(
            after_message(&t, AuthorRole::Support, false, now)
                .unwrap_err()
                .code,
            "ticket_closed"
        );
    }

    #[test]
    fn a_full_ticket_takes_no_message_and_a_resolved_one_no_resolution() {
        let (mut t, now) = facts(Open, None);
        t.message_count = MAX_MESSAGES;
        assert_eq!(
            after_message(&t, AuthorRole::User, false, now)
                .unwrap_err()
                .code,
            "ticket_full"
        );
        let (t, now) = facts(Resolved, Some(1));
        assert_eq!(resolve(&t, now).unwrap_err().code, "ticket_resolved");
        let (t, now) = facts(WaitingOnUser, None);
        assert!(resolve(&t, now).is_ok());
    }
}
