//! The payment provider: one interface (`PaymentProvider`), two implementations chosen by
//! `PAYMENT_PROVIDER` — the in-process sandbox and Stripe's REST API. Provider calls are never made
//! inside a database transaction: the use cases record what they asked and what came back in
//! transactions of their own.

use std::sync::Arc;

use crate::config::{PaymentSettings, ProviderSettings};
use crate::domain::ids::{PaymentId, RefundId};

mod sandbox;
pub mod stripe;

pub use sandbox::Sandbox;
pub use stripe::Stripe;

/// A charge to make: the payment's id doubles as the provider's idempotency key.
#[derive(Clone, Debug)]
pub struct Charge<'a> {
    pub payment_id: PaymentId,
    pub amount: i64,
    pub currency: &'a str,
    /// A provider token (`pm_…`) or a sandbox test number: never stored.
    pub method: &'a str,
    pub description: String,
}

/// Where a charge stands at the provider.
#[derive(Clone, Debug, PartialEq)]
pub enum ChargeStatus {
    Succeeded,
    Pending,
    /// The customer must authenticate (3-D Secure): what to show them.
    RequiresAction(serde_json::Value),
    /// Declined or failed, with the provider's code (`card_declined`, `processing_error`, …).
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChargeOutcome {
    /// The provider's id for the charge (a PaymentIntent's `pi_…`); none when it never got one.
    pub provider_id: Option<String>,
    pub status: ChargeStatus,
}

/// Where a refund stands at the provider.
#[derive(Clone, Debug, PartialEq)]
pub enum RefundStatus {
    Succeeded,
    Pending,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RefundOutcome {
    pub provider_id: Option<String>,
    pub status: RefundStatus,
}

/// A provider could not be asked (network, 5xx, an answer we cannot read): try again later.
#[derive(Debug, thiserror::Error)]
#[error("payment provider unavailable: {0}")]
pub struct Unavailable(pub String);

/// What the service needs of a card processor.
pub trait PaymentProvider: Send + Sync {
    /// `sandbox` or `stripe`, as stored with each payment.
    fn name(&self) -> &'static str;
    /// Creates and confirms a charge.
    fn charge(
        &self,
        charge: Charge<'_>,
    ) -> impl std::future::Future<Output = Result<ChargeOutcome, Unavailable>> + Send;
    /// Confirms a charge that required the customer's action, once they took it.
    fn confirm(
        &self,
        provider_id: &str,
    ) -> impl std::future::Future<Output = Result<ChargeOutcome, Unavailable>> + Send;
    /// Where a charge stands now.
    fn retrieve(
        &self,
        provider_id: &str,
    ) -> impl std::future::Future<Output = Result<ChargeOutcome, Unavailable>> + Send;
    /// Refunds `amount` of a charge; the refund's id is the idempotency key.
    fn refund(
        &self,
        provider_payment_id: &str,
        refund_id: RefundId,
        amount: i64,
    ) -> impl std::future::Future<Output = Result<RefundOutcome, Unavailable>> + Send;
}

/// The provider this instance uses.
#[derive(Clone)]
pub enum Provider {
    Sandbox(Arc<Sandbox>),
    Stripe(Arc<Stripe>),
}

impl Provider {
    pub fn new(settings: &PaymentSettings) -> anyhow::Result<Provider> {
        Ok(match &settings.provider {
            ProviderSettings::Sandbox => {
                Provider::Sandbox(Arc::new(Sandbox::new(settings.sandbox_settle_after)))
            }
            ProviderSettings::Stripe(s) => Provider::Stripe(Arc::new(Stripe::new(s)?)),
        })
    }
}

macro_rules! delegate {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Provider::Sandbox($p) => $e,
            Provider::Stripe($p) => $e,
        }
    };
}

impl PaymentProvider for Provider {
    fn name(&self) -> &'static str {
        delegate!(self, p => p.name())
    }

    async fn charge(&self, charge: Charge<'_>) -> Result<ChargeOutcome, Unavailable> {
        delegate!(self, p => p.charge(charge).await)
    }

    async fn confirm(&self, provider_id: &str) -> Result<ChargeOutcome, Unavailable> {
        delegate!(self, p => p.confirm(provider_id).await)
    }

    async fn retrieve(&self, provider_id: &str) -> Result<ChargeOutcome, Unavailable> {
        delegate!(self, p => p.retrieve(provider_id).await)
    }

    async fn refund(
        &self,
        provider_payment_id: &str,
        refund_id: RefundId,
        amount: i64,
    ) -> Result<RefundOutcome, Unavailable> {
        delegate!(self, p => p.refund(provider_payment_id, refund_id, amount).await)
    }
}
