//! Domain events: what happened, in the words email, webhooks and the live stream will publish. Each
//! has a stable name (`resource.verb_in_past_tense`) and one payload type, documented in the OpenAPI
//! components; an outbox row is written only from an [`Event`], in the transaction of the change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids::{MessageId, OrderId, UserId};
use super::order::{ActorRole, OrderStatus};

mod billing;
mod payments;
mod reviews;
mod support;
mod webhooks;

pub use billing::*;
pub use payments::*;
pub use reviews::*;
pub use support::*;
pub use webhooks::*;

/// A price as events carry it: integer minor units and an ISO 4217 code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventPrice {
    pub amount: i64,
    pub currency: String,
}

/// `order.placed`: a client placed an order; its creative should hear of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderPlaced {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub title: String,
    #[schema(value_type = Uuid)]
    pub client_id: UserId,
    #[schema(value_type = Uuid)]
    pub creative_id: UserId,
    pub price: EventPrice,
    pub due_at: DateTime<Utc>,
}

/// `order.updated`: the client changed a new order's requirements or deadline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderUpdated {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub creative_id: UserId,
    pub version: i64,
}

/// `order.status_changed`: an order moved; both parties hear of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderStatusChanged {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub client_id: UserId,
    #[schema(value_type = Uuid)]
    pub creative_id: UserId,
    pub from: OrderStatus,
    pub to: OrderStatus,
    /// Null when the system moved the order.
    #[schema(value_type = Option<Uuid>)]
    pub actor_id: Option<UserId>,
    pub actor_role: ActorRole,
    pub note: Option<String>,
    pub version: i64,
}

/// `order.cancellation_requested`: one party asked to cancel; the other should answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CancellationRequested {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub request_id: Uuid,
    #[schema(value_type = Uuid)]
    pub requested_by: UserId,
    /// The party who should answer.
    #[schema(value_type = Uuid)]
    pub recipient_id: UserId,
    pub reason: String,
    pub auto_accept_at: DateTime<Utc>,
}

/// Why a cancellation request was closed without cancelling the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// The other party said no.
    Rejected,
    /// The order moved on (delivered, completed, disputed, …) before anyone answered.
    OrderMoved,
}

/// `order.cancellation_rejected`: the requester learns their request is closed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CancellationRejected {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub request_id: Uuid,
    #[schema(value_type = Uuid)]
    pub requested_by: UserId,
    pub reason: RejectionReason,
    /// The order's status once the request closed.
    pub order_status: OrderStatus,
}

/// `user.password_reset_requested`: carries the reset token to the email that delivers it. The
/// token's plaintext exists only here; the deliverer purges it once sent, and a sweep purges it
/// once expired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetRequested {
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub email: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// `user.email_verification_requested`: carries the verification token to the email that delivers
/// it; purged once sent, like a reset token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmailVerificationRequested {
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub email: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// `message.posted`: a party wrote in an order's thread; the other participants should hear of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessagePosted {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub message_id: MessageId,
    #[schema(value_type = Uuid)]
    pub sender_id: UserId,
    pub sender_role: ActorRole,
    /// Who should hear of it: the order's parties but the sender.
    #[schema(value_type = Vec<Uuid>)]
    pub recipient_ids: Vec<UserId>,
    /// The first 200 characters of the body, for a notification's preview.
    pub excerpt: String,
    pub attachment_count: usize,
}

/// The envelope an event travels in everywhere (webhooks, the live stream):
/// `{"id", "type", "created_at", "data"}`, as compact JSON (one line, as SSE's `data:` needs).
pub fn envelope(
    id: Uuid,
    event_type: &str,
    created_at: DateTime<Utc>,
    data: &serde_json::Value,
) -> String {
    serde_json::json!({
        "id": id,
        "type": event_type,
        "created_at": created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string()
}

/// Every event the service emits.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    OrderPlaced(OrderPlaced),
    OrderUpdated(OrderUpdated),
    OrderStatusChanged(OrderStatusChanged),
    CancellationRequested(CancellationRequested),
    CancellationRejected(CancellationRejected),
    PasswordResetRequested(PasswordResetRequested),
    MessagePosted(MessagePosted),
    EmailVerificationRequested(EmailVerificationRequested),
    PaymentTermsProposed(PaymentTermsProposed),
    PaymentTermsAccepted(PaymentTermsAccepted),
    InvoiceSent(InvoiceSent),
    InvoiceVoided(InvoiceClosed),
    InvoiceMarkedUncollectible(InvoiceClosed),
    InvoicePaid(InvoicePaid),
    ReviewPublished(ReviewPublished),
    SupportTicketReplied(SupportTicketReplied),
    SupportTicketResolved(SupportTicketResolved),
    OrderDueDateExtended(OrderDueDateExtended),
    PaymentSucceeded(PaymentSucceeded),
    PaymentFailed(PaymentFailed),
    RefundSucceeded(RefundSucceeded),
    PayoutPaid(PayoutPaid),
    WebhookEndpointDisabled(WebhookEndpointDisabled),
}

/// The resource an event is about, for routing and ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Order(OrderId),
    User(UserId),
}

