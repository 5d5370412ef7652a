//! Instants the API accepts: RFC 3339 has four-digit years, and PostgreSQL cannot store a year
//! before 4713 BC, so anything outside years 1 to 9999 is refused where it is parsed (422), never
//! passed on to fail in the database (500).

use chrono::{DateTime, Datelike, Utc};

use super::Invalid;

pub const MIN_YEAR: i32 = 1;
pub const MAX_YEAR: i32 = 9999;

/// `at` if its year is within [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn bounded(at: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    if (MIN_YEAR..=MAX_YEAR).contains(&at.year()) {
        Ok(at)
    } else {
        Err(Invalid::new(
            "out_of_range",
            format!("must be between the years {MIN_YEAR:04} and {MAX_YEAR}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_outside_four_digits_are_refused() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(bounded(at("-5000-01-01T00:00:00Z")).is_err());
        assert!(bounded(at("0000-12-31T23:59:59Z")).is_err());
        assert!(bounded(at("+10000-01-01T00:00:00Z")).is_err());
        assert!(bounded(at("0001-01-01T00:00:00Z")).is_ok());
        assert!(bounded(at("9999-12-31T23:59:59Z")).is_ok());
    }
}
