//! Files on an order: upload (multipart, streamed), metadata and content (streamed, ranges).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::attachments::AttachmentRow;

#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-c000-7c41-9a0e-2f1b7c9d8e09",
    "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03", "ticket_id": null, "filename": "sketch.png",
    "content_type": "image/png", "size": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "created_at": "2026-11-29T10:00:00Z"}))]
pub struct AttachmentResponse {
    pub id: Uuid,
    /// The order it was uploaded to; null for a support ticket's file.
    pub order_id: Option<Uuid>,
    /// The support ticket it belongs to; null for an order's file.
    pub ticket_id: Option<Uuid>,
    /// As uploaded, made safe: no path, no control characters, at most 255 characters.
    pub filename: String,
    /// Sniffed from the bytes, never taken from the client.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Hex SHA-256 of the content; also the download's `ETag`.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for AttachmentResponse {
    fn from(a: AttachmentRow) -> Self {
        AttachmentResponse {
            id: a.id.into(),
            order_id: a.order_id.map(Into::into),
            ticket_id: a.ticket_id.map(Into::into),
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256.iter().map(|b| format!("{b:02x}")).collect(),
            created_at: a.created_at,
        }
    }
}

use actix_multipart::{Multipart, MultipartError};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::{StreamExt, TryStreamExt};
use utoipa::OpenApi;

use crate::app;
use crate::db;
use crate::domain::ids::{AttachmentId, OrderId};
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::StrictUuid;
use crate::http::orders::viewer;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(upload_attachment, get_attachment, get_attachment_content),
    components(schemas(AttachmentResponse, UploadForm))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/orders/{id}/attachments").route(web::post().to(upload_attachment)))
        .service(web::resource("/attachments/{id}").route(web::get().to(get_attachment)))
        .service(
            web::resource("/attachments/{id}/content").route(web::get().to(get_attachment_content)),
        );
}

/// A `multipart/form-data` body with one `file` part.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file's bytes; its part's `filename` is kept (made safe) as metadata.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

fn multipart_error(e: &MultipartError) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::UnsupportedMediaType,
        other => ApiError::bad_request(
            "malformed_multipart",
            format!("The multipart body is malformed: {other}"),
        ),
    }
}

/// Upload a file to an order.
///
/// A `multipart/form-data` body with one part named `file`, streamed to storage while it is hashed:
/// memory stays flat whatever the size. Up to `MAX_UPLOAD_BYTES` (100 MiB by default); beyond it,
/// 413 and nothing is kept. The stored type is sniffed from the bytes, never taken from the
/// client; the filename is kept (without path or control characters, at most 255 characters) as
/// metadata only. Attach the file to a message or a delivery within 24 hours, or it is deleted.
///
/// An upload that sends nothing for `UPLOAD_IDLE_TIMEOUT` (30 s) is dropped with 408. Each user may
/// upload `UPLOADS_PER_USER_PER_HOUR` (100) files an hour (429 beyond); each instance takes
/// `MAX_CONCURRENT_UPLOADS` (16) at once (503 with `Retry-After` beyond).
#[utoipa::path(post, path = "/v1/orders/{id}/attachments", tag = "messages", operation_id = "uploadAttachment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = AttachmentResponse, headers(("Location" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 408, response = docs::RequestTimeout),
        (status = 413, response = docs::PayloadTooLarge),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
async fn upload_attachment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let scope = db::attachments::Scope::Order(id.into_inner().0);
    receive(&state, &caller, scope, form).await
}

/// Streams the one `file` part of an upload into storage, for an order or a ticket.
pub(crate) async fn receive(
    state: &AppState,
    caller: &AuthUser,
    scope: db::attachments::Scope,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    state.creation_limits.uploads.check(&caller.id)?;
    // Each upload in flight holds a few MiB of parts: a bounded number at once.
    let _slot = state.uploads.try_acquire().map_err(|_| ApiError::Busy {
        retry_after_secs: 5,
    })?;
    if let Some(field) = form.try_next().await.map_err(|e| multipart_error(&e))? {
        if field.name() != Some("file") {
            // Not read past: a part nobody asked for could be as large as the sender likes.
            let name: String = field.name().unwrap_or_default().chars().take(64).collect();
            return Err(ApiError::validation(
                &name,
                "unknown_field",
                "the only part is `file`",
            ));
        }
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let upload = app::attachments::Upload {
            filename,
            bytes: field.map(|chunk| chunk.map_err(|e| e.to_string())),
        };
        let row = app::attachments::upload(
            &state.pool,
            &state.storage,
            viewer(caller),
            scope,
            upload,
            &state.settings.files,
        )
        .await?;
        // A part after the file is as unknown as one before it: the upload is taken back.
        let refusal = match form.try_next().await {
            Ok(None) => None,
            Ok(Some(field)) => {
                let name: String = field.name().unwrap_or_default().chars().take(64).collect();
                Some(ApiError::validation(
                    &name,
                    "unknown_field",
                    "the only part is `file`",
                ))
            }
            Err(e) => Some(multipart_error(&e)),
        };
        if let Some(refusal) = refusal {
            app::attachments::discard(&state.pool, &state.storage, row.id).await;
            return Err(refusal);
        }
        let response = AttachmentResponse::from(row);
        return Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/v1/attachments/{}", response.id)))
            .json(response));
    }
    Err(ApiError::validation(
        "file",
        "required",
        "send the file in a part named `file`",
    ))
}

