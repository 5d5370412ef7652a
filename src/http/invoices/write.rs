//! Drafting invoices, and the caller's billing details.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{invoice_ok, BillingDetailsDto, DiscountDto, DraftRequest, LineItemRequest};
use crate::app;
use crate::db::{self, billing};
use crate::domain::billing::totals::MAX_LINES;
use crate::domain::ids::{InvoiceId, OrderId};
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{etag, nullable, optional_integer, IfMatch, Json, StrictUuid};
use crate::http::orders::viewer;
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03",
    "line_items": [{"description": "Album cover", "quantity": 1, "unit_amount": 12000}],
    "tax_rate_bps": 1900, "due_at": "2026-12-20T12:00:00Z", "memo": "Thank you!"}))]
pub struct CreateInvoiceRequest {
    /// One of the caller's orders as its creative; the invoice is in its currency.
    #[schema(value_type = Uuid)]
    order_id: StrictUuid<OrderId>,
    #[schema(min_items = 1, max_items = 100)]
    line_items: Vec<LineItemRequest>,
    /// Tax in basis points (1900 = 19 %), 0 to 10 000; default 0.
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(default, deserialize_with = "optional_integer")]
    tax_rate_bps: Option<i64>,
    discount: Option<DiscountDto>,
    /// In the future, within three years; null: due on receipt.
    due_at: Option<DateTime<Utc>>,
    #[schema(schema_with = schemas::memo_or_null)]
    memo: Option<String>,
}

/// Fields left out keep their value; `null` clears `discount`, `due_at` and `memo`.
#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"line_items": [{"description": "Album cover, two variants", "quantity": 2, "unit_amount": 20000}],
    "discount": {"amount_off": 5000}}))]
pub struct UpdateInvoiceRequest {
    #[schema(min_items = 1, max_items = 100)]
    line_items: Option<Vec<LineItemRequest>>,
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(default, deserialize_with = "optional_integer")]
    tax_rate_bps: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DiscountDto>)]
    discount: Option<Option<DiscountDto>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    due_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::memo_or_null)]
    memo: Option<Option<String>>,
}

fn too_many_lines(n: usize) -> Result<(), ApiError> {
    if n > MAX_LINES {
        return Err(ApiError::validation(
            "line_items",
            "line_count",
            format!("an invoice has 1 to {MAX_LINES} lines"),
        ));
    }
    Ok(())
}