impl Aggregate {
    pub fn kind(&self) -> &'static str {
        match self {
            Aggregate::Order(_) => "order",
            Aggregate::User(_) => "user",
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Aggregate::Order(id) => id.as_uuid(),
            Aggregate::User(id) => id.as_uuid(),
        }
    }
}

impl Event {
    /// Every event name, in the order of [`Event`]'s variants.
    pub const NAMES: [&'static str; 23] = [
        "order.placed",
        "order.updated",
        "order.status_changed",
        "order.cancellation_requested",
        "order.cancellation_rejected",
        "user.password_reset_requested",
        "message.posted",
        "user.email_verification_requested",
        "payment_terms.proposed",
        "payment_terms.accepted",
        "invoice.sent",
        "invoice.voided",
        "invoice.marked_uncollectible",
        "invoice.paid",
        "review.published",
        "support_ticket.replied",
        "support_ticket.resolved",
        "order.due_date_extended",
        "payment.succeeded",
        "payment.failed",
        "refund.succeeded",
        "payout.paid",
        "webhook_endpoint.disabled",
    ];

    /// The events carrying a secret (a `token`), removed once the mail carrying it is sent.
    pub const SECRET_BEARING: [&'static str; 2] = [
        "user.password_reset_requested",
        "user.email_verification_requested",
    ];

    /// Reads an event back from its outbox row; `None` for a name or shape this build does not
    /// know (an event written by a newer version during a rolling deploy).
    pub fn from_stored(name: &str, payload: &serde_json::Value) -> Option<Event> {
        fn de<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Option<T> {
            T::deserialize(v).ok()
        }
        Some(match name {
            "order.placed" => Event::OrderPlaced(de(payload)?),
            "order.updated" => Event::OrderUpdated(de(payload)?),
            "order.status_changed" => Event::OrderStatusChanged(de(payload)?),
            "order.cancellation_requested" => Event::CancellationRequested(de(payload)?),
            "order.cancellation_rejected" => Event::CancellationRejected(de(payload)?),
            "user.password_reset_requested" => Event::PasswordResetRequested(de(payload)?),
            "message.posted" => Event::MessagePosted(de(payload)?),
            "user.email_verification_requested" => Event::EmailVerificationRequested(de(payload)?),
            "payment_terms.proposed" => Event::PaymentTermsProposed(de(payload)?),
            "payment_terms.accepted" => Event::PaymentTermsAccepted(de(payload)?),
            "invoice.sent" => Event::InvoiceSent(de(payload)?),
            "invoice.voided" => Event::InvoiceVoided(de(payload)?),
            "invoice.marked_uncollectible" => Event::InvoiceMarkedUncollectible(de(payload)?),
            "invoice.paid" => Event::InvoicePaid(de(payload)?),
            "review.published" => Event::ReviewPublished(de(payload)?),
            "support_ticket.replied" => Event::SupportTicketReplied(de(payload)?),
            "support_ticket.resolved" => Event::SupportTicketResolved(de(payload)?),
            "order.due_date_extended" => Event::OrderDueDateExtended(de(payload)?),
            "payment.succeeded" => Event::PaymentSucceeded(de(payload)?),
            "payment.failed" => Event::PaymentFailed(de(payload)?),
            "refund.succeeded" => Event::RefundSucceeded(de(payload)?),
            "payout.paid" => Event::PayoutPaid(de(payload)?),
            "webhook_endpoint.disabled" => Event::WebhookEndpointDisabled(de(payload)?),
            _ => return None,
        })
    }

