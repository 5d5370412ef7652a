//! Account values: email, password, profile fields.

use super::{text, Invalid};

/// A normalised (trimmed, lower-cased), syntactically valid email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(Invalid::new("required", "must not be empty"));
        }
        if value.chars().count() > 254 || !validator::ValidateEmail::validate_email(&value) {
            return Err(Invalid::new(
                "invalid_email",
                "is not a valid email address",
            ));
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 10 to 128 characters and not the account's email.
/// Deliberately has no Debug/Display, so it cannot end up in a log line.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN: usize = 10;
    pub const MAX: usize = 128;

    pub fn parse(raw: &str, email: &Email) -> Result<NewPassword, Invalid> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(Invalid::new(
                "too_short",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if len > Self::MAX {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        if raw.trim().to_lowercase() == email.as_str() {
            return Err(Invalid::new(
                "same_as_email",
                "must not be the same as the email address",
            ));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, Invalid> {
        text::DISPLAY_NAME.parse(raw).map(DisplayName)
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

pub fn parse_bio(raw: &str) -> Result<String, Invalid> {
    text::BIO.parse(raw)
}

/// Longest avatar URL accepted.
pub const AVATAR_URL_MAX: usize = 2048;
/// [`parse_avatar_url`] as a regular expression, for the OpenAPI document.
pub const AVATAR_URL_PATTERN: &str =
    r"^https?://[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$";

/// An absolute http(s) URL, as browsers will load it in an <img>: the scheme, then anything but white
/// space and control characters. Not resolved or fetched; a URL that leads nowhere shows no picture.
pub fn parse_avatar_url(raw: &str) -> Result<String, Invalid> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    let valid = rest.is_some_and(|rest| {
        !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
    }) && raw.chars().count() <= AVATAR_URL_MAX;
    if !valid {
        return Err(Invalid::new(
            "invalid_url",
            format!("must be an absolute http(s) URL of at most {AVATAR_URL_MAX} characters"),
        ));
    }
    Ok(raw.to_string())
}

/// An IANA time zone name such as `Europe/Berlin` or `UTC`. Checked for shape only: the zone database
/// is the frontend's business, and a shape check keeps garbage out without shipping tzdata.
pub fn parse_time_zone(raw: &str) -> Result<String, Invalid> {
    let value = raw;
    let shape_ok = !value.is_empty()
        && value.len() <= 64
        && value.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
        && value.starts_with(|c: char| c.is_ascii_uppercase());
    // A zone the tz database does not know would show every time in mail as UTC.
    if !shape_ok || value.parse::<chrono_tz::Tz>().is_err() {
        return Err(Invalid::new(
            "invalid_time_zone",
            "must be an IANA time zone name such as `Europe/Berlin` or `UTC`",
        ));
    }
    Ok(value.to_string())
}

/// Who may send a creative custom orders (service orders are always open: the creative published
/// the service).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum CustomOrders {
    /// Any active user.
    #[default]
    Anyone,
    /// Only clients who have completed an order with the creative.
    PastClients,
}

named_enum!(CustomOrders {
    Anyone => "anyone",
    PastClients => "past_clients",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised() {
        let e = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada@example.com");
    }

    #[test]
    fn invalid_emails_are_refused() {
        for bad in ["", "ada", "ada@", "@example.com", "a b@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn password_policy() {
        let email = Email::parse("ada@example.com").unwrap();
        assert_eq!(
            NewPassword::parse("short", &email).err().unwrap().code,
            "too_short"
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), &email)
                .err()
                .unwrap()
                .code,
            "too_long"
        );
        assert_eq!(
            NewPassword::parse("ADA@example.com", &email)
                .err()
                .unwrap()
                .code,
            "same_as_email"
        );
        assert!(NewPassword::parse("correct horse battery", &email).is_ok());
    }

    #[test]
    fn time_zones_by_shape() {
        assert!(parse_time_zone("Europe/Berlin").is_ok());
        assert!(parse_time_zone("America/Argentina/Buenos_Aires").is_ok());
        assert!(parse_time_zone("UTC").is_ok());
        assert!(parse_time_zone("europe/berlin").is_err());
        assert!(parse_time_zone("Europe//Berlin").is_err());
        assert!(parse_time_zone("'; DROP").is_err());
        assert!(
            parse_time_zone("Mars/Olympus_Mons").is_err(),
            "not in the tz database"
        );
    }

    #[test]
    fn avatar_urls_must_be_http() {
        assert!(parse_avatar_url("https://cdn.example.com/a.png").is_ok());
        assert!(parse_avatar_url("javascript:alert(1)").is_err());
        assert!(parse_avatar_url("https://exa mple.com").is_err());
    }

    #[test]
    fn avatar_urls_follow_their_documented_pattern() {
        let re = regex::Regex::new(AVATAR_URL_PATTERN).unwrap();
        for url in [
            "https://cdn.example.com/a.png",
            "http://x",
            "https://ö.example/ä?b=1#c",
            "https://",
            "ftp://x",
            "javascript:alert(1)",
            " https://x",
            "https://a b",
            "https://a\u{a0}b",
            "https://a\u{85}",
            "https://a\u{3000}",
        ] {
            assert_eq!(parse_avatar_url(url).is_ok(), re.is_match(url), "{url:?}");
        }
    }
}
