//! Paying invoices through the platform, refunds, the caller's balance, payout destinations and
//! payouts, and Stripe's webhook.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use uuid::Uuid;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::{optional_strict_uuid, IdempotencyKey, Json, StrictUuid};
use super::idempotency;
use super::orders::viewer;
use super::pagination::{self, Page};
use super::state::AppState;
use crate::app;
use crate::db;
use crate::domain::ids::{InvoiceId, OrderId, PaymentId};

pub mod dto;
mod payouts;
mod webhook;

use dto::{PayRequest, PaymentResponse, RefundRequest, RefundResponse};

#[derive(OpenApi)]
#[openapi(
    paths(
        pay_invoice,
        confirm_payment,
        get_payment,
        list_payments,
        refund_payment,
        payouts::get_balance,
        payouts::get_payout_destination,
        payouts::put_payout_destination,
        payouts::create_payout,
        payouts::list_payouts,
        webhook::stripe_webhook
    ),
    components(schemas(
        PayRequest,
        PaymentResponse,
        RefundRequest,
        RefundResponse,
        dto::DestinationRequest,
        dto::DestinationResponse,
        dto::PayoutRequest,
        dto::PayoutResponse,
        dto::BalanceResponse,
        dto::Earnings,
        dto::Spending,
        crate::http::money::AmountDto,
        crate::domain::payments::PaymentStatus,
        crate::domain::payments::TransferStatus
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/invoices/{id}/payments").route(web::post().to(pay_invoice)))
        .service(web::resource("/payments").route(web::get().to(list_payments)))
        .service(web::resource("/payments/{id}").route(web::get().to(get_payment)))
        .service(web::resource("/payments/{id}/confirm").route(web::post().to(confirm_payment)))
        .service(web::resource("/payments/{id}/refunds").route(web::post().to(refund_payment)))
        .configure(payouts::routes)
        .configure(webhook::routes);
}

/// A payment method as the providers name them: 1 to 255 visible ASCII characters (or spaces,
/// as test card numbers are written).
fn payment_method(raw: &str) -> Result<(), crate::domain::Invalid> {
    let ok = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| (b' '..=b'~').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(crate::domain::Invalid::new(
            "invalid_payment_method",
            "must be a provider token or a test card number: 1 to 255 visible ASCII characters",
        ))
    }
}

/// A required `Idempotency-Key` (400 without one).
pub(crate) fn required_key(key: &IdempotencyKey) -> Result<String, ApiError> {
    key.0.clone().ok_or_else(|| {
        ApiError::bad_request(
            "idempotency_key_required",
            "This request moves money: send an Idempotency-Key header (any 1 to 255 visible ASCII characters), and the same one on a retry.",
        )
    })
}

