//! Events of support: answers on tickets, and what support changes on an order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::{OrderId, SupportMessageId, TicketId, UserId};

/// `support_ticket.replied`: the support team answered a ticket; its user should hear of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SupportTicketReplied {
    #[schema(value_type = Uuid)]
    pub ticket_id: TicketId,
    #[schema(value_type = Uuid)]
    pub message_id: SupportMessageId,
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub subject: String,
    /// The first 200 characters of the answer.
    pub excerpt: String,
}

/// `support_ticket.resolved`: the team resolved a ticket; a reply within 14 days reopens it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SupportTicketResolved {
    #[schema(value_type = Uuid)]
    pub ticket_id: TicketId,
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub subject: String,
}

/// `order.due_date_extended`: support gave the creative more time; both parties hear of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderDueDateExtended {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub client_id: UserId,
    #[schema(value_type = Uuid)]
    pub creative_id: UserId,
    pub previous_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub note: String,
    pub version: i64,
}
