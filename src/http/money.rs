//! The wire shape of money: `{"amount": <integer minor units>, "currency": "<ISO 4217>"}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::FieldErrors;
use crate::domain::money::Money;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 15000, "currency": "EUR"}))]
pub struct MoneyDto {
    /// Integer minor units (cents for EUR; yen for JPY), at most 100 000 000 000. Never a float.
    // `maximum` (Money::MAX_MINOR_UNITS) is set in docs_finish: utoipa reads it as an i32 here.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "super::extract::integer")]
    pub amount: i64,
    /// ISO 4217 code, upper case.
    #[schema(schema_with = super::schemas::currency)]
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
        crate::app::orders::price_field(field, self.amount, &self.currency, errors)
    }
}

/// An amount the server reports that may be zero (a balance, what is refunded so far): the same
/// shape as [`MoneyDto`].
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"amount": 0, "currency": "EUR"}))]
pub struct AmountDto {
    /// Integer minor units, zero or more.
    #[schema(minimum = 0)]
    pub amount: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

impl AmountDto {
    pub fn from_parts(amount: i64, currency: &str) -> Self {
        AmountDto {
            amount,
            currency: currency.to_string(),
        }
    }
}
