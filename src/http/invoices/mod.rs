//! Invoices: the order's creative drafts, sends and closes them; both parties read them, as JSON, a
//! printable HTML page or a PDF.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use super::extract::etag;
use crate::db::invoices::InvoiceRow;
use crate::domain::billing::invoice::{InvoiceAction, InvoiceStatus};
use crate::domain::order::Clock;
use crate::http::auth_user::AuthUser;

mod actions;
mod documents;
mod dto;
mod read;
mod write;

pub use dto::*;

#[derive(OpenApi)]
#[openapi(
    paths(
        write::create_invoice,
        read::list_invoices,
        read::get_invoice,
        write::update_invoice,
        write::delete_invoice,
        actions::send_invoice,
        actions::void_invoice,
        actions::mark_invoice_uncollectible,
        actions::mark_invoice_paid,
        documents::get_invoice_pdf,
        documents::get_invoice_html,
        write::get_billing_profile,
        write::put_billing_profile
    ),
    components(schemas(
        write::CreateInvoiceRequest,
        write::UpdateInvoiceRequest,
        actions::MarkPaidRequest,
        actions::OutOfBandMethod,
        LineItemRequest,
        LineItemResponse,
        DiscountDto,
        InvoiceResponse,
        BillingDetailsDto,
        write::BillingProfileResponse,
        InvoiceStatus,
        InvoiceAction
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/invoices")
            .route(web::post().to(write::create_invoice))
            .route(web::get().to(read::list_invoices)),
    )
    .service(
        web::resource("/invoices/{id}")
            .route(web::get().to(read::get_invoice))
            .route(web::patch().to(write::update_invoice))
            .route(web::delete().to(write::delete_invoice)),
    )
    .service(web::resource("/invoices/{id}/send").route(web::post().to(actions::send_invoice)))
    .service(web::resource("/invoices/{id}/void").route(web::post().to(actions::void_invoice)))
    .service(
        web::resource("/invoices/{id}/mark-uncollectible")
            .route(web::post().to(actions::mark_invoice_uncollectible)),
    )
    .service(
        web::resource("/invoices/{id}/mark-paid").route(web::post().to(actions::mark_invoice_paid)),
    )
    .service(web::resource("/invoices/{id}/pdf").route(web::get().to(documents::get_invoice_pdf)))
    .service(web::resource("/invoices/{id}/html").route(web::get().to(documents::get_invoice_html)))
    .service(
        web::resource("/me/billing-profile")
            .route(web::get().to(write::get_billing_profile))
            .route(web::put().to(write::put_billing_profile)),
    );
}

fn invoice_ok(
    status: StatusCode,
    row: InvoiceRow,
    caller: &AuthUser,
    clock: &Clock,
) -> HttpResponse {
    let body = InvoiceResponse::new(row, caller.id, clock.now);
    HttpResponse::build(status)
        .insert_header(etag(body.version))
        .json(body)
}
