//! IBANs (ISO 13616): the shape, and the mod-97 check digits that catch typos.

use crate::domain::Invalid;

/// A checked IBAN, stored without spaces in upper case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iban(String);

impl Iban {
    pub fn parse(raw: &str) -> Result<Iban, Invalid> {
        let compact: String = raw
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let shape = (15..=34).contains(&compact.len())
            && compact.chars().all(|c| c.is_ascii_alphanumeric())
            && compact[..2].chars().all(|c| c.is_ascii_uppercase())
            && compact[2..4].chars().all(|c| c.is_ascii_digit());
        if !shape {
            return Err(Invalid::new(
                "invalid_iban",
                "must be an IBAN: a country code, two check digits and up to 30 letters or digits",
            ));
        }
        if mod97(&compact) != 1 {
            return Err(Invalid::new(
                "invalid_iban",
                "the check digits do not match: a character is wrong",
            ));
        }
        Ok(Iban(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is shown afterwards: the last four characters.
    pub fn last4(raw: &str) -> String {
        let chars: Vec<char> = raw.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    }
}

/// The remainder mod 97 of the IBAN rearranged (first four characters last, letters as 10..35).
fn mod97(iban: &str) -> u32 {
    let rearranged = iban[4..].chars().chain(iban[..4].chars());
    rearranged.fold(0u32, |acc, c| {
        let value = c.to_digit(36).unwrap_or(0);
        if value >= 10 {
            (acc * 100 + value) % 97
        } else {
            (acc * 10 + value) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ibans_pass_and_a_typo_fails() {
        for ok in [
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "fr1420041010050500013m02606",
        ] {
            assert!(Iban::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "DE89 3704 0044 0532 0130 01",
            "GB82WEST1234569876543",
            "XX",
            "DE8937040044053201300!",
        ] {
            assert!(Iban::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Iban::last4("DE89370400440532013000"), "3000");
    }
}
