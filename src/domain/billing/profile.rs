//! Billing details: who an invoice is from and to, as printed on it. An invoice copies both parties'
//! details when it is sent, so later edits never change an issued invoice.

use serde::{Deserialize, Serialize};

use super::Issues;
use crate::domain::text;
use crate::domain::Invalid;

/// ISO 3166-1 alpha-2 codes, officially assigned.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ \
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK \
DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW \
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB \
LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC \
NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC \
SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Every code [`parse_country`] accepts.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    COUNTRIES.split_whitespace()
}

/// An upper-case ISO 3166-1 alpha-2 code.
pub fn parse_country(code: &str) -> Result<String, Invalid> {
    if country_codes().any(|c| c == code) {
        Ok(code.to_string())
    } else {
        Err(Invalid::new(
            "unknown_country",
            format!("`{code}` is not an ISO 3166-1 alpha-2 country code (e.g. DE, US)"),
        ))
    }
}

pub const MAX_ADDRESS_LINES: usize = 5;

/// A party's billing details, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingDetails {
    pub legal_name: String,
    pub address_lines: Vec<String>,
    pub country: String,
    pub tax_id: Option<String>,
}

impl BillingDetails {
    pub fn parse(
        legal_name: &str,
        address_lines: &[String],
        country: &str,
        tax_id: Option<&str>,
    ) -> Result<BillingDetails, Issues> {
        let mut issues = Issues::new();
        let mut keep = |field: String, r: Result<String, Invalid>| match r {
            Ok(v) => Some(v),
            Err(e) => {
                issues.push((field, e));
                None
            }
        };
        let legal_name = keep("legal_name".into(), text::LEGAL_NAME.parse(legal_name));
        let country = keep("country".into(), parse_country(country));
        let tax_id = tax_id.map(|t| keep("tax_id".into(), text::TAX_ID.parse(t)));
        let lines: Vec<Option<String>> = address_lines
            .iter()
            .enumerate()
            .map(|(i, l)| keep(format!("address_lines[{i}]"), text::ADDRESS_LINE.parse(l)))
            .collect();
        if address_lines.is_empty() || address_lines.len() > MAX_ADDRESS_LINES {
            let msg = format!("an address has 1 to {MAX_ADDRESS_LINES} lines");
            issues.push(("address_lines".into(), Invalid::new("line_count", msg)));
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(BillingDetails {
            legal_name: legal_name.unwrap_or_default(),
            address_lines: lines.into_iter().flatten().collect(),
            country: country.unwrap_or_default(),
            tax_id: tax_id.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_iso_codes() {
        assert_eq!(country_codes().count(), 249);
        assert!(parse_country("DE").is_ok());
        assert!(parse_country("de").is_err());
        assert!(parse_country("XX").is_err());
    }

    #[test]
    fn details_report_every_bad_field() {
        let e = BillingDetails::parse(" ", &[], "Germany", Some("")).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["legal_name", "country", "tax_id", "address_lines"]);
        let ok = BillingDetails::parse(" Ada Ltd ", &["1 Main St".into()], "GB", None).unwrap();
        assert_eq!(ok.legal_name, "Ada Ltd");
    }
}
