//! Money: integer minor units and an ISO 4217 currency. Never floats; arithmetic is checked.

use super::Invalid;

/// Active ISO 4217 codes and their minor-unit exponents. Funds, precious metals and test codes are
/// left out on purpose: nobody pays a creative in XAU.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(&'static str);

impl Currency {
    /// Accepts an upper-case ISO 4217 code; lower-case is refused rather than guessed.
    pub fn parse(code: &str) -> Result<Currency, Invalid> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, _)| Currency(c))
            .ok_or_else(|| {
                Invalid::new(
                    "unknown_currency",
                    format!("`{code}` is not an ISO 4217 currency code (e.g. EUR, USD)"),
                )
            })
    }

    pub fn code(&self) -> &'static str {
        self.0
    }

    /// Every code [`Currency::parse`] accepts.
    pub fn all_codes() -> impl Iterator<Item = &'static str> {
        CURRENCIES.iter().map(|(c, _)| *c)
    }

    pub fn minor_unit_exponent(&self) -> u8 {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == self.0)
            .map_or(2, |(_, e)| *e)
    }
}

/// A positive amount of money in minor units (cents for EUR, yen for JPY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

impl Money {
    /// Upper bound on a single price, in minor units whatever the currency (a billion euros; a
    /// hundred billion yen): far beyond any creative job, and well inside i64 so sums of thousands of
    /// prices cannot overflow in practice. One number for every currency, so the OpenAPI document can
    /// state it as the `maximum` the server applies.
    pub const MAX_MINOR_UNITS: i64 = 100_000_000_000;

    pub fn parse_price(amount: i64, currency: &str) -> Result<Money, Invalid> {
        let currency = Currency::parse(currency)?;
        if amount <= 0 {
            return Err(Invalid::new(
                "not_positive",
                "amount must be a positive number of minor units",
            ));
        }
        let max = Self::MAX_MINOR_UNITS;
        if amount > max {
            return Err(Invalid::new(
                "too_large",
                format!("amount must be at most {max} minor units"),
            ));
        }
        Ok(Money { amount, currency })
    }

    pub fn amount(&self) -> i64 {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Adds two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money {
            amount: self.amount.checked_add(other.amount)?,
            currency: self.currency,
        })
    }
}

/// `1234` EUR → `12.34 EUR`; `1500` JPY → `1500 JPY`.
pub fn format_money(amount: i64, currency: &str) -> String {
    let exponent = Currency::parse(currency).map_or(2, |c| c.minor_unit_exponent()) as u32;
    if exponent == 0 {
        return format!("{amount} {currency}");
    }
    let unit = 10i64.pow(exponent);
    let sign = if amount < 0 { "-" } else { "" };
    let (whole, frac) = (
        amount.unsigned_abs() / unit as u64,
        amount.unsigned_abs() % unit as u64,
    );
    format!(
        "{sign}{whole}.{frac:0width$} {currency}",
        width = exponent as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_currencies_parse_and_unknown_do_not() {
        assert_eq!(Currency::parse("EUR").unwrap().code(), "EUR");
        assert_eq!(Currency::parse("JPY").unwrap().minor_unit_exponent(), 0);
        assert_eq!(Currency::parse("eur").unwrap_err().code, "unknown_currency");
        assert!(Currency::parse("XYZ").is_err());
    }

    #[test]
    fn prices_are_positive_and_bounded() {
        assert!(Money::parse_price(15000, "EUR").is_ok());
        assert_eq!(
            Money::parse_price(0, "EUR").unwrap_err().code,
            "not_positive"
        );
        assert_eq!(
            Money::parse_price(-5, "EUR").unwrap_err().code,
            "not_positive"
        );
        assert_eq!(
            Money::parse_price(i64::MAX, "EUR").unwrap_err().code,
            "too_large"
        );
        assert!(Money::parse_price(100_000_000_000, "JPY").is_ok());
        assert!(Money::parse_price(100_000_000_001, "JPY").is_err());
        assert!(Money::parse_price(100_000_000_001, "BHD").is_err());
    }

    #[test]
    fn addition_is_checked() {
        let a = Money::parse_price(100_000_000_000, "EUR").unwrap();
        let sum = a.checked_add(&a).unwrap();
        assert_eq!(sum.amount(), 200_000_000_000);
        let usd = Money::parse_price(1, "USD").unwrap();
        assert!(a.checked_add(&usd).is_none());
        let huge = Money {
            amount: i64::MAX,
            currency: a.currency(),
        };
        assert!(huge.checked_add(&a).is_none());
    }
}
