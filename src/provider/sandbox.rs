//! The sandbox: a card processor's test mode inside the service. Its test payment methods are named
//! as Stripe names its own (`domain::payments::sandbox`). It keeps no state: a charge's id carries
//! what the sandbox needs to answer for it later (its behaviour and when it was made).

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use super::{
    Charge, ChargeOutcome, ChargeStatus, PaymentProvider, RefundOutcome, RefundStatus, Unavailable,
};
use crate::domain::ids::RefundId;
use crate::domain::payments::sandbox::{behaviour, Behaviour};

pub struct Sandbox {
    settle_after: Duration,
}

impl Sandbox {
    pub fn new(settle_after: Duration) -> Self {
        Sandbox { settle_after }
    }
}

fn failed(code: &str) -> ChargeStatus {
    ChargeStatus::Failed(code.to_string())
}

/// `sbpi_<behaviour>_<unix ms>_<payment id>`.
fn provider_id(tag: &str, payment: &str) -> String {
    format!("sbpi_{tag}_{}_{payment}", Utc::now().timestamp_millis())
}

fn next_action(id: &str) -> serde_json::Value {
    json!({"type": "redirect_to_url", "redirect_to_url": {
        "url": format!("https://sandbox.createspace.invalid/authenticate/{id}"),
        "return_url": null}})
}

impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn charge(&self, charge: Charge<'_>) -> Result<ChargeOutcome, Unavailable> {
        let payment = charge.payment_id.to_string();
        let (tag, status) = match behaviour(charge.method) {
            None => {
                return Ok(ChargeOutcome {
                    provider_id: None,
                    status: failed("invalid_payment_method"),
                })
            }
            Some(Behaviour::Succeeds) => ("ok", ChargeStatus::Succeeded),
            Some(Behaviour::Declined) => ("declined", failed("card_declined")),
            Some(Behaviour::Processing) => ("processing", ChargeStatus::Pending),
            Some(Behaviour::ProcessingError) => ("error", failed("processing_error")),
            Some(Behaviour::AuthenticationRequired) => ("3ds", ChargeStatus::Pending),
        };
        let id = provider_id(tag, &payment);
        let status = if tag == "3ds" {
            ChargeStatus::RequiresAction(next_action(&id))
        } else {
            status
        };
        Ok(ChargeOutcome {
            provider_id: Some(id),
            status,
        })
    }

    async fn confirm(&self, provider_id: &str) -> Result<ChargeOutcome, Unavailable> {
        let status = if provider_id.starts_with("sbpi_3ds_") {
            ChargeStatus::Succeeded
        } else {
            self.retrieve(provider_id).await?.status
        };
        Ok(ChargeOutcome {
            provider_id: Some(provider_id.to_string()),
            status,
        })
    }

    async fn retrieve(&self, provider_id: &str) -> Result<ChargeOutcome, Unavailable> {
        let mut parts = provider_id.splitn(4, '_');
        let (_, tag, at) = (parts.next(), parts.next(), parts.next());
        let at = at.and_then(|a| a.parse::<i64>().ok()).unwrap_or_default();
        let settled = Utc::now().timestamp_millis() - at
            >= i64::try_from(self.settle_after.as_millis()).unwrap_or(i64::MAX);
        let status = match tag {
            Some("ok") => ChargeStatus::Succeeded,
            Some("processing") if settled => ChargeStatus::Succeeded,
            Some("processing") => ChargeStatus::Pending,
            Some("3ds") => ChargeStatus::RequiresAction(next_action(provider_id)),
            Some("declined") => failed("card_declined"),
            _ => failed("processing_error"),
        };
        Ok(ChargeOutcome {
            provider_id: Some(provider_id.to_string()),
            status,
        })
    }

    async fn refund(
        &self,
        _provider_payment_id: &str,
        refund_id: RefundId,
        _amount: i64,
    ) -> Result<RefundOutcome, Unavailable> {
        Ok(RefundOutcome {
            provider_id: Some(format!("sbre_{refund_id}")),
            status: RefundStatus::Succeeded,
        })
    }
}