    /// The stable name clients switch on.
    pub fn name(&self) -> &'static str {
        Self::NAMES[match self {
            Event::OrderPlaced(_) => 0,
            Event::OrderUpdated(_) => 1,
            Event::OrderStatusChanged(_) => 2,
            Event::CancellationRequested(_) => 3,
            Event::CancellationRejected(_) => 4,
            Event::PasswordResetRequested(_) => 5,
            Event::MessagePosted(_) => 6,
            Event::EmailVerificationRequested(_) => 7,
            Event::PaymentTermsProposed(_) => 8,
            Event::PaymentTermsAccepted(_) => 9,
            Event::InvoiceSent(_) => 10,
            Event::InvoiceVoided(_) => 11,
            Event::InvoiceMarkedUncollectible(_) => 12,
            Event::InvoicePaid(_) => 13,
            Event::ReviewPublished(_) => 14,
            Event::SupportTicketReplied(_) => 15,
            Event::SupportTicketResolved(_) => 16,
            Event::OrderDueDateExtended(_) => 17,
            Event::PaymentSucceeded(_) => 18,
            Event::PaymentFailed(_) => 19,
            Event::RefundSucceeded(_) => 20,
            Event::PayoutPaid(_) => 21,
            Event::WebhookEndpointDisabled(_) => 22,
        }]
    }

    pub fn aggregate(&self) -> Aggregate {
        match self {
            Event::OrderPlaced(e) => Aggregate::Order(e.order_id),
            Event::OrderUpdated(e) => Aggregate::Order(e.order_id),
            Event::OrderStatusChanged(e) => Aggregate::Order(e.order_id),
            Event::CancellationRequested(e) => Aggregate::Order(e.order_id),
            Event::CancellationRejected(e) => Aggregate::Order(e.order_id),
            Event::PasswordResetRequested(e) => Aggregate::User(e.user_id),
            Event::MessagePosted(e) => Aggregate::Order(e.order_id),
            Event::EmailVerificationRequested(e) => Aggregate::User(e.user_id),
            Event::PaymentTermsProposed(e) => Aggregate::Order(e.order_id),
            Event::PaymentTermsAccepted(e) => Aggregate::Order(e.order_id),
            Event::InvoiceSent(e) => Aggregate::Order(e.order_id),
            Event::InvoiceVoided(e) | Event::InvoiceMarkedUncollectible(e) => {
                Aggregate::Order(e.order_id)
            }
            Event::InvoicePaid(e) => Aggregate::Order(e.order_id),
            Event::ReviewPublished(e) => Aggregate::Order(e.order_id),
            Event::SupportTicketReplied(e) => Aggregate::User(e.user_id),
            Event::SupportTicketResolved(e) => Aggregate::User(e.user_id),
            Event::OrderDueDateExtended(e) => Aggregate::Order(e.order_id),
            Event::PaymentSucceeded(e) => Aggregate::Order(e.order_id),
            Event::PaymentFailed(e) => Aggregate::Order(e.order_id),
            Event::RefundSucceeded(e) => Aggregate::Order(e.order_id),
            Event::PayoutPaid(e) => Aggregate::User(e.user_id),
            Event::WebhookEndpointDisabled(e) => Aggregate::User(e.owner_id),
        }
    }

    /// Who should hear of it.
    pub fn recipients(&self) -> Vec<UserId> {
        match self {
            Event::OrderPlaced(e) => vec![e.creative_id],
            Event::OrderUpdated(e) => vec![e.creative_id],
            Event::OrderStatusChanged(e) => vec![e.client_id, e.creative_id],
            Event::CancellationRequested(e) => vec![e.recipient_id],
            Event::CancellationRejected(e) => vec![e.requested_by],
            Event::PasswordResetRequested(e) => vec![e.user_id],
            Event::MessagePosted(e) => e.recipient_ids.clone(),
            Event::EmailVerificationRequested(e) => vec![e.user_id],
            Event::PaymentTermsProposed(e) => vec![e.recipient_id],
            Event::PaymentTermsAccepted(e) => vec![e.proposed_by],
            Event::InvoiceSent(e) => vec![e.recipient_id],
            Event::InvoiceVoided(e) => vec![e.recipient_id],
            // For the issuer's own records and integrations; off by default on every channel.
            Event::InvoiceMarkedUncollectible(e) => vec![e.issuer_id],
            // A creative recording a payment they received needs no mail about it.
            Event::InvoicePaid(e) if e.out_of_band => vec![e.recipient_id],
            Event::InvoicePaid(e) => vec![e.issuer_id, e.recipient_id],
            Event::ReviewPublished(e) => vec![e.subject_id],
            Event::SupportTicketReplied(e) => vec![e.user_id],
            Event::SupportTicketResolved(e) => vec![e.user_id],
            Event::OrderDueDateExtended(e) => vec![e.client_id, e.creative_id],
            Event::PaymentSucceeded(e) => vec![e.creative_id, e.client_id],
            Event::PaymentFailed(e) => vec![e.client_id],
            Event::RefundSucceeded(e) => vec![e.client_id],
            Event::PayoutPaid(e) => vec![e.user_id],
            Event::WebhookEndpointDisabled(e) => vec![e.owner_id],
        }
    }

    /// The `data` of the envelope.
    pub fn data(&self) -> serde_json::Value {
        let value = match self {
            Event::OrderPlaced(e) => serde_json::to_value(e),
            Event::OrderUpdated(e) => serde_json::to_value(e),
            Event::OrderStatusChanged(e) => serde_json::to_value(e),
            Event::CancellationRequested(e) => serde_json::to_value(e),
            Event::CancellationRejected(e) => serde_json::to_value(e),
            Event::PasswordResetRequested(e) => serde_json::to_value(e),
            Event::MessagePosted(e) => serde_json::to_value(e),
            Event::EmailVerificationRequested(e) => serde_json::to_value(e),
            Event::PaymentTermsProposed(e) => serde_json::to_value(e),
            Event::PaymentTermsAccepted(e) => serde_json::to_value(e),
            Event::InvoiceSent(e) => serde_json::to_value(e),
            Event::InvoiceVoided(e) | Event::InvoiceMarkedUncollectible(e) => {
                serde_json::to_value(e)
            }
            Event::InvoicePaid(e) => serde_json::to_value(e),
            Event::ReviewPublished(e) => serde_json::to_value(e),
            Event::SupportTicketReplied(e) => serde_json::to_value(e),
            Event::SupportTicketResolved(e) => serde_json::to_value(e),
            Event::OrderDueDateExtended(e) => serde_json::to_value(e),
            Event::PaymentSucceeded(e) => serde_json::to_value(e),
            Event::PaymentFailed(e) => serde_json::to_value(e),
            Event::RefundSucceeded(e) => serde_json::to_value(e),
            Event::PayoutPaid(e) => serde_json::to_value(e),
            Event::WebhookEndpointDisabled(e) => serde_json::to_value(e),
        };
        // Plain structs of strings, numbers and ids always serialise.
        value.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_resource_dot_past_tense_and_unique() {
        let mut names = Event::NAMES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Event::NAMES.len());
        for name in Event::NAMES {
            let (resource, verb) = name.split_once('.').unwrap();
            // `status_changed`, and `marked_uncollectible` as Stripe names it: a past participle
            // among the verb's words.
            let irregular = ["sent", "paid", "succeeded"];
            let past = verb
                .split('_')
                .any(|w| w.ends_with("ed") || irregular.contains(&w));
            assert!(!resource.is_empty() && past, "{name}");
        }
    }

    #[test]
    fn a_status_change_reaches_both_parties() {
        let (order, client, creative) = (OrderId::new(), UserId::new(), UserId::new());
        let e = Event::OrderStatusChanged(OrderStatusChanged {
            order_id: order,
            client_id: client,
            creative_id: creative,
            from: OrderStatus::New,
            to: OrderStatus::InProgress,
            actor_id: Some(creative),
            actor_role: ActorRole::Creative,
            note: None,
            version: 2,
        });
        assert_eq!(e.name(), "order.status_changed");
        assert_eq!(e.aggregate(), Aggregate::Order(order));
        assert_eq!(e.recipients(), vec![client, creative]);
        assert_eq!(e.data()["to"], "in_progress");
        assert_eq!(Event::from_stored(e.name(), &e.data()), Some(e));
    }

    #[test]
    fn every_event_name_has_notification_rules() {
        for name in Event::NAMES {
            assert!(super::super::notify::rule_for(name).is_some(), "{name}");
        }
    }
}
