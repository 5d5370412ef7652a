//! The wire shapes of invoices and billing details, and their conversions. Amounts inside an invoice
//! are integers in the invoice's `currency` (as Stripe's are): its currency is fixed, the order's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::invoices::{DraftContent, InvoiceRow};
use crate::domain::billing::invoice::{self as machine, InvoiceAction, InvoiceStatus};
use crate::domain::billing::profile::BillingDetails;
use crate::domain::billing::terms::PaymentMethod;
use crate::domain::billing::totals::{self, Discount, LineItem};
use crate::domain::text;
use crate::http::error::{invalid_fields, ApiError, FieldError, FieldErrors};
use crate::http::extract::integer;

/// An integer that may be left out but, as the document says, is never `null`.
fn some_integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    integer(d).map(Some)
}
use crate::http::schemas;

#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineItemRequest {
    #[schema(schema_with = schemas::line_description)]
    pub description: String,
    /// Whole units, 1 to 1 000 000 000.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[serde(deserialize_with = "integer")]
    pub quantity: i64,
    /// Price of one unit in minor units of the invoice's currency, 0 to 100 000 000 000.
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "integer")]
    pub unit_amount: i64,
}

/// Exactly one of `amount_off` (minor units, at most the subtotal) and `percent_off_bps` (basis
/// points, 1 to 10 000), taken off the subtotal before tax.
#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"percent_off_bps": 1000}))]
pub struct DiscountDto {
    #[schema(minimum = 1)]
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount_off: Option<i64>,
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(
        default,
        deserialize_with = "some_integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent_off_bps: Option<i64>,
}

impl DiscountDto {
    pub fn parse(&self, errors: &mut FieldErrors) -> Option<Discount> {
        let bounds = [
            ("discount.amount_off", self.amount_off, totals::MAX_AMOUNT),
            (
                "discount.percent_off_bps",
                self.percent_off_bps,
                totals::MAX_BPS,
            ),
        ];
        for (field, value, max) in bounds {
            if value.is_some_and(|v| !(1..=max).contains(&v)) {
                let message = format!("must be from 1 to {max}");
                errors.push(FieldError::new(field, "out_of_range", message));
                return None;
            }
        }
        match (self.amount_off, self.percent_off_bps) {
            (Some(a), None) => Some(Discount::AmountOff(a)),
            (None, Some(p)) => Some(Discount::PercentOffBps(p)),
            _ => {
                errors.push(FieldError::new(
                    "discount",
                    "exactly_one",
                    "give either `amount_off` or `percent_off_bps`",
                ));
                None
            }
        }
    }
}

impl From<Discount> for DiscountDto {
    fn from(d: Discount) -> Self {
        match d {
            Discount::AmountOff(a) => DiscountDto {
                amount_off: Some(a),
                percent_off_bps: None,
            },
            Discount::PercentOffBps(p) => DiscountDto {
                amount_off: None,
                percent_off_bps: Some(p),
            },
        }
    }
}

/// What a draft holds as requested, before checking.
pub struct DraftRequest {
    pub lines: Vec<LineItemRequest>,
    pub discount: Option<DiscountDto>,
    pub tax_rate_bps: i64,
    pub due_at: Option<DateTime<Utc>>,
    /// A due date kept from the draft is not checked again here (sending checks it): only a new one
    /// must be in the future.
    pub due_at_is_new: bool,
    pub memo: Option<String>,
}

impl DraftRequest {
    /// Checks every field and adds the invoice up; one 422 lists what is wrong.
    pub fn parse(self, now: DateTime<Utc>) -> Result<DraftContent, ApiError> {
        let mut errors = FieldErrors::new();
        let discount = self.discount.and_then(|d| d.parse(&mut errors));
        let due_at = match (self.due_at, self.due_at_is_new) {
            (Some(d), true) => errors.check("due_at", crate::app::orders::parse_due_at(d, now)),
            (kept, _) => kept,
        };
        let memo = self
            .memo
            .and_then(|m| errors.check("memo", text::MEMO.parse(&m)))
            .filter(|m| !m.is_empty());
        errors.into_result()?;
        let lines: Vec<LineItem> = self
            .lines
            .into_iter()
            .map(|l| LineItem {
                description: l.description,
                quantity: l.quantity,
                unit_amount: l.unit_amount,
            })
            .collect();
        let lines = totals::parse_lines(&lines).map_err(invalid_fields)?;
        let totals =
            totals::compute(&lines, discount, self.tax_rate_bps).map_err(invalid_fields)?;
        Ok(DraftContent {
            lines,
            discount,
            tax_rate_bps: self.tax_rate_bps,
            totals,
            due_at,
            memo,
        })
    }
}

#[derive(Clone, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"legal_name": "Ada Studio Ltd", "address_lines": ["1 Main Street", "London N1 1AA"],
    "country": "GB", "tax_id": "GB123456789"}))]
pub struct BillingDetailsDto {
    #[schema(schema_with = schemas::legal_name)]
    pub legal_name: String,
    /// 1 to 5 lines.
    #[schema(min_items = 1, max_items = 5, schema_with = schemas::address_lines)]
    pub address_lines: Vec<String>,
    /// ISO 3166-1 alpha-2 code, upper case.
    #[schema(schema_with = schemas::country)]
    pub country: String,
    /// VAT number or other tax id.
    #[serde(default)]
    #[schema(schema_with = schemas::tax_id_or_null)]
    pub tax_id: Option<String>,
}

