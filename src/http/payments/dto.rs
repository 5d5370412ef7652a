//! The wire shapes of payments, refunds, payouts and balances.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::payments::{PaymentRow, RefundRow};
use crate::db::payouts::{DestinationRow, PayoutRow};
use crate::domain::payments::iban::Iban;
use crate::domain::payments::{PaymentStatus, TransferStatus};
use crate::http::money::{AmountDto, MoneyDto};
use crate::http::schemas;

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": 15000, "currency": "EUR"}, "payment_method": "pm_card_visa"}))]
pub struct PayRequest {
    /// What to pay now; absent: all that is left. Parts only when the accepted terms are in
    /// milestones.
    #[serde(default, deserialize_with = "crate::http::extract::optional_object")]
    pub amount: Option<MoneyDto>,
    /// A provider token (`pm_…`). With the sandbox: `pm_card_visa`, `pm_card_chargeDeclined`,
    /// `pm_card_processing`, `pm_card_chargeDeclinedProcessingError`,
    /// `pm_card_authenticationRequired`, or their test card numbers. Never stored.
    #[schema(min_length = 1, max_length = 255, pattern = r"^[ -~]+$")]
    pub payment_method: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-f000-7c41-9a0e-2f1b7c9d8e60",
    "invoice_id": "0193a0a4-a000-7c41-9a0e-2f1b7c9d8e20", "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03",
    "status": "succeeded", "amount": {"amount": 15000, "currency": "EUR"},
    "amount_refunded": {"amount": 0, "currency": "EUR"}, "failure_code": null, "next_action": null,
    "created_at": "2026-11-29T10:00:00Z", "updated_at": "2026-11-29T10:00:01Z"}))]
pub struct PaymentResponse {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub order_id: Uuid,
    /// `pending` (processing; settles shortly), `requires_action` (the client must authenticate,
    /// then `POST /v1/payments/{id}/confirm`), `succeeded`, `failed`.
    pub status: PaymentStatus,
    pub amount: MoneyDto,
    pub amount_refunded: AmountDto,
    /// Why it failed: `card_declined`, `processing_error`, …
    pub failure_code: Option<String>,
    /// What the client must do (with `requires_action`), as the provider describes it; shown to
    /// the client only.
    #[schema(value_type = Option<Object>)]
    pub next_action: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PaymentResponse {
    /// The payment as `viewer` sees it: what the client must do to authenticate is the client's
    /// alone.
    pub fn seen_by(p: PaymentRow, viewer: crate::domain::ids::UserId) -> Self {
        let mine = p.client_id == viewer;
        let mut r = PaymentResponse::from(p);
        if !mine {
            r.next_action = None;
        }
        r
    }
}

impl From<PaymentRow> for PaymentResponse {
    fn from(p: PaymentRow) -> Self {
        PaymentResponse {
            id: p.id.into(),
            invoice_id: p.invoice_id.into(),
            order_id: p.order_id.into(),
            status: p.status,
            amount: MoneyDto::from_parts(p.amount, &p.currency),
            amount_refunded: AmountDto::from_parts(p.amount_refunded, &p.currency),
            failure_code: p.failure_code,
            next_action: p.next_action,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Validate, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": 5000, "currency": "EUR"}}))]
pub struct RefundRequest {
    /// Absent: all that is left of the payment.
    #[serde(default, deserialize_with = "crate::http::extract::optional_object")]
    pub amount: Option<MoneyDto>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-f100-7c41-9a0e-2f1b7c9d8e61",
    "payment_id": "0193a0a4-f000-7c41-9a0e-2f1b7c9d8e60", "amount": {"amount": 5000, "currency": "EUR"},
    "status": "pending", "reason": "requested", "failure_code": null, "created_at": "2026-11-29T10:00:00Z"}))]
pub struct RefundResponse {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub amount: MoneyDto,
    /// `pending` until the provider confirms, then `succeeded` or `failed`.
    pub status: TransferStatus,
    /// `requested`, `order_cancelled`, `dispute_resolution`, `not_due`.
    pub reason: String,
    pub failure_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<RefundRow> for RefundResponse {
    fn from(r: RefundRow) -> Self {
        RefundResponse {
            id: r.id.into(),
            payment_id: r.payment_id.into(),
            amount: MoneyDto::from_parts(r.amount, &r.currency),
            status: r.status,
            reason: r.reason,
            failure_code: r.failure_code,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"iban": "DE89 3704 0044 0532 0130 00", "account_holder": "Ada Lovelace"}))]
pub struct DestinationRequest {
    /// Spaces allowed; the check digits are verified.
    #[schema(
        min_length = 15,
        max_length = 42,
        pattern = r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]+$"
    )]
    pub iban: String,
    #[schema(schema_with = schemas::legal_name)]
    pub account_holder: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"iban_last4": "3000", "account_holder": "Ada Lovelace", "version": 1,
    "updated_at": "2026-11-29T10:00:00Z"}))]
