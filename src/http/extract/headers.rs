//! `If-Match` and `Idempotency-Key`, each parsed exactly as the OpenAPI document states it.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use crate::error::ApiError;

/// The one value of a header that must not repeat: sent twice (two field lines), the second could
/// silently override or relax the first, so it is refused.
fn single_header<'a>(
    req: &'a HttpRequest,
    name: &str,
    code: &'static str,
) -> Result<Option<&'a header::HeaderValue>, ApiError> {
    let mut values = req.headers().get_all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::bad_request(code, format!("Send {name} once.")));
    }
    Ok(first)
}

/// `If-Match: "<version>"`: the version the caller last saw. Absent means "whatever is current".
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            single_header(req, header::IF_MATCH.as_str(), "invalid_if_match")
                .and_then(parse_if_match),
        )
    }
}

fn parse_if_match(value: Option<&header::HeaderValue>) -> Result<IfMatch, ApiError> {
    let Some(value) = value else {
        return Ok(IfMatch(None));
    };
    // Not visible ASCII is no entity tag; it must not read as the empty list.
    value
        .to_str()
        .ok()
        .and_then(parse_if_match_str)
        .map(IfMatch)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_if_match",
                "If-Match must be `*` or the resource's ETag, e.g. `\"3\"`.",
            )
        })
}

/// Exactly [`IF_MATCH_PATTERN`]: `*` (any version), a quoted version, optionally weak-tagged, or
/// nothing. `Some(None)` is `*`; `None` is a value the grammar does not allow.
fn parse_if_match_str(raw: &str) -> Option<Option<i64>> {
    if raw == "*" {
        return Some(None);
    }
    if raw.is_empty() {
        // RFC 9110 makes If-Match a list, so an empty value is an empty list: it matches no
        // version (412), which is also the safe reading of a client that lost its ETag.
        return Some(Some(MATCHES_NO_VERSION));
    }
    let quoted = raw.strip_prefix("W/").unwrap_or(raw);
    let digits = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let valid = (1..=IF_MATCH_MAX_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| digits.parse().ok()).flatten().map(Some)
}

/// `If-Match: "<version>"` where a write must say which version it was based on (accepting the
/// other party's proposal): absent, or `*`, is 428.
pub struct RequiredIfMatch(pub i64);

impl FromRequest for RequiredIfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = single_header(req, header::IF_MATCH.as_str(), "invalid_if_match");
        std::future::ready(header.and_then(|value| match value {
            // An empty list names no version either.
            None => Err(ApiError::PreconditionRequired),
            Some(v) if v.is_empty() => Err(ApiError::PreconditionRequired),
            Some(v) => match parse_if_match(Some(v))? {
                IfMatch(Some(version)) => Ok(RequiredIfMatch(version)),
                IfMatch(None) => Err(ApiError::PreconditionRequired),
            },
        }))
    }
}

/// Versions start at 1, and 0 stands for "none yet" where a resource may not exist: an empty list
/// must match neither.
const MATCHES_NO_VERSION: i64 = -1;

/// Versions are i64; 18 digits always fit.
const IF_MATCH_MAX_DIGITS: usize = 18;

/// The grammar [`IfMatch`] accepts, as stated in the OpenAPI document.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[0-9]{1,18}")?$"#;

/// The `ETag` value for a resource version.
pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// The grammar [`IdempotencyKey`] accepts, as stated in the OpenAPI document.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// `Idempotency-Key`: 1 to 255 visible ASCII characters chosen by the caller.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = single_header(req, "idempotency-key", "invalid_idempotency_key");
        let result = header.and_then(|value| match value {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(s)
                    if !s.is_empty()
                        && s.len() <= 255
                        && s.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(s.to_string())))
                }
                _ => Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                )),
            },
        });
        std::future::ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_quoted_and_weak_versions() {
        let v = |s: &'static str| parse_if_match(Some(&header::HeaderValue::from_static(s)));
        assert_eq!(v("\"3\"").unwrap().0, Some(3));
        assert_eq!(v("W/\"4\"").unwrap().0, Some(4));
        assert_eq!(v("*").unwrap().0, None);
        assert!(v("abc").is_err());
    }

    #[test]
    fn if_match_refuses_what_the_documented_pattern_refuses() {
        let v = |s: &'static str| parse_if_match(Some(&header::HeaderValue::from_static(s)));
        for bad in [
            "1",
            "\"3",
            "3\"",
            "W/3",
            "w/\"3\"",
            " \"3\"",
            "\"\"",
            "\"-1\"",
            "\"+1\"",
            "null",
            "\"1234567890123456789\"",
        ] {
            assert!(v(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(
            v("\"123456789012345678\"").unwrap().0,
            Some(123_456_789_012_345_678)
        );
    }
}
