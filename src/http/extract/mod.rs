//! Request extractors that fail with problem details: JSON bodies (with the path of the offending
//! field) and the error handlers for actix's own Path/Query extractors here; the conditional and
//! idempotency headers in `headers`, serde helpers for single fields in `fields`.

mod fields;
mod headers;

pub use fields::*;
pub use headers::*;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{mime, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
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
    // serde reads a struct from an array too (`[null, null]` as a PATCH with both fields absent):
    // every body of this API is an object, as the document says.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::validation(
            "",
            "invalid_type",
            "the request body must be a JSON object",
        ));
    }
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
}