/// Draft an invoice for one of the caller's orders (its creative only).
///
/// All totals are computed here in integer minor units. The order's sent invoices and this one may
/// come to at most the accepted terms' amount before tax (the order's price while none are
/// accepted): 422 `exceeds_agreed_amount` beyond. An `order_id` the caller cannot see is 422
/// `unknown_order`, one they are the client of 422 `not_the_creative`. A draft is seen only by
/// its creative (and admins) until sent. Each user drafts at most `INVOICES_PER_USER_PER_HOUR` (100) an hour.
#[utoipa::path(post, path = "/v1/invoices", tag = "billing", operation_id = "createInvoice",
    security(("bearer" = [])),
    request_body = CreateInvoiceRequest,
    responses(
        (status = 201, description = "Drafted", body = super::InvoiceResponse,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
                (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
pub(super) async fn create_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateInvoiceRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    too_many_lines(body.line_items.len())?;
    let clock = state.clock();
    let content = DraftRequest {
        lines: body.line_items,
        discount: body.discount,
        tax_rate_bps: body.tax_rate_bps.unwrap_or(0),
        due_at: body.due_at,
        due_at_is_new: true,
        memo: body.memo,
    }
    .parse(clock.now)?;
    state.creation_limits.invoices.check(&caller.id)?;
    let mut conn = db::connection(&state.pool).await?;
    let order = body.order_id.0;
    let row = app::invoices::create(&mut conn, viewer(&caller), order, &content).await?;
    let location = format!("/v1/invoices/{}", row.id);
    let mut res = invoice_ok(StatusCode::CREATED, row, &caller, &clock);
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(anyhow::Error::from)?,
    );
    Ok(res)
}

/// Edit a draft (its creative only); a sent invoice is frozen (409 `invoice_frozen`).
#[utoipa::path(patch, path = "/v1/invoices/{id}", tag = "billing", operation_id = "updateInvoice",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`")),
    request_body = UpdateInvoiceRequest,
    responses(
        (status = 200, description = "Updated", body = super::InvoiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn update_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    if_match: IfMatch,
    body: Json<UpdateInvoiceRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    too_many_lines(body.line_items.as_ref().map_or(0, Vec::len))?;
    let clock = state.clock();
    let now = clock.now;
    check_fields_sent(&body, now)?;
    let mut conn = db::connection(&state.pool).await?;
    let edit = move |row: &crate::db::invoices::InvoiceRow| {
        let lines = body.line_items.unwrap_or_else(|| {
            row.lines()
                .into_iter()
                .map(|l| LineItemRequest {
                    description: l.description,
                    quantity: l.quantity,
                    unit_amount: l.unit_amount,
                })
                .collect()
        });
        let current_discount = row.discount().map(DiscountDto::from);
        DraftRequest {
            lines,
            discount: body.discount.unwrap_or(current_discount),
            tax_rate_bps: body.tax_rate_bps.unwrap_or(row.tax_rate_bps.into()),
            due_at_is_new: body.due_at.is_some(),
            due_at: body.due_at.unwrap_or(row.due_at),
            memo: body.memo.unwrap_or_else(|| row.memo.clone()),
        }
        .parse(now)
    };
    let row = app::invoices::update(
        &mut conn,
        viewer(&caller),
        id.into_inner().0,
        if_match.0,
        edit,
    )
    .await?;
    Ok(invoice_ok(StatusCode::OK, row, &caller, &clock))
}

/// The fields sent, checked on their own before the draft is read (so a bad field is a 422 whatever
/// the draft's version); what depends on the draft (totals with its other fields) is checked with it.
fn check_fields_sent(body: &UpdateInvoiceRequest, now: DateTime<Utc>) -> Result<(), ApiError> {
    let default_lines = [LineItemRequest {
        description: "-".into(),
        quantity: 1,
        unit_amount: 1,
    }];
    let lines = body.line_items.as_deref().unwrap_or(&default_lines);
    DraftRequest {
        lines: lines.to_vec(),
        discount: body.discount.clone().flatten().filter(|_| false),
        tax_rate_bps: body.tax_rate_bps.unwrap_or(0),
        due_at: body.due_at.flatten(),
        due_at_is_new: true,
        memo: body.memo.clone().flatten(),
    }
    .parse(now)?;
    if let Some(Some(discount)) = &body.discount {
        let mut errors = FieldErrors::new();
        discount.parse(&mut errors);
        errors.into_result()?;
    }
    Ok(())
}

/// Delete a draft (its creative only); a sent invoice is voided instead.
#[utoipa::path(delete, path = "/v1/invoices/{id}", tag = "billing", operation_id = "deleteInvoice",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
    ))]
pub(super) async fn delete_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    app::invoices::delete(&mut conn, viewer(&caller), id.into_inner().0, if_match.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's billing details, with their version and when they last changed.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"legal_name": "Ada Studio Ltd", "address_lines": ["1 Main Street", "London N1 1AA"],
    "country": "GB", "tax_id": "GB123456789", "version": 2, "updated_at": "2026-11-29T10:00:00Z"}))]
pub struct BillingProfileResponse {
    pub legal_name: String,
    pub address_lines: Vec<String>,
    pub country: String,
    pub tax_id: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

fn profile_ok(row: &billing::BillingProfileRow) -> HttpResponse {
    let body = BillingProfileResponse {
        legal_name: row.legal_name.clone(),
        address_lines: row.address_lines.clone(),
        country: row.country.clone(),
        tax_id: row.tax_id.clone(),
        version: row.version,
        updated_at: row.updated_at,
    };
    HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(body)
}

/// The caller's billing details, as their invoices print them; 404 until set.
#[utoipa::path(get, path = "/v1/me/billing-profile", tag = "billing", operation_id = "getBillingProfile",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The billing details", body = BillingProfileResponse, headers(("ETag" = String))),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn get_billing_profile(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = billing::profile(&mut conn, caller.id)
        .await?
        .ok_or(ApiError::NotFound("billing profile"))?;
    Ok(profile_ok(&row))
}

/// Set the caller's billing details (legal name, address, country, tax id). Invoices copy them when
/// sent, so a change never alters an invoice already issued; a creative needs them to send one.
#[utoipa::path(put, path = "/v1/me/billing-profile", tag = "billing", operation_id = "putBillingProfile",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`")),
    request_body = BillingDetailsDto,
    responses(
        (status = 200, description = "Saved", body = BillingProfileResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn put_billing_profile(
    state: web::Data<AppState>,
    caller: AuthUser,
    if_match: IfMatch,
    body: Json<BillingDetailsDto>,
) -> Result<HttpResponse, ApiError> {
    let details = body.0.parse()?;
    let mut conn = db::connection(&state.pool).await?;
    let row = app::billing::put_profile(&mut conn, caller.id, &details, if_match.0).await?;
    Ok(profile_ok(&row))
}
