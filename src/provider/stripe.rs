//! Stripe's REST API over reqwest: PaymentIntents (create and confirm, retrieve) and refunds, and
//! the verification of its webhook signatures. Only what the service uses; unknown fields in its
//! answers are ignored.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{
    Charge, ChargeOutcome, ChargeStatus, PaymentProvider, RefundOutcome, RefundStatus, Unavailable,
};
use crate::config::StripeSettings;
use crate::domain::ids::RefundId;

pub struct Stripe {
    http: reqwest::Client,
    base: String,
    key: SecretString,
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    status: String,
    #[serde(default)]
    last_payment_error: Option<StripeError>,
    #[serde(default)]
    next_action: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct StripeError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    payment_intent: Option<Box<PaymentIntent>>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: StripeError,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    status: String,
    #[serde(default)]
    failure_reason: Option<String>,
}

impl PaymentIntent {
    fn outcome(self) -> ChargeOutcome {
        let code = || {
            self.last_payment_error
                .as_ref()
                .and_then(|e| e.code.clone())
                .unwrap_or_else(|| "payment_failed".into())
        };
        let status = match self.status.as_str() {
            "succeeded" => ChargeStatus::Succeeded,
            "requires_action" => ChargeStatus::RequiresAction(
                self.next_action.clone().unwrap_or(serde_json::Value::Null),
            ),
            "requires_payment_method" => ChargeStatus::Failed(code()),
            "canceled" => ChargeStatus::Failed("canceled".into()),
            _ => ChargeStatus::Pending,
        };
        ChargeOutcome {
            provider_id: Some(self.id),
            status,
        }
    }
}

impl Stripe {
    pub fn new(s: &StripeSettings) -> anyhow::Result<Stripe> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Stripe {
            http,
            base: s.api_base.clone(),
            key: s.secret_key.clone(),
        })
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: Option<String>,
    ) -> Result<(u16, bytes::Bytes), Unavailable> {
        let body = serde_urlencoded::to_string(form).map_err(|e| Unavailable(e.to_string()))?;
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.key.expose_secret())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        send(req).await
    }

    async fn get(&self, path: &str) -> Result<(u16, bytes::Bytes), Unavailable> {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.key.expose_secret());
        send(req).await
    }
}

async fn send(req: reqwest::RequestBuilder) -> Result<(u16, bytes::Bytes), Unavailable> {
    let res = req.send().await.map_err(|e| Unavailable(e.to_string()))?;
    let status = res.status().as_u16();
    let body = res.bytes().await.map_err(|e| Unavailable(e.to_string()))?;
    // Not an answer about the charge: our key, Stripe's limits or its side, or a request still
    // running under the same idempotency key (409).
    if status >= 500 || matches!(status, 401 | 403 | 409 | 429) {
        return Err(Unavailable(format!("Stripe answered {status}")));
    }
    Ok((status, body))
}

fn unreadable(e: &serde_json::Error) -> Unavailable {
    Unavailable(format!("an answer from Stripe we cannot read: {e}"))
}

/// A PaymentIntent answer, or the card error that carries one (402), or another refusal.
fn intent_answer(status: u16, body: &[u8]) -> Result<ChargeOutcome, Unavailable> {
    if status < 300 {
        let pi: PaymentIntent = serde_json::from_slice(body).map_err(|e| unreadable(&e))?;
        return Ok(pi.outcome());
    }
    let err: ErrorBody = serde_json::from_slice(body).map_err(|e| unreadable(&e))?;
    let code = err
        .error
        .code
        .clone()
        .or(err.error.kind.clone())
        .unwrap_or_else(|| "payment_failed".into());
    match err.error.payment_intent {
        Some(pi) => Ok(ChargeOutcome {
            provider_id: Some(pi.id.clone()),
            // An error that carries the intent says what the intent is now: a card error leaves
            // it waiting for another method (failed); one still processing stays pending.
            status: match pi.outcome().status {
                ChargeStatus::Failed(_) => ChargeStatus::Failed(code),
                other => other,
            },
        }),
        None => Ok(ChargeOutcome {
            provider_id: None,
            status: ChargeStatus::Failed(code),
        }),
    }
}

impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn charge(&self, charge: Charge<'_>) -> Result<ChargeOutcome, Unavailable> {
        let form = [
            ("amount", charge.amount.to_string()),
            ("currency", charge.currency.to_lowercase()),
            ("payment_method", charge.method.to_string()),
            ("payment_method_types[]", "card".into()),
            ("confirm", "true".into()),
            ("description", charge.description.clone()),
            ("metadata[payment_id]", charge.payment_id.to_string()),
        ];
        let key = Some(charge.payment_id.to_string());
        let (status, body) = self.post("/v1/payment_intents", &form, key).await?;
        intent_answer(status, &body)
    }

    async fn confirm(&self, provider_id: &str) -> Result<ChargeOutcome, Unavailable> {
        let path = format!("/v1/payment_intents/{provider_id}/confirm");
        let (status, body) = self.post(&path, &[], None).await?;
        intent_answer(status, &body)
    }

    async fn retrieve(&self, provider_id: &str) -> Result<ChargeOutcome, Unavailable> {
        let (status, body) = self
            .get(&format!("/v1/payment_intents/{provider_id}"))
            .await?;
        if status == 404 {
            // An intent Stripe does not know (another account or key): no verdict on our payment.
            return Err(Unavailable(format!("Stripe does not know {provider_id}")));
        }
        intent_answer(status, &body)
    }

    async fn refund(
        &self,
        provider_payment_id: &str,
        refund_id: RefundId,
        amount: i64,
    ) -> Result<RefundOutcome, Unavailable> {
        let form = [
            ("payment_intent", provider_payment_id.to_string()),
            ("amount", amount.to_string()),
            ("metadata[refund_id]", refund_id.to_string()),
        ];
        let key = Some(refund_id.to_string());
        let (status, body) = self.post("/v1/refunds", &form, key).await?;
        if status >= 300 {
            let err: ErrorBody = serde_json::from_slice(&body).map_err(|e| unreadable(&e))?;
            let code = err
                .error
                .code
                .or(err.error.kind)
                .unwrap_or_else(|| "refund_failed".into());
            return Ok(RefundOutcome {
                provider_id: None,
                status: RefundStatus::Failed(code),
            });
        }
        let refund: Refund = serde_json::from_slice(&body).map_err(|e| unreadable(&e))?;
        Ok(refund_outcome(refund))
    }
}

fn refund_outcome(r: Refund) -> RefundOutcome {
    let status = match r.status.as_str() {
        "succeeded" => RefundStatus::Succeeded,
        "failed" | "canceled" => {
            RefundStatus::Failed(r.failure_reason.unwrap_or_else(|| r.status.clone()))
        }
        _ => RefundStatus::Pending,
    };
    RefundOutcome {
        provider_id: Some(r.id),
        status,
    }
}

pub use crate::domain::signature::{sign, verify, SignatureError, TOLERANCE_SECS};
