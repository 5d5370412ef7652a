//! Field-level validation errors: what `errors[]` of a 422 holds, gathered from the domain's parsers
//! and from `validator`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use crate::domain::Invalid;

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"field": "email", "code": "invalid_email", "message": "is not a valid email address"}))]
pub struct FieldError {
    /// Path of the field in the request body or query (`price.amount`).
    pub field: String,
    /// Stable machine-readable reason.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn from_invalid(field: &str, invalid: Invalid) -> Self {
        FieldError::new(field, invalid.code, invalid.message)
    }
}

/// Every problem a domain parser found (`domain::billing::Issues`), as one 422.
pub fn invalid_fields(issues: Vec<(String, Invalid)>) -> ApiError {
    ApiError::Validation(
        issues
            .into_iter()
            .map(|(field, e)| FieldError::from_invalid(&field, e))
            .collect(),
    )
}

pub fn invalid_field(field: &str, invalid: Invalid) -> ApiError {
    ApiError::Validation(vec![FieldError::from_invalid(field, invalid)])
}

/// Collects field errors while parsing a request into domain values, so that one response lists
/// every problem rather than the first.
#[derive(Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error, if any, and returns the value, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(invalid) => {
                self.0.push(FieldError::from_invalid(field, invalid));
                None
            }
        }
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Takes a sub-parser's answer: its value, or its field errors recorded here (any other error
    /// is passed on).
    pub fn absorb<T>(&mut self, result: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(ApiError::Validation(errors)) => {
                self.0.extend(errors);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when nothing was recorded; the caller then unwraps its `Option`s with `finish`'s guarantee.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        flatten_validation(&errors, "", &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    }
}

fn flatten_validation(
    errors: &validator::ValidationErrors,
    prefix: &str,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map_or_else(|| describe_validation(e), std::string::ToString::to_string);
                    out.push(FieldError::new(path.clone(), e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten_validation(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten_validation(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn describe_validation(e: &validator::ValidationError) -> String {
    let param = |k: &str| e.params.get(k).map(std::string::ToString::to_string);
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max} characters"),
            (Some(min), None) => format!("must be at least {min} characters"),
            (None, Some(max)) => format!("must be at most {max} characters"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        other => format!("is invalid ({other})"),
    }
}
