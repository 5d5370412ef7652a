//! Keyset pagination: `?limit=&cursor=` in, `{"data": [...], "next_cursor": ...}` out. Cursors are
//! opaque to clients (base64url JSON of the last row's sort key), so their shape can change freely.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;

/// One page of a list: the convention for every collection of the API.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Cursors are base64url without padding, and never longer than this.
pub const MAX_CURSOR_LEN: usize = 512;
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]*$";

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// Checks `?q=`: up to 200 characters, no control characters; blank means no filter.
pub fn search_text(q: Option<String>) -> Result<Option<String>, ApiError> {
    match q {
        None => Ok(None),
        Some(q) => crate::domain::text::SEARCH
            .parse(&q)
            .map(|q| Some(q).filter(|q| !q.is_empty()))
            .map_err(|e| super::error::invalid_field("q", e)),
    }
}

/// Parses a comma-separated filter of enumeration names (`status=open,paid`): at most `max` names,
/// each one that `parse` knows; none when absent.
pub fn name_list<T>(
    raw: Option<&str>,
    field: &str,
    max: usize,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = raw.split(',').collect();
    if names.len() > max {
        return Err(ApiError::validation(
            field,
            "too_many",
            format!("at most {max} statuses"),
        ));
    }
    let code = format!("unknown_{field}");
    names
        .into_iter()
        .map(|name| {
            parse(name).ok_or_else(|| {
                ApiError::validation(field, &code, format!("`{name}` is not a known {field}"))
            })
        })
        .collect()
}

/// Checks `?limit=`: 1 to 100, 20 when absent.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation(
            "limit",
            "out_of_range",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// The cursor of a list ordered by a time-ordered id alone: the last id shown.
#[derive(Serialize, Deserialize)]
pub struct IdCursor {
    pub i: uuid::Uuid,
}

pub fn encode<T: Serialize>(key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes `?cursor=`; an empty value means the first page, as if it were absent.
pub fn decode_opt<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
    cursor.filter(|c| !c.is_empty()).map(decode).transpose()
}

pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, ApiError> {
    Some(cursor)
        .filter(|c| c.len() <= MAX_CURSOR_LEN)
        .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid_cursor)
}

pub fn invalid_cursor() -> ApiError {
    ApiError::bad_request(
        "invalid_cursor",
        "The cursor is not one this API returned for this list; start again without it.",
    )
}

/// Fetches `limit + 1` rows to learn whether another page exists without counting; this trims the
/// extra row and makes the cursor from the last row kept.
pub fn page<R, T: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    cursor_of: impl Fn(&R) -> T,
) -> (Vec<R>, Option<String>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| encode(&cursor_of(r)))
    } else {
        None
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), 20);
        assert_eq!(limit(Some(100)).unwrap(), 100);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(101)).is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode(&("abc", 3));
        assert_eq!(decode::<(String, i32)>(&c).unwrap(), ("abc".to_string(), 3));
        assert!(decode::<(String, i32)>("!!!").is_err());
    }

    #[test]
    fn page_trims_the_probe_row() {
        let (rows, next) = page(vec![1, 2, 3], 2, |r| *r);
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode::<i32>(&next.unwrap()).unwrap(), 2);
        let (rows, next) = page(vec![1, 2], 2, |r| *r);
        assert_eq!(rows, vec![1, 2]);
        assert!(next.is_none());
    }
}
