//! The invoice as a PDF and as a printable HTML page: two renderers of one view model.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::app;
use crate::db;
use crate::documents;
use crate::domain::ids::InvoiceId;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::StrictUuid;
use crate::http::orders::viewer;
use crate::http::state::AppState;

/// How long a PDF request waits for a free core before it is refused with 503.
const RENDER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The invoice as a printable PDF (A4): issuer and recipient, number, dates, lines, totals and
/// payment status.
#[utoipa::path(get, path = "/v1/invoices/{id}/pdf", tag = "billing", operation_id = "getInvoicePdf",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
pub(super) async fn get_invoice_pdf(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let doc = app::invoices::printable(&mut conn, viewer(&caller), id).await?;
    drop(conn);
    // Drawing and subsetting the font is CPU work: off the async workers, one per core at most,
    // so a burst of PDFs cannot starve every other request; past a short wait, 503.
    let busy = ApiError::Busy {
        retry_after_secs: RENDER_WAIT.as_secs(),
    };
    let _slot = tokio::time::timeout(RENDER_WAIT, state.renders.acquire())
        .await
        .map_err(|_| busy)?
        .map_err(anyhow::Error::from)?;
    let pdf = web::block(move || documents::invoice_pdf(&doc))
        .await
        .map_err(anyhow::Error::from)??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"invoice-{id}.pdf\""),
        ))
        .body(pdf))
}

/// The same invoice as a printable HTML page (the PDF's text, for browsers).
#[utoipa::path(get, path = "/v1/invoices/{id}/html", tag = "billing", operation_id = "getInvoiceHtml",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn get_invoice_html(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<InvoiceId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let doc = app::invoices::printable(&mut conn, viewer(&caller), id.into_inner().0).await?;
    let html = documents::invoice_html(&doc)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Nothing on the page runs or loads: the styles are inline, the values escaped.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(html))
}
