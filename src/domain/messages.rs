//! The thread of an order: who may write in it and when, and what the system says there.

use super::order::{ActorRole, OrderStatus};
use super::text;
use super::Invalid;

/// Written by a party, or posted by the system on a change.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    User,
    System,
}

named_enum!(MessageKind {
    User => "user",
    System => "system",
});

/// A message body: 1 to 10 000 characters, trimmed, no control characters but line breaks and tabs
/// (NUL included).
pub fn parse_body(raw: &str) -> Result<String, Invalid> {
    text::MESSAGE.parse(raw)
}

/// A thread takes messages while its order is open; once it is completed, declined or cancelled it
/// is kept, read-only.
pub fn may_post(status: OrderStatus) -> bool {
    !status.is_terminal()
}

/// How many files one message or delivery may carry.
pub const MAX_ATTACHMENTS: usize = 20;

/// The system's line for a move, in the thread.
pub fn moved(from: OrderStatus, to: OrderStatus, by: ActorRole, note: Option<&str>) -> String {
    let what = match (from, to) {
        (OrderStatus::New, OrderStatus::InProgress) => "The creative confirmed the order.".into(),
        (OrderStatus::New, OrderStatus::Declined) => "The creative declined the order.".into(),
        (_, OrderStatus::Delivered) => "The creative delivered the work.".into(),
        (OrderStatus::Delivered, OrderStatus::InProgress) => {
            "The client asked for a revision.".into()
        }
        (_, OrderStatus::Completed) if by == ActorRole::System => {
            "The order completed automatically.".into()
        }
        (_, OrderStatus::Completed) => "The order is complete.".into(),
        (_, OrderStatus::Disputed) => "The order is disputed.".into(),
        (_, OrderStatus::Cancelled) => "The order was cancelled.".into(),
        _ => format!("The order moved from `{from}` to `{to}`."),
    };
    match note {
        Some(note) if !note.is_empty() => format!("{what} ({}): {note}", by.as_str()),
        _ => format!("{what} ({})", by.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_bounded_and_free_of_nul() {
        assert_eq!(parse_body("  hello \n").unwrap(), "hello");
        assert!(parse_body(" \n\t ").is_err());
        assert!(parse_body("a\u{0}b").is_err());
        assert!(parse_body(&"x".repeat(10_001)).is_err());
        assert!(parse_body(&"x".repeat(10_000)).is_ok());
    }

    #[test]
    fn closed_orders_are_read_only() {
        assert!(may_post(OrderStatus::Disputed));
        assert!(!may_post(OrderStatus::Completed));
        assert!(!may_post(OrderStatus::Cancelled));
    }
}