/// Pay an invoice you received, by card through the platform (the client only).
///
/// `Idempotency-Key` is required: the same key and body replay the first answer (status included)
/// and never charge twice; the same key while the first request runs is 409; with another body,
/// 422 `key_reused`; keys are kept 24 h. The money is held in escrow until the order completes,
/// then released to the creative less the platform fee. `status` is `succeeded`, `failed` (with
/// `failure_code`), `pending` (settles shortly; you are notified), or `requires_action` (follow
/// `next_action`, then `POST /v1/payments/{id}/confirm`). An amount past what is due (payments in
/// progress included) is 422 `amount_exceeds_due`; a part of it, 422 `partial_not_allowed` unless
/// the accepted terms are in milestones.
#[utoipa::path(post, path = "/v1/invoices/{id}/payments", tag = "payments", operation_id = "payInvoice",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = PayRequest,
    responses(
        (status = 201, description = "The payment, as the provider left it", body = PaymentResponse, headers(("Location" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn pay_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    key: IdempotencyKey,
    body: Json<PayRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let body = body.0;
    let key_value = required_key(&key)?;
    let mut errors = FieldErrors::new();
    let amount = body
        .amount
        .as_ref()
        .and_then(|m| m.parse_price("amount", &mut errors));
    errors.check("payment_method", payment_method(&body.payment_method));
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    let route = format!("POST /v1/invoices/{id}/payments");
    let claim = match idempotency::begin(&mut conn, &caller, &key, &route, &body).await? {
        idempotency::Begin::Replay(response) => return Ok(response),
        idempotency::Begin::Proceed(claim) => claim,
    };
    let request = app::payments::PayRequest {
        amount,
        method: body.payment_method.clone(),
        key: key_value,
    };
    let result = pay(&mut conn, &state, &caller, id, &request, claim.as_ref()).await;
    if let Some(claim) = &claim {
        idempotency::settle(&mut conn, claim, &result).await;
    }
    result
}

async fn pay(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    caller: &AuthUser,
    invoice: InvoiceId,
    request: &app::payments::PayRequest,
    claim: Option<&idempotency::Claim>,
) -> Result<HttpResponse, ApiError> {
    use crate::provider::PaymentProvider;
    let provider = &state.provider;
    let opened =
        app::payments::open(conn, viewer(caller), invoice, request, provider.name()).await?;
    let fee = state.settings.orders.platform_fee_bps;
    let payment = app::payments::charge(conn, provider, opened, &request.method, fee).await?;
    let response = PaymentResponse::from(payment);
    let location = format!("/v1/payments/{}", response.id);
    if let Some(claim) = claim {
        let headers = [(header::LOCATION, location.clone())];
        conn.transaction::<_, ApiError, _>(async |conn| {
            idempotency::complete(conn, claim, StatusCode::CREATED, &headers, &response).await
        })
        .await?;
    }
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(response))
}

/// Confirm a payment that required your action (3-D Secure), once you took it (its client only).
/// 409 `nothing_to_confirm` for a payment in any other state.
#[utoipa::path(post, path = "/v1/payments/{id}/confirm", tag = "payments", operation_id = "confirmPayment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment after confirmation", body = PaymentResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
async fn confirm_payment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<PaymentId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let fee = state.settings.orders.platform_fee_bps;
    let row = app::payments::confirm(
        &mut conn,
        &state.provider,
        viewer(&caller),
        id.into_inner().0,
        fee,
    )
    .await?;
    Ok(HttpResponse::Ok().json(PaymentResponse::from(row)))
}

/// A payment: seen by its client, the creative paid, and admins.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", operation_id = "getPayment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment", body = PaymentResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_payment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<PaymentId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = app::payments::visible(&mut conn, viewer(&caller), id.into_inner().0).await?;
    Ok(HttpResponse::Ok().json(PaymentResponse::seen_by(row, caller.id)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentsQuery {
    /// Only this invoice's payments.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    invoice_id: Option<Uuid>,
    /// Only this order's payments.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    order_id: Option<Uuid>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters).
    cursor: Option<String>,
}

/// Payments you made or received, newest first (admins: everyone's), by invoice or order.
#[utoipa::path(get, path = "/v1/payments", tag = "payments", operation_id = "listPayments",
    security(("bearer" = [])),
    params(PaymentsQuery),
    responses(
        (status = 200, description = "A page of payments", body = Page<PaymentResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_payments(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<PaymentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode_opt::<pagination::IdCursor>(q.cursor.as_deref())?
        .map(|c| PaymentId::from_uuid(c.i));
    let filter = db::payments::Filter {
        party: (!caller.is_admin).then_some(caller.id),
        invoice: q.invoice_id.map(InvoiceId::from_uuid),
        order: q.order_id.map(OrderId::from_uuid),
    };
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::payments::list(&mut conn, filter, before, limit + 1).await?;
    let (rows, next_cursor) =
        pagination::page(rows, limit, |p| pagination::IdCursor { i: p.id.into() });
    Ok(HttpResponse::Ok().json(Page {
        data: rows
            .into_iter()
            .map(PaymentResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

/// Refund part or all of a payment while the order is open (the creative paid, or an admin). The
/// money leaves escrow at once and reaches the client's card when the provider confirms. 422
/// `exceeds_refundable` or `exceeds_escrow`; 409 `order_closed` once the order is settled.
/// Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", operation_id = "refundPayment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = RefundRequest,
    responses(
        (status = 201, description = "Requested", body = RefundResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn refund_payment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<PaymentId>>,
    key: IdempotencyKey,
    body: Json<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let body = body.0;
    let mut errors = FieldErrors::new();
    let amount = body
        .amount
        .as_ref()
        .and_then(|m| m.parse_price("amount", &mut errors));
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    let route = format!("POST /v1/payments/{id}/refunds");
    let refund = async |conn: &mut AsyncPgConnection| {
        let row = app::refunds::request(conn, viewer(&caller), id, amount).await?;
        Ok(RefundResponse::from(row))
    };
    idempotency::created(&mut conn, &caller, &key, &route, &body, refund).await
}
