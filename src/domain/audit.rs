//! What the audit log records: each admin action by name, and the kind of thing it acted on.

use serde::{Deserialize, Serialize};

/// An admin action. Names are `target.verb_in_past_tense`, like events.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Action {
    #[serde(rename = "ticket.assigned")]
    TicketAssigned,
    #[serde(rename = "ticket.replied")]
    TicketReplied,
    #[serde(rename = "ticket.note_added")]
    TicketNoteAdded,
    #[serde(rename = "ticket.resolved")]
    TicketResolved,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "user.enabled")]
    UserEnabled,
    #[serde(rename = "user.password_reset_sent")]
    UserPasswordResetSent,
    #[serde(rename = "order.due_date_extended")]
    OrderDueDateExtended,
    #[serde(rename = "order.dispute_resolved")]
    OrderDisputeResolved,
    #[serde(rename = "order.moved")]
    OrderMoved,
    #[serde(rename = "review.hidden")]
    ReviewHidden,
    #[serde(rename = "delivery.retried")]
    DeliveryRetried,
    #[serde(rename = "payment.refunded")]
    PaymentRefunded,
}

named_enum!(Action {
    TicketAssigned => "ticket.assigned",
    TicketReplied => "ticket.replied",
    TicketNoteAdded => "ticket.note_added",
    TicketResolved => "ticket.resolved",
    UserDisabled => "user.disabled",
    UserEnabled => "user.enabled",
    UserPasswordResetSent => "user.password_reset_sent",
    OrderDueDateExtended => "order.due_date_extended",
    OrderDisputeResolved => "order.dispute_resolved",
    OrderMoved => "order.moved",
    ReviewHidden => "review.hidden",
    DeliveryRetried => "delivery.retried",
    PaymentRefunded => "payment.refunded",
});

impl Action {
    /// The kind of thing the action is on, from its name.
    pub fn target_type(&self) -> &'static str {
        self.as_str().split_once('.').map_or("", |(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_carry_their_target() {
        for a in [
            Action::TicketAssigned,
            Action::UserDisabled,
            Action::OrderDisputeResolved,
            Action::DeliveryRetried,
        ] {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(Action::OrderMoved.target_type(), "order");
        assert_eq!(Action::ReviewHidden.target_type(), "review");
    }
}
