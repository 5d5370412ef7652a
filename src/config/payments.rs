//! Payment processing: which provider charges cards (`PAYMENT_PROVIDER`), and the platform's fee.

use secrecy::SecretString;

use super::{ConfigError, Environment, Lookup};

#[derive(Clone, Debug)]
pub struct StripeSettings {
    /// Stripe's REST API (`STRIPE_API_BASE`, e.g. `https://api.stripe.com`): no default, so a test
    /// can never reach the real one by omission.
    pub api_base: String,
    pub secret_key: SecretString,
    /// Signs `POST /v1/webhooks/stripe` deliveries (`whsec_…`).
    pub webhook_secret: SecretString,
}

#[derive(Clone, Debug)]
pub enum ProviderSettings {
    /// In-process, behaving like a card processor's test mode. Refused in production.
    Sandbox,
    Stripe(StripeSettings),
}

#[derive(Clone, Debug)]
pub struct PaymentSettings {
    pub provider: ProviderSettings,
    /// How long a sandbox `pm_card_processing` payment stays pending before the worker settles it.
    pub sandbox_settle_after: std::time::Duration,
}

impl PaymentSettings {
    pub(super) fn from_lookup(get: Lookup<'_>, env: Environment) -> Result<Self, ConfigError> {
        let provider = match get("PAYMENT_PROVIDER").as_deref() {
            None | Some("sandbox") if env == Environment::Production => {
                return Err(ConfigError::Invalid {
                    var: "PAYMENT_PROVIDER",
                    reason: "`sandbox` charges nothing: set `stripe` when APP_ENV=production"
                        .into(),
                })
            }
            None | Some("sandbox") => ProviderSettings::Sandbox,
            Some("stripe") => {
                let required = |var: &'static str| {
                    get(var).ok_or(ConfigError::MissingWhen {
                        var,
                        when: "PAYMENT_PROVIDER=stripe",
                    })
                };
                ProviderSettings::Stripe(StripeSettings {
                    api_base: required("STRIPE_API_BASE")?
                        .trim_end_matches('/')
                        .to_string(),
                    secret_key: required("STRIPE_SECRET_KEY")?.into(),
                    webhook_secret: required("STRIPE_WEBHOOK_SECRET")?.into(),
                })
            }
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "PAYMENT_PROVIDER",
                    reason: format!("`{other}` is not `sandbox` or `stripe`"),
                })
            }
        };
        Ok(PaymentSettings {
            provider,
            sandbox_settle_after: super::duration(get, "SANDBOX_SETTLE_AFTER", "2s")?,
        })
    }
}