pub struct DestinationResponse {
    /// Only the last four characters are ever shown again.
    pub iban_last4: String,
    pub account_holder: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<DestinationRow> for DestinationResponse {
    fn from(d: DestinationRow) -> Self {
        DestinationResponse {
            iban_last4: Iban::last4(&d.iban),
            account_holder: d.account_holder,
            version: d.version,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": 13500, "currency": "EUR"}}))]
pub struct PayoutRequest {
    #[serde(deserialize_with = "crate::http::extract::object")]
    pub amount: MoneyDto,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-f200-7c41-9a0e-2f1b7c9d8e62", "amount": {"amount": 13500, "currency": "EUR"},
    "status": "pending", "iban_last4": "3000", "failure_code": null, "created_at": "2026-11-29T10:00:00Z"}))]
pub struct PayoutResponse {
    pub id: Uuid,
    pub amount: MoneyDto,
    /// `pending` until the bank confirms, then `succeeded` or `failed`.
    pub status: TransferStatus,
    pub iban_last4: String,
    pub failure_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<PayoutRow> for PayoutResponse {
    fn from(p: PayoutRow) -> Self {
        PayoutResponse {
            id: p.id.into(),
            amount: MoneyDto::from_parts(p.amount, &p.currency),
            status: p.status,
            iban_last4: p.iban_last4,
            failure_code: p.failure_code,
            created_at: p.created_at,
        }
    }
}

/// One currency's earnings, for a creative.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Earnings {
    /// Held in escrow on your open orders.
    pub pending: AmountDto,
    /// Yours to pay out.
    pub available: AmountDto,
    pub paid_out_this_month: AmountDto,
}

/// One currency's spending, for a client.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Spending {
    /// Paid and held in escrow on your open orders.
    pub in_escrow: AmountDto,
    /// Paid this month (refunds are not taken off).
    pub spent_this_month: AmountDto,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"earnings": [{"pending": {"amount": 15000, "currency": "EUR"},
    "available": {"amount": 13500, "currency": "EUR"}, "paid_out_this_month": {"amount": 0, "currency": "EUR"}}],
    "spending": []}))]
pub struct BalanceResponse {
    /// Per currency, where you have earned anything.
    pub earnings: Vec<Earnings>,
    /// Per currency, where you have paid anything.
    pub spending: Vec<Spending>,
}

impl From<Vec<crate::db::ledger::Figures>> for BalanceResponse {
    fn from(rows: Vec<crate::db::ledger::Figures>) -> Self {
        let m = |a: i64, c: &str| AmountDto::from_parts(a, c);
        let earnings = rows
            .iter()
            .filter(|f| f.pending != 0 || f.available != 0 || f.paid_out_since != 0)
            .map(|f| Earnings {
                pending: m(f.pending, &f.currency),
                available: m(f.available, &f.currency),
                paid_out_this_month: m(f.paid_out_since, &f.currency),
            })
            .collect();
        let spending = rows
            .iter()
            .filter(|f| f.in_escrow_as_client != 0 || f.spent_since != 0)
            .map(|f| Spending {
                in_escrow: m(f.in_escrow_as_client, &f.currency),
                spent_this_month: m(f.spent_since, &f.currency),
            })
            .collect();
        BalanceResponse { earnings, spending }
    }
}
