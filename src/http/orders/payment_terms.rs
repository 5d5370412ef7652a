//! Payment terms on an order: proposed by either party, accepted by the other at the version read.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::viewer;
use crate::app;
use crate::db::{self, billing::TermsRow};
use crate::domain::billing::terms::{
    MilestoneDraft, PaymentMethod, Schedule, Terms, MAX_MILESTONES,
};
use crate::domain::ids::OrderId;
use crate::domain::order::ActorRole;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::{invalid_fields, ApiError, FieldError, FieldErrors};
use crate::http::extract::{etag, IfMatch, Json, RequiredIfMatch, StrictUuid};
use crate::http::money::MoneyDto;
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(get_payment_terms, propose_payment_terms, accept_payment_terms),
    components(schemas(
        ProposeTermsRequest,
        MilestoneDto,
        PaymentTermsResponse,
        TermsProposal,
        ProposalStatus,
        PaymentMethod,
        Schedule
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders/{id}/payment-terms")
            .route(web::get().to(get_payment_terms))
            .route(web::put().to(propose_payment_terms)),
    )
    .service(
        web::resource("/orders/{id}/payment-terms/accept")
            .route(web::post().to(accept_payment_terms)),
    );
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneDto {
    #[schema(schema_with = schemas::title)]
    title: String,
    /// In the terms' currency.
    amount: MoneyDto,
    /// By the terms' `due_at`.
    due_at: DateTime<Utc>,
}

/// `milestones` exactly when `schedule` is `milestones`: 1 to 20 of them, adding up to `amount`.
#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": 40000, "currency": "EUR"}, "method": "card",
    "due_at": "2026-12-20T12:00:00Z", "schedule": "milestones", "milestones": [
        {"title": "Sketches", "amount": {"amount": 10000, "currency": "EUR"}, "due_at": "2026-12-05T12:00:00Z"},
        {"title": "Final artwork", "amount": {"amount": 30000, "currency": "EUR"}, "due_at": "2026-12-20T12:00:00Z"}]}))]
pub struct ProposeTermsRequest {
    /// The whole amount, in the order's currency.
    amount: MoneyDto,
    method: PaymentMethod,
    /// When the whole amount is due; in the future, within three years.
    due_at: DateTime<Utc>,
    schedule: Schedule,
    #[serde(default)]
    #[schema(max_items = 20)]
    milestones: Vec<MilestoneDto>,
}

impl ProposeTermsRequest {
    fn parse(self, now: DateTime<Utc>) -> Result<Terms, ApiError> {
        let mut errors = FieldErrors::new();
        let amount = self.amount.parse_price("amount", &mut errors);
        let due_at = errors.check("due_at", app::orders::parse_due_at(self.due_at, now));
        if self.milestones.len() > MAX_MILESTONES {
            errors.push(FieldError::new(
                "milestones",
                "milestone_count",
                format!("at most {MAX_MILESTONES} milestones"),
            ));
        }
        let mut drafts = Vec::new();
        for (i, m) in self.milestones.into_iter().enumerate() {
            let price = m
                .amount
                .parse_price(&format!("milestones[{i}].amount"), &mut errors);
            let due = errors.check(
                &format!("milestones[{i}].due_at"),
                app::orders::parse_due_at(m.due_at, now),
            );
            if let (Some(amount), Some(due_at)) = (price, due) {
                drafts.push(MilestoneDraft {
                    title: m.title,
                    amount,
                    due_at,
                });
            }
        }
        errors.into_result()?;
        let (Some(amount), Some(due_at)) = (amount, due_at) else {
            unreachable!("checked above")
        };
        Terms::parse(amount, self.method, self.schedule, due_at, drafts).map_err(invalid_fields)
    }
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// The current proposal, awaiting the other party.
    Proposed,
    Accepted,
    /// Replaced by a later proposal before anyone accepted it.
    Superseded,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TermsProposal {
    pub id: Uuid,
    /// 1, 2, 3… per order; `If-Match` names it when accepting.
    pub version: i64,
    pub status: ProposalStatus,
    pub amount: MoneyDto,
    pub method: PaymentMethod,
    pub schedule: Schedule,
    pub due_at: DateTime<Utc>,
    pub milestones: Vec<MilestoneDto>,
    pub proposed_by: Uuid,
    pub proposer_role: ActorRole,
    pub accepted_by: Option<Uuid>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The terms of an order: the current proposal, the terms in force, and every proposal made.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03",
    "current": {"id": "0193a0a4-9000-7c41-9a0e-2f1b7c9d8e10", "version": 2, "status": "proposed",
        "amount": {"amount": 45000, "currency": "EUR"}, "method": "bank_transfer", "schedule": "upfront",
        "due_at": "2026-12-20T12:00:00Z", "milestones": [], "proposed_by": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01",
        "proposer_role": "creative", "accepted_by": null, "accepted_at": null, "created_at": "2026-11-29T10:00:00Z"},
    "accepted": null, "history": []}))]
