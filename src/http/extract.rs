//! Request extractors that fail with problem details: JSON bodies (with the path of the offending
//! field), `If-Match`, `Idempotency-Key`, and the error handlers for actix's own Path/Query extractors.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{mime, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize as _;
use validator::Validate;

use super::error::{ApiError, FieldError};

/// A JSON request body: `Content-Type: application/json` (415 otherwise), within the size limit (413),
/// syntactically valid (400) and of the right shape (422 naming the field), then validated (422).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == mime::APPLICATION
                    && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
            });
        let bytes = web::Bytes::from_request(req, payload);
        let deadline = req
            .app_data::<BodyTimeout>()
            .map_or(BodyTimeout::DEFAULT, |t| t.0);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            // The head has its own deadline (the client request timeout); this one stops a body
            // trickled a byte at a time from holding the connection.
            let bytes = tokio::time::timeout(deadline, bytes)
                .await
                .map_err(|_| ApiError::RequestTimeout)?
                .map_err(|e| payload_error(e.as_error()))?;
            let value = parse_json::<T>(&bytes)?;
            value.validate()?;
            Ok(Json(value))
        })
    }
}

/// How long a JSON request body may take to arrive once the head has (`REQUEST_BODY_TIMEOUT`).
#[derive(Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl BodyTimeout {
    const DEFAULT: std::time::Duration = std::time::Duration::from_secs(30);
}

fn payload_error(e: Option<&actix_web::error::PayloadError>) -> ApiError {
    match e {
        Some(actix_web::error::PayloadError::Overflow) => ApiError::PayloadTooLarge,
        _ => ApiError::bad_request("malformed_request", "The request body could not be read."),
    }
}

/// No request body of this API nests deeper than a few levels; deeper JSON is refused before it is
/// parsed, so a small body cannot make the parser recurse far.
pub const MAX_JSON_DEPTH: usize = 32;

/// Whether `bytes` nest arrays/objects deeper than `max` (brackets inside strings do not count).
fn nests_deeper_than(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Deserialises with the path of the field that failed, so `errors[].field` can name it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if nests_deeper_than(bytes, MAX_JSON_DEPTH) {
        return Err(ApiError::bad_request(
            "json_too_deep",
            format!("The request body nests deeper than {MAX_JSON_DEPTH} levels."),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                let (field, code) = if between_backticks(&message, "unknown field `").is_some() {
                    // serde_path_to_error's path already ends at the unknown field.
                    (path, "unknown_field")
                } else if let Some(name) = between_backticks(&message, "missing field `") {
                    (join_path(&path, &name), "required")
                } else {
                    (path, "invalid_type")
                };
                let message = strip_position(&message);
                ApiError::Validation(vec![FieldError::new(
                    if field == "." { String::new() } else { field },
                    code,
                    message,
                )])
            }
            _ => ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {inner}"),
            ),
        }
    })
}

fn between_backticks(message: &str, prefix: &str) -> Option<String> {
    let rest = message.split_once(prefix)?.1;
    Some(rest.split_once('`')?.0.to_string())
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_string()
    } else {
        // serde_path_to_error reports the container for missing/unknown fields.
        format!("{path}.{field}")
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

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

/// Versions start at 1.
const MATCHES_NO_VERSION: i64 = 0;

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

pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    let detail = match err {
        PathError::Deserialize(e) => format!("Invalid path parameter: {e}"),
        _ => "Invalid path parameter.".into(),
    };
    ApiError::bad_request("invalid_path_parameter", detail).into()
}

pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let detail = match err {
        QueryPayloadError::Deserialize(e) => format!("Invalid query string: {e}"),
        _ => "Invalid query string.".into(),
    };
    ApiError::bad_request("invalid_query", detail).into()
}

/// An integer field. JSON Schema's `"type": "integer"` includes `5.0`, so the server takes integral
/// floats as integers too (and nothing fractional): it accepts exactly what the document allows.
pub fn integer<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    let n = serde_json::Number::deserialize(deserializer)?;
    // Beyond 2^53 a float no longer holds every integer; nothing this API counts comes close.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
                .map(|f| f as i64)
        })
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            serde::de::Error::custom(format!("invalid type: `{n}`, expected an integer in range"))
        })
}

/// [`integer`] for an optional field (use with `#[serde(default)]`); `null` is absent.
pub fn optional_integer<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    #[derive(serde::Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Option::<Wrap<T>>::deserialize(deserializer)?.map(|w| w.0))
}

/// A UUID in its hyphenated form only, as `format: uuid` says; the uuid crate alone would also take
/// the simple, braced and URN forms. `T` is the typed id it becomes (`StrictUuid<OrderId>`).
#[derive(Clone, Copy, Debug)]
pub struct StrictUuid<T = uuid::Uuid>(pub T);

impl<'de, T: From<uuid::Uuid>> serde::Deserialize<'de> for StrictUuid<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        parse_strict_uuid(&s)
            .map(|u| StrictUuid(T::from(u)))
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a hyphenated UUID")))
    }
}

impl<T: std::fmt::Display> std::fmt::Display for StrictUuid<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn parse_strict_uuid(s: &str) -> Option<uuid::Uuid> {
    (s.len() == 36)
        .then(|| uuid::Uuid::try_parse(s).ok())
        .flatten()
}

/// For an optional id in a body or query (use with `#[serde(default)]`).
pub fn optional_strict_uuid<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: From<uuid::Uuid>,
    D: serde::Deserializer<'de>,
{
    Ok(Option::<StrictUuid<T>>::deserialize(d)?.map(|u| u.0))
}

/// For PATCH bodies: tells "absent" (`None`) from "null" (`Some(None)`), so null can clear a field.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        price: Price,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Price {
        amount: i64,
    }

    fn field_error(json: &str) -> FieldError {
        match parse_json::<Body>(json.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors[0].clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_with_the_wrong_type() {
        let e = field_error(r#"{"name": "x", "price": {"amount": "ten"}}"#);
        assert_eq!(e.field, "price.amount");
        assert_eq!(e.code, "invalid_type");
    }

    #[test]
    fn names_unknown_and_missing_fields() {
        let e = field_error(r#"{"name": "x", "price": {"amount": 1}, "is_admin": true}"#);
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("is_admin", "unknown_field")
        );
        let e = field_error(r#"{"price": {"amount": 1}}"#);
        assert_eq!((e.field.as_str(), e.code.as_str()), ("name", "required"));
    }

    #[test]
    fn deep_nesting_is_refused_but_brackets_in_strings_are_not_nesting() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(nests_deeper_than(deep.as_bytes(), 32));
        let shallow = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(!nests_deeper_than(shallow.as_bytes(), 32));
        let in_string = format!("{{\"a\": \"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(!nests_deeper_than(in_string.as_bytes(), 32));
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(
            parse_json::<Body>(b"{\"name\": "),
            Err(ApiError::BadRequest {
                code: "malformed_json",
                ..
            })
        ));
    }

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