impl BillingDetailsDto {
    pub fn parse(&self) -> Result<BillingDetails, ApiError> {
        BillingDetails::parse(
            &self.legal_name,
            &self.address_lines,
            &self.country,
            self.tax_id.as_deref(),
        )
        .map_err(invalid_fields)
    }
}

impl From<BillingDetails> for BillingDetailsDto {
    fn from(d: BillingDetails) -> Self {
        BillingDetailsDto {
            legal_name: d.legal_name,
            address_lines: d.address_lines,
            country: d.country,
            tax_id: d.tax_id,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LineItemResponse {
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    /// `quantity × unit_amount`.
    pub amount: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-b000-7c41-9a0e-2f1b7c9d8e20", "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03",
    "number": "INV-2026-0001", "status": "open", "currency": "EUR",
    "issuer_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "recipient_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09",
    "line_items": [{"description": "Album cover", "quantity": 1, "unit_amount": 40000, "amount": 40000}],
    "subtotal": 40000, "discount": null, "discount_amount": 0, "tax_rate_bps": 1900, "tax_amount": 7600,
    "total": 47600, "amount_paid": 0, "amount_due": 47600, "due_at": "2026-12-20T12:00:00Z", "overdue": false,
    "memo": null, "issuer_billing": {"legal_name": "Ada Studio Ltd", "address_lines": ["1 Main Street"], "country": "GB", "tax_id": null},
    "recipient_billing": null, "paid_out_of_band": false, "payment_method": null, "payment_reference": null,
    "allowed_actions": ["void", "mark_uncollectible", "mark_paid"], "version": 2,
    "sent_at": "2026-11-29T10:00:00Z", "paid_at": null, "voided_at": null, "marked_uncollectible_at": null,
    "created_at": "2026-11-29T09:00:00Z", "updated_at": "2026-11-29T10:00:00Z"}))]
pub struct InvoiceResponse {
    pub id: Uuid,
    pub order_id: Uuid,
    /// `INV-<year>-<nnnn>`, given when sent; null on a draft.
    pub number: Option<String>,
    pub status: InvoiceStatus,
    /// The order's currency; every amount below is in its minor units.
    pub currency: String,
    /// The creative.
    pub issuer_id: Uuid,
    /// The client.
    pub recipient_id: Uuid,
    pub line_items: Vec<LineItemResponse>,
    pub subtotal: i64,
    pub discount: Option<DiscountDto>,
    pub discount_amount: i64,
    pub tax_rate_bps: i64,
    /// Rounded half to even, once, on the subtotal after discount.
    pub tax_amount: i64,
    pub total: i64,
    pub amount_paid: i64,
    /// `total - amount_paid`; 0 once voided.
    pub amount_due: i64,
    pub due_at: Option<DateTime<Utc>>,
    /// Open and past its due date.
    pub overdue: bool,
    pub memo: Option<String>,
    /// Both parties' billing details as they were when the invoice was sent; null on a draft.
    pub issuer_billing: Option<BillingDetailsDto>,
    pub recipient_billing: Option<BillingDetailsDto>,
    /// Paid outside the platform, as recorded by the creative.
    pub paid_out_of_band: bool,
    pub payment_method: Option<PaymentMethod>,
    pub payment_reference: Option<String>,
    /// What the caller may do now (only the issuer acts on an invoice).
    pub allowed_actions: Vec<InvoiceAction>,
    pub version: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub marked_uncollectible_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InvoiceResponse {
    pub fn new(row: InvoiceRow, caller: crate::domain::ids::UserId, now: DateTime<Utc>) -> Self {
        let allowed_actions = if row.issuer_id == caller {
            machine::allowed_actions(row.status, row.amount_paid)
        } else {
            Vec::new()
        };
        let line_items = row
            .lines()
            .into_iter()
            .map(|l| LineItemResponse {
                amount: l.quantity.saturating_mul(l.unit_amount),
                description: l.description,
                quantity: l.quantity,
                unit_amount: l.unit_amount,
            })
            .collect();
        let amount_due = row.amount_due();
        InvoiceResponse {
            id: row.id.into(),
            order_id: row.order_id.into(),
            overdue: row.is_overdue(now),
            discount: row.discount().map(DiscountDto::from),
            issuer_billing: InvoiceRow::billing(&row.issuer_billing).map(Into::into),
            recipient_billing: InvoiceRow::billing(&row.recipient_billing).map(Into::into),
            number: row.number,
            status: row.status,
            currency: row.currency,
            issuer_id: row.issuer_id.into(),
            recipient_id: row.recipient_id.into(),
            line_items,
            subtotal: row.subtotal,
            discount_amount: row.discount_amount,
            tax_rate_bps: row.tax_rate_bps.into(),
            tax_amount: row.tax_amount,
            total: row.total,
            amount_paid: row.amount_paid,
            amount_due,
            due_at: row.due_at,
            memo: row.memo,
            paid_out_of_band: row.paid_out_of_band,
            payment_method: row.payment_method,
            payment_reference: row.payment_reference,
            allowed_actions,
            version: row.version,
            sent_at: row.sent_at,
            paid_at: row.paid_at,
            voided_at: row.voided_at,
            marked_uncollectible_at: row.marked_uncollectible_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