pub struct PaymentTermsResponse {
    pub order_id: Uuid,
    /// The newest proposal, accepted or not; null before the first.
    pub current: Option<TermsProposal>,
    /// The terms in force: the newest accepted proposal; null until one is accepted.
    pub accepted: Option<TermsProposal>,
    /// Every proposal, newest first (at most 25 per party).
    pub history: Vec<TermsProposal>,
}

fn proposal(row: &TermsRow, newest: i64) -> TermsProposal {
    let status = match (row.accepted_at, row.version == newest) {
        (Some(_), _) => ProposalStatus::Accepted,
        (None, true) => ProposalStatus::Proposed,
        (None, false) => ProposalStatus::Superseded,
    };
    TermsProposal {
        id: row.id.into(),
        version: row.version,
        status,
        amount: MoneyDto::from_parts(row.amount, &row.currency),
        method: row.method,
        schedule: row.schedule,
        due_at: row.due_at,
        milestones: row
            .milestones()
            .into_iter()
            .map(|m| MilestoneDto {
                title: m.title,
                amount: MoneyDto::from_parts(m.amount, &row.currency),
                due_at: m.due_at,
            })
            .collect(),
        proposed_by: row.proposed_by.into(),
        proposer_role: row.proposer_role,
        accepted_by: row.accepted_by.map(Into::into),
        accepted_at: row.accepted_at,
        created_at: row.created_at,
    }
}

/// Renders newest-first proposals, with the current version as the ETag (`"0"` before any).
fn render(id: OrderId, rows: &[TermsRow]) -> HttpResponse {
    let newest = rows.first().map_or(0, |r| r.version);
    let body = PaymentTermsResponse {
        order_id: id.into(),
        current: rows.first().map(|r| proposal(r, newest)),
        accepted: rows
            .iter()
            .find(|r| r.accepted_at.is_some())
            .map(|r| proposal(r, newest)),
        history: rows.iter().map(|r| proposal(r, newest)).collect(),
    };
    HttpResponse::Ok().insert_header(etag(newest)).json(body)
}

/// The order's payment terms: the current proposal, the accepted terms and their history.
#[utoipa::path(get, path = "/v1/orders/{id}/payment-terms", tag = "billing",
    operation_id = "getPaymentTerms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The terms; `ETag` is the current proposal's version", body = PaymentTermsResponse,
            headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_payment_terms(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let rows = app::payment_terms::history(&mut conn, viewer(&caller), id).await?;
    Ok(render(id, &rows))
}

/// Propose payment terms (either party); a proposal replaces the current one, and accepted terms
/// stay in force until the other party accepts a new proposal.
///
/// `If-Match` is optional here: with the version read (`"0"` before any proposal), the proposal is
/// refused with 412 if someone proposed in between. The amount is in the order's currency (422
/// `currency_mismatch` otherwise). Each party makes at most 25 proposals on an order (409 `too_many_proposals`);
/// none on a declined or cancelled order (409 `order_closed`).
#[utoipa::path(put, path = "/v1/orders/{id}/payment-terms", tag = "billing",
    operation_id = "proposePaymentTerms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The current proposal's version, e.g. `\"1\"`")),
    request_body = ProposeTermsRequest,
    responses(
        (status = 200, description = "Proposed; the other party is notified", body = PaymentTermsResponse,
            headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn propose_payment_terms(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: IfMatch,
    body: Json<ProposeTermsRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let clock = state.clock();
    let terms = body.0.parse(clock.now)?;
    state.creation_limits.terms_proposals.check(&caller.id)?;
    let mut conn = db::connection(&state.pool).await?;
    let rows =
        app::payment_terms::propose(&mut conn, viewer(&caller), id, &terms, if_match.0).await?;
    Ok(render(id, &rows))
}

/// Accept the other party's current proposal. `If-Match` with its version is required: 428
/// without it, 412 when the proposal changed since the caller read it.
#[utoipa::path(post, path = "/v1/orders/{id}/payment-terms/accept", tag = "billing",
    operation_id = "acceptPaymentTerms",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = String, Header, description = "The version of the proposal being accepted, e.g. `\"2\"`")),
    responses(
        (status = 200, description = "Accepted; these terms are now in force", body = PaymentTermsResponse,
            headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 428, response = docs::PreconditionRequired),
    ))]
async fn accept_payment_terms(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: RequiredIfMatch,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let rows = app::payment_terms::accept(&mut conn, viewer(&caller), id, if_match.0).await?;
    Ok(render(id, &rows))
}
