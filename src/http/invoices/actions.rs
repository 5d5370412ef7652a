//! What the creative does to a draft or a sent invoice: send, void, mark uncollectible, mark paid.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::invoice_ok;
use crate::app;
use crate::app::invoices::Close;
use crate::db;
use crate::domain::billing::terms::PaymentMethod;
use crate::domain::ids::InvoiceId;
use crate::domain::text;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::{invalid_field, ApiError};
use crate::http::extract::{IfMatch, Json, StrictUuid};
use crate::http::orders::viewer;
use crate::http::schemas;
use crate::http::state::AppState;

/// Send a draft to the client: it gets the creative's next number for the year
/// (`INV-2026-0001`, without gaps), both parties' billing details are copied onto it, it is frozen
/// and the client is notified.
///
/// 422 `missing` on `billing_profile` until the creative has set theirs; 422 `not_in_future` on
/// `due_at` if its due date has passed; 422 `exceeds_agreed_amount` if the order's invoices would
/// then come to more than the agreed amount before tax.
#[utoipa::path(post, path = "/v1/invoices/{id}/send", tag = "billing", operation_id = "sendInvoice",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`")),
    responses(
        (status = 200, description = "Sent: now `open`", body = super::InvoiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn send_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let row = app::invoices::send(
        &mut conn,
        viewer(&caller),
        id.into_inner().0,
        if_match.0,
        &clock,
    )
    .await?;
    Ok(invoice_ok(StatusCode::OK, row, &caller, &clock))
}

async fn close(
    state: &AppState,
    caller: &AuthUser,
    id: InvoiceId,
    if_match: IfMatch,
    how: Close<'_>,
) -> Result<HttpResponse, ApiError> {
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let row = app::invoices::close(&mut conn, viewer(caller), id, if_match.0, how).await?;
    Ok(invoice_ok(StatusCode::OK, row, caller, &clock))
}

/// Void an open invoice nothing has been paid on; the client is told nothing is owed on it.
#[utoipa::path(post, path = "/v1/invoices/{id}/void", tag = "billing", operation_id = "voidInvoice",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"2\"`")),
    responses(
        (status = 200, description = "Voided", body = super::InvoiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
    ))]
pub(super) async fn void_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    close(&state, &caller, id.into_inner().0, if_match, Close::Void).await
}

/// Write off an open invoice the client will not pay. It may still be marked paid later.
#[utoipa::path(post, path = "/v1/invoices/{id}/mark-uncollectible", tag = "billing",
    operation_id = "markInvoiceUncollectible",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"2\"`")),
    responses(
        (status = 200, description = "Marked uncollectible", body = super::InvoiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
    ))]
pub(super) async fn mark_invoice_uncollectible(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    close(
        &state,
        &caller,
        id.into_inner().0,
        if_match,
        Close::Uncollectible,
    )
    .await
}

/// How money paid outside the platform arrived.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutOfBandMethod {
    BankTransfer,
    Paypal,
}

impl From<OutOfBandMethod> for PaymentMethod {
    fn from(m: OutOfBandMethod) -> Self {
        match m {
            OutOfBandMethod::BankTransfer => PaymentMethod::BankTransfer,
            OutOfBandMethod::Paypal => PaymentMethod::Paypal,
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "bank_transfer", "reference": "SEPA 2026-11-29 REF 8812"}))]
pub struct MarkPaidRequest {
    /// Card payments go through the platform and are never recorded by hand.
    method: OutOfBandMethod,
    /// The transfer's reference, for both parties' records.
    #[schema(schema_with = schemas::payment_reference)]
    reference: String,
}

/// Record that the client paid an open (or uncollectible) invoice in full outside the platform. It
/// never touches the platform's escrow.
#[utoipa::path(post, path = "/v1/invoices/{id}/mark-paid", tag = "billing", operation_id = "markInvoicePaid",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"2\"`")),
    request_body = MarkPaidRequest,
    responses(
        (status = 200, description = "Paid", body = super::InvoiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn mark_invoice_paid(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    if_match: IfMatch,
    body: Json<MarkPaidRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let reference = text::PAYMENT_REFERENCE
        .parse(&body.reference)
        .map_err(|e| invalid_field("reference", e))?;
    let how = Close::PaidOutOfBand {
        method: body.method.into(),
        reference: &reference,
    };
    close(&state, &caller, id.into_inner().0, if_match, how).await
}
