//! Events about getting paid: payment terms proposed and accepted, invoices sent and closed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::EventPrice;
use crate::domain::billing::terms::{PaymentMethod, Schedule};
use crate::domain::ids::{InvoiceId, OrderId, UserId};

/// `payment_terms.proposed`: a party proposed how the order is paid; the other should accept it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentTermsProposed {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    /// The proposal's version, for `If-Match` when accepting it.
    pub version: i64,
    #[schema(value_type = Uuid)]
    pub proposed_by: UserId,
    /// The party who may accept it.
    #[schema(value_type = Uuid)]
    pub recipient_id: UserId,
    pub amount: EventPrice,
    pub method: PaymentMethod,
    pub schedule: Schedule,
    pub due_at: DateTime<Utc>,
}

/// `payment_terms.accepted`: the other party accepted a proposal; it now binds the order's invoices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentTermsAccepted {
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub version: i64,
    #[schema(value_type = Uuid)]
    pub proposed_by: UserId,
    #[schema(value_type = Uuid)]
    pub accepted_by: UserId,
    pub amount: EventPrice,
}

/// `invoice.sent`: a creative sent an invoice; its client should pay it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvoiceSent {
    #[schema(value_type = Uuid)]
    pub invoice_id: InvoiceId,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub number: String,
    #[schema(value_type = Uuid)]
    pub issuer_id: UserId,
    #[schema(value_type = Uuid)]
    pub recipient_id: UserId,
    pub total: EventPrice,
    pub due_at: Option<DateTime<Utc>>,
}

/// `invoice.voided`, `invoice.marked_uncollectible`: the creative closed an unpaid invoice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvoiceClosed {
    #[schema(value_type = Uuid)]
    pub invoice_id: InvoiceId,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub number: String,
    #[schema(value_type = Uuid)]
    pub issuer_id: UserId,
    #[schema(value_type = Uuid)]
    pub recipient_id: UserId,
}

/// `invoice.paid`: the invoice is paid in full (through the platform, or recorded by the creative
/// when paid outside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvoicePaid {
    #[schema(value_type = Uuid)]
    pub invoice_id: InvoiceId,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    pub number: String,
    #[schema(value_type = Uuid)]
    pub issuer_id: UserId,
    #[schema(value_type = Uuid)]
    pub recipient_id: UserId,
    pub amount_paid: EventPrice,
    /// Paid outside the platform and recorded by the creative.
    pub out_of_band: bool,
}
