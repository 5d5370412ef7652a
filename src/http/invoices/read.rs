//! Reading invoices: one, or the caller's list.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{invoice_ok, InvoiceResponse};
use crate::app;
use crate::db::{self, invoices};
use crate::domain::billing::invoice::InvoiceStatus;
use crate::domain::ids::{InvoiceId, OrderId};
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::StrictUuid;
use crate::http::orders::viewer;
use crate::http::pagination::{self, Page};
use crate::http::state::AppState;

/// One invoice, for its creative, its client (once sent) or an admin.
#[utoipa::path(get, path = "/v1/invoices/{id}", tag = "billing", operation_id = "getInvoice",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The invoice", body = InvoiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn get_invoice(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
) -> Result<HttpResponse, ApiError> {
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let row = app::invoices::visible(&mut conn, id.into_inner().0, viewer(&caller)).await?;
    Ok(invoice_ok(StatusCode::OK, row, &caller, &clock))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// One status or several, comma-separated: `status=open,uncollectible`.
    #[param(value_type = Option<Vec<InvoiceStatus>>, style = Form, explode = false, min_items = 1, max_items = 5)]
    status: Option<String>,
    /// Only the invoices of this order.
    #[param(value_type = Option<Uuid>)]
    order_id: Option<StrictUuid<OrderId>>,
    /// `true`: only open invoices past their due date; `false`: only the others.
    overdue: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters).
    cursor: Option<String>,
}

fn status_filter(raw: Option<&str>) -> Result<Vec<InvoiceStatus>, ApiError> {
    let max = InvoiceStatus::ALL.len();
    super::super::pagination::name_list(raw, "status", max, InvoiceStatus::parse)
}

/// The caller's invoices, newest first: those they issued (drafts included) and those sent to
/// them. Admins see their own here too.
#[utoipa::path(get, path = "/v1/invoices", tag = "billing", operation_id = "listInvoices",
    security(("bearer" = [])),
    params(InvoiceQuery),
    responses(
        (status = 200, description = "A page of invoices", body = Page<InvoiceResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn list_invoices(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<InvoiceQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let status = status_filter(q.status.as_deref())?;
    let cursor: Option<pagination::IdCursor> = pagination::decode_opt(q.cursor.as_deref())?;
    let filter = invoices::InvoiceFilter {
        status,
        order_id: q.order_id.map(|o| o.0),
        overdue: q.overdue,
        before: cursor.map(|c| InvoiceId::from_uuid(c.i)),
        limit,
    };
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let rows = invoices::list_for(&mut conn, caller.id, &filter, clock.now).await?;
    let (rows, next_cursor) =
        pagination::page(rows, limit, |r| pagination::IdCursor { i: r.id.into() });
    let data = rows
        .into_iter()
        .map(|r| InvoiceResponse::new(r, caller.id, clock.now))
        .collect();
    Ok(HttpResponse::Ok().json(Page { data, next_cursor }))
}