/// A file's metadata.
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "messages", operation_id = "getAttachment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file's metadata", body = AttachmentResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_attachment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<AttachmentId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = app::attachments::visible(&mut conn, viewer(&caller), id.into_inner().0).await?;
    Ok(HttpResponse::Ok().json(AttachmentResponse::from(row)))
}

/// The longest `Range` header read (as the document states).
pub const MAX_RANGE_HEADER: usize = 200;

/// A range that asks for nothing the file has.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A single `Range: bytes=…` request resolved against the file's size: `Ok(None)` for the whole
/// file (no header, or a form this server serves whole, as several ranges), `Err` when it asks for
/// nothing the file has (416).
pub fn byte_range(
    header: Option<&str>,
    size: u64,
) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (start, end) = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(s), Some(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
        (Some(s), None) if end.is_empty() => (s, size.saturating_sub(1)),
        (None, Some(n)) if start.is_empty() && n > 0 => {
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if size == 0 || start >= size {
        return Err(Unsatisfiable);
    }
    Ok(Some(start..end + 1))
}

/// `attachment; filename*=UTF-8''…`: the safe filename, percent-encoded, so no character of it can
/// break out of the header.
fn content_disposition(filename: &str) -> String {
    let encoded: String = filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename*=UTF-8''{encoded}")
}

/// Download a file.
///
/// The bytes as uploaded, streamed, with `Content-Disposition: attachment`, `ETag` (the SHA-256),
/// `Accept-Ranges: bytes` and one `Range` honoured per request (206 with `Content-Range`; 416 when
/// it lies past the end). Served with `X-Content-Type-Options: nosniff` and
/// `Content-Security-Policy: sandbox`, so a file can never run as a page of this API.
#[utoipa::path(get, path = "/v1/attachments/{id}/content", tag = "messages", operation_id = "getAttachmentContent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attachment id"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "The file, as the type sniffed at upload (`content_type` of its metadata)", content_type = "*/*", body = Vec<u8>,
            headers(("Content-Disposition" = String), ("ETag" = String), ("Content-Length" = i64))),
        (status = 206, description = "The requested range", content_type = "*/*", body = Vec<u8>,
            headers(("Content-Range" = String), ("Content-Length" = i64))),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 416, description = "The range lies past the end of the file",
            body = crate::http::error::ProblemDetails, content_type = "application/problem+json"),
    ))]
async fn get_attachment_content(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<AttachmentId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = app::attachments::visible(&mut conn, viewer(&caller), id.into_inner().0).await?;
    drop(conn);
    let size = u64::try_from(row.size).unwrap_or_default();
    let etag = format!(
        "\"{}\"",
        row.sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if req
        .headers()
        .get(header::RANGE)
        .is_some_and(|v| v.len() > MAX_RANGE_HEADER)
    {
        return Err(ApiError::bad_request(
            "invalid_range",
            format!("The Range header is limited to {MAX_RANGE_HEADER} characters."),
        ));
    }
    let header_of = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if header_of(header::IF_NONE_MATCH).is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let range = byte_range(header_of(header::RANGE), size)
        .map_err(|Unsatisfiable| ApiError::RangeNotSatisfiable { size })?;
    let bytes = state
        .storage
        .get(row.id, range.clone())
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::from(e).context("reading a stored file")))?;
    let mut response = match &range {
        Some(r) => {
            let mut res = HttpResponse::PartialContent();
            res.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ));
            res
        }
        None => HttpResponse::Ok(),
    };
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    Ok(response
        .insert_header((header::CONTENT_TYPE, row.content_type.as_str()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&row.filename),
        ))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .no_chunking(length)
        .streaming(bytes.map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))))
}

#[cfg(test)]
mod tests {
    use super::{byte_range, Unsatisfiable};

    #[test]
    fn ranges_resolve_against_the_size() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-3"), 10), Ok(Some(0..4)));
        assert_eq!(byte_range(Some("bytes=5-"), 10), Ok(Some(5..10)));
        assert_eq!(byte_range(Some("bytes=-3"), 10), Ok(Some(7..10)));
        assert_eq!(byte_range(Some("bytes=8-100"), 10), Ok(Some(8..10)));
        assert_eq!(byte_range(Some("bytes=10-"), 10), Err(Unsatisfiable));
        assert_eq!(byte_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(byte_range(Some("items=0-1"), 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=5-2"), 10), Ok(None));
    }
}
