//! The caller's balance, where they are paid, and their payouts.

use actix_web::{web, HttpResponse};
use chrono::Utc;

use super::dto::{
    BalanceResponse, DestinationRequest, DestinationResponse, PayoutRequest, PayoutResponse,
};
use super::required_key;
use crate::app;
use crate::db;
use crate::domain::ids::PayoutId;
use crate::domain::payments::iban::Iban;
use crate::domain::text;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{IdempotencyKey, IfMatch, Json};
use crate::http::idempotency;
use crate::http::pagination::{self, Page};
use crate::http::reviews::PageQuery;
use crate::http::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/balance").route(web::get().to(get_balance)))
        .service(
            web::resource("/me/payout-destination")
                .route(web::get().to(get_payout_destination))
                .route(web::put().to(put_payout_destination)),
        )
        .service(
            web::resource("/payouts")
                .route(web::post().to(create_payout))
                .route(web::get().to(list_payouts)),
        );
}

/// Your money per currency, from the ledger: as a creative, what escrow holds on your open orders
/// (`pending`), what you may pay out (`available`) and what you were paid out this month; as a
/// client, what you have in escrow and what you paid this month.
#[utoipa::path(get, path = "/v1/balance", tag = "payments", operation_id = "getBalance",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your balances", body = BalanceResponse),
        (status = 401, response = docs::Unauthorized),
    ))]
pub(super) async fn get_balance(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let since = app::dashboard::month_start(Utc::now());
    let figures = db::ledger::figures(&mut conn, caller.id, since).await?;
    Ok(HttpResponse::Ok().json(BalanceResponse::from(figures)))
}

/// Where your payouts go (404 until you set it). The IBAN is shown only as its last four.
#[utoipa::path(get, path = "/v1/me/payout-destination", tag = "payments", operation_id = "getPayoutDestination",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your payout destination", body = DestinationResponse, headers(("ETag" = String))),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn get_payout_destination(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = db::payouts::destination(&mut conn, caller.id)
        .await?
        .ok_or(ApiError::NotFound("payout destination"))?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::extract::etag(row.version))
        .json(DestinationResponse::from(row)))
}

/// Set where your payouts go: an IBAN (its check digits verified) and the account holder's name.
/// `If-Match` with the version read (`"0"`: only if none is set yet) guards against a concurrent
/// change.
#[utoipa::path(put, path = "/v1/me/payout-destination", tag = "payments", operation_id = "putPayoutDestination",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`; `\"0\"` when none is set")),
    request_body = DestinationRequest,
    responses(
        (status = 200, description = "Set", body = DestinationResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn put_payout_destination(
    state: web::Data<AppState>,
    caller: AuthUser,
    if_match: IfMatch,
    body: Json<DestinationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let iban = errors.check("iban", Iban::parse(&body.iban));
    let holder = errors.check(
        "account_holder",
        text::LEGAL_NAME.parse(&body.account_holder),
    );
    errors.into_result()?;
    let (Some(iban), Some(holder)) = (iban, holder) else {
        return Err(anyhow::anyhow!("a parsed destination lost a field").into());
    };
    let mut conn = db::connection(&state.pool).await?;
    let row =
        app::payouts::put_destination(&mut conn, caller.id, &iban, &holder, if_match.0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::extract::etag(row.version))
        .json(DestinationResponse::from(row)))
}

/// Pay out part of your available balance to your payout destination (`Idempotency-Key`
/// required: one payout per key). The amount leaves your available balance at once; more than is
/// available is 422 `insufficient_balance`, however many requests race. Without a destination,
/// 422 `payout_destination_required`.
#[utoipa::path(post, path = "/v1/payouts", tag = "payments", operation_id = "createPayout",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = PayoutRequest,
    responses(
        (status = 201, description = "Requested; the worker sends it", body = PayoutResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn create_payout(
    state: web::Data<AppState>,
    caller: AuthUser,
    key: IdempotencyKey,
    body: Json<PayoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let key_value = required_key(&key)?;
    let mut errors = FieldErrors::new();
    let amount = body.amount.parse_price("amount", &mut errors);
    errors.into_result()?;
    let Some(amount) = amount else {
        return Err(anyhow::anyhow!("a parsed payout lost its amount").into());
    };
    let mut conn = db::connection(&state.pool).await?;
    let payout = async |conn: &mut diesel_async::AsyncPgConnection| {
        let row = app::payouts::request(conn, caller.id, amount, &key_value).await?;
        Ok(PayoutResponse::from(row))
    };
    idempotency::created(&mut conn, &caller, &key, "POST /v1/payouts", &body, payout).await
}

/// Your payouts, newest first.
#[utoipa::path(get, path = "/v1/payouts", tag = "payments", operation_id = "listPayouts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of payouts", body = Page<PayoutResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn list_payouts(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode_opt::<pagination::IdCursor>(q.cursor.as_deref())?
        .map(|c| PayoutId::from_uuid(c.i));
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::payouts::list(&mut conn, caller.id, before, limit + 1).await?;
    let (rows, next_cursor) =
        pagination::page(rows, limit, |p| pagination::IdCursor { i: p.id.into() });
    Ok(HttpResponse::Ok().json(Page {
        data: rows
            .into_iter()
            .map(PayoutResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}
