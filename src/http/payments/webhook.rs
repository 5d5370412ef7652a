//! `POST /v1/webhooks/stripe`: Stripe tells us where payments and refunds stand. The signature is
//! verified over the raw body before anything is read; each event id is acted on once.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel_async::AsyncConnection;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::app;
use crate::config::ProviderSettings;
use crate::db;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::provider::stripe::{self, SignatureError};
use crate::provider::{ChargeOutcome, ChargeStatus, RefundOutcome, RefundStatus};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/webhooks/stripe").route(web::post().to(stripe_webhook)));
}

/// Stripe's events (only when `PAYMENT_PROVIDER=stripe`; 404 otherwise). Verifies
/// `Stripe-Signature` (HMAC-SHA256 of `t.payload` with the endpoint's secret, within 5 minutes;
/// 400 `invalid_signature` otherwise), acts on `payment_intent.*` and refund events, ignores the
/// rest, and answers 200 to an event it has seen before without acting again. Unknown fields are
/// accepted: this body is Stripe's, not ours.
#[utoipa::path(post, path = "/v1/webhooks/stripe", tag = "payments", operation_id = "stripeWebhook",
    params(("Stripe-Signature" = String, Header, max_length = 2048, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256>`")),
    request_body(content = Object, content_type = "application/json",
        example = json!({"id": "evt_1", "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "object": "payment_intent", "status": "succeeded",
                "metadata": {"payment_id": "0193a0a4-f000-7c41-9a0e-2f1b7c9d8e60"}}}})),
    responses(
        (status = 200, description = "Received", body = Object, example = json!({"received": true})),
        (status = 400, response = docs::BadRequest),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn stripe_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let header = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 2048)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_signature",
                "Stripe-Signature is required (at most 2048 characters).",
            )
        })?;
    let ProviderSettings::Stripe(settings) = &state.settings.payments.provider else {
        return Err(ApiError::NotFound("route"));
    };
    let secret = settings.webhook_secret.expose_secret();
    stripe::verify(header, &body, secret, chrono::Utc::now().timestamp()).map_err(|e| {
        let detail = match e {
            SignatureError::Stale => {
                "The signature is too old (or from the future): more than 5 minutes off."
            }
            SignatureError::Mismatch => "No signature matches the body.",
            SignatureError::Malformed => "Stripe-Signature must be `t=<unix seconds>,v1=<hex>`.",
        };
        ApiError::bad_request("invalid_signature", detail)
    })?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("malformed_json", "The event is not JSON."))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(ApiError::bad_request(
            "malformed_event",
            "An event has an `id` and a `type`.",
        ));
    };
    let mut conn = db::connection(&state.pool).await?;
    // The event is recorded in the transaction that acts on it: if acting fails, so does the
    // record, and Stripe's retry acts again; if it was recorded, it was acted on.
    conn.transaction::<_, ApiError, _>(async |conn| {
        if db::provider_events::record(conn, id, "stripe", kind).await? {
            act(conn, &state, kind, &event["data"]["object"]).await?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"received": true})))
}

async fn act(
    conn: &mut diesel_async::AsyncPgConnection,
    state: &AppState,
    kind: &str,
    object: &Value,
) -> Result<(), ApiError> {
    let fee = state.settings.orders.platform_fee_bps;
    let pi = object["id"].as_str().unwrap_or_default();
    match kind {
        "payment_intent.succeeded"
        | "payment_intent.payment_failed"
        | "payment_intent.requires_action" => {
            let payment = match db::payments::find_by_provider_id(conn, pi).await? {
                Some(p) => Some(p),
                None => match object["metadata"]["payment_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                {
                    Some(id) => {
                        db::payments::find(conn, crate::domain::ids::PaymentId::from_uuid(id))
                            .await?
                    }
                    None => None,
                },
            };
            let Some(payment) = payment else {
                tracing::info!(provider_id = %pi, "a Stripe event about a payment we do not know");
                return Ok(());
            };
            let status = match kind {
                "payment_intent.succeeded" => ChargeStatus::Succeeded,
                "payment_intent.requires_action" => {
                    ChargeStatus::RequiresAction(object["next_action"].clone())
                }
                _ => ChargeStatus::Failed(
                    object["last_payment_error"]["code"]
                        .as_str()
                        .unwrap_or("payment_failed")
                        .to_string(),
                ),
            };
            let outcome = ChargeOutcome {
                provider_id: Some(pi.to_string()),
                status,
            };
            app::payments::book(conn, payment.id, &outcome, fee).await?;
        }
        "refund.updated" | "refund.created" | "refund.failed" => {
            let Some(refund) = db::payments::find_refund_by_provider_id(conn, pi).await? else {
                return Ok(());
            };
            let status = match object["status"].as_str() {
                Some("succeeded") => RefundStatus::Succeeded,
                Some("failed" | "canceled") => RefundStatus::Failed(
                    object["failure_reason"]
                        .as_str()
                        .unwrap_or("refund_failed")
                        .to_string(),
                ),
                _ => RefundStatus::Pending,
            };
            let outcome = RefundOutcome {
                provider_id: Some(pi.to_string()),
                status,
            };
            app::refunds::book(conn, refund.id, &outcome)
                .await
                .map_err(ApiError::Internal)?;
        }
        _ => {}
    }
    Ok(())
}
