//! Events of money moving through the platform.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::EventPrice;
use crate::domain::ids::{InvoiceId, OrderId, PaymentId, PayoutId, RefundId, UserId};

/// `payment.succeeded`: a client's payment went through; the creative hears of it (and the client,
/// whose payment may have settled after they left).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentSucceeded {
    #[schema(value_type = Uuid)]
    pub payment_id: PaymentId,
    #[schema(value_type = Uuid)]
    pub invoice_id: InvoiceId,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub client_id: UserId,
    #[schema(value_type = Uuid)]
    pub creative_id: UserId,
    pub amount: EventPrice,
}

/// `payment.failed`: a payment was declined or failed after it was accepted for processing; the
/// client hears of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentFailed {
    #[schema(value_type = Uuid)]
    pub payment_id: PaymentId,
    #[schema(value_type = Uuid)]
    pub invoice_id: InvoiceId,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub client_id: UserId,
    pub amount: EventPrice,
    pub failure_code: String,
}

/// `refund.succeeded`: money went back to the client's card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RefundSucceeded {
    #[schema(value_type = Uuid)]
    pub refund_id: RefundId,
    #[schema(value_type = Uuid)]
    pub payment_id: PaymentId,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub client_id: UserId,
    pub amount: EventPrice,
}

/// `payout.paid`: a creative's payout reached their bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PayoutPaid {
    #[schema(value_type = Uuid)]
    pub payout_id: PayoutId,
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub amount: EventPrice,
    pub iban_last4: String,
}
