//! The wire shape of money: `{"amount": <integer minor units>, "currency": "<ISO 4217>"}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::FieldErrors;
use crate::domain::money::Money;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 15000, "currency": "EUR"}))]
pub struct MoneyDto {
    /// Integer minor units (cents for EUR; yen for JPY). Never a float.
    #[schema(minimum = 1)]
    pub amount: i64,
    /// ISO 4217 code, upper case.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

impl MoneyDto {
    pub fn from_parts(amount: i64, currency: &str) -> Self {
        MoneyDto {
            amount,
            currency: currency.to_string(),
        }
    }

    /// Parses a price, recording a field error under `field.amount` or `field.currency`.
    pub fn parse_price(&self, field: &str, errors: &mut FieldErrors) -> Option<Money> {
        match Money::parse_price(self.amount, &self.currency) {
            Ok(m) => Some(m),
            Err(invalid) => {
                let sub = if invalid.code == "unknown_currency" {
                    "currency"
                } else {
                    "amount"
                };
                errors.check::<()>(&format!("{field}.{sub}"), Err(invalid));
                None
            }
        }
    }
}
