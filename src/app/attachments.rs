//! Files on an order: stored while they stream in (hashed, bounded, their type sniffed), read back
//! by the order's participants (and admins), and swept when nobody takes them within a day.

use bytes::Bytes;
use diesel_async::AsyncPgConnection;
use futures_util::Stream;

use super::messages::order_closed;
use crate::db::attachments::{self, AttachmentRow, Scope};
use crate::db::orders;
use crate::domain::ids::AttachmentId;
use crate::domain::messages::may_post;
use crate::error::ApiError;
use crate::storage::{Storage, UploadError};

/// An upload as it arrives: the client's filename and the bytes.
pub struct Upload<S> {
    pub filename: Option<String>,
    pub bytes: S,
}

/// Stores an upload to an open order the caller takes part in (or administers), or to a ticket
/// they may write on. Past `max` bytes
/// the answer is 413 and neither the object nor a row is left behind. No pool connection is held
/// while the bytes stream in (a slow client must not starve everyone else of connections).
pub async fn upload<S, E>(
    pool: &crate::db::DbPool,
    storage: &Storage,
    caller: orders::Viewer,
    scope: Scope,
    upload: Upload<S>,
    limits: &crate::config::FileSettings,
) -> Result<AttachmentRow, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    {
        let mut conn = crate::db::connection(pool).await?;
        match scope {
            Scope::Order(order_id) => {
                let order = super::orders::visible(&mut conn, order_id, caller).await?;
                if !may_post(order.status()) {
                    return Err(order_closed(order.status()));
                }
            }
            Scope::Ticket(ticket) => {
                super::support::may_add_files(&mut conn, caller, ticket).await?;
            }
        }
    }
    let id = AttachmentId::new();
    let (max, idle) = (limits.max_upload_bytes, limits.idle_timeout);
    let stored = storage
        .put(id, upload.bytes, max, idle)
        .await
        .map_err(|e| match e {
            UploadError::TooLarge(_) => ApiError::PayloadTooLarge,
            UploadError::Idle => ApiError::RequestTimeout,
            UploadError::Client(detail) => ApiError::bad_request("upload_interrupted", detail),
            UploadError::Storage(e) => {
                ApiError::Internal(anyhow::Error::from(e).context("storing an upload"))
            }
        })?;
    let row = AttachmentRow {
        id,
        order_id: match scope {
            Scope::Order(o) => Some(o),
            Scope::Ticket(_) => None,
        },
        ticket_id: match scope {
            Scope::Order(_) => None,
            Scope::Ticket(t) => Some(t),
        },
        support_message_id: None,
        uploaded_by: caller.user_id,
        filename: sanitize_filename(upload.filename.as_deref()),
        content_type: sniff(&stored.head).to_string(),
        size: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256,
        message_id: None,
        delivery_id: None,
        created_at: chrono::Utc::now(),
    };
    let inserted = match crate::db::connection(pool).await {
        Ok(mut conn) => attachments::insert(&mut conn, &row)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = inserted {
        // The bytes are of no use without their row.
        let _ = storage.delete(id).await;
        return Err(e);
    }
    Ok(row)
}

/// The attachment if the caller may see its order or ticket; 404 otherwise, whether absent or not
/// theirs.
pub async fn visible(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: AttachmentId,
) -> Result<AttachmentRow, ApiError> {
    let row = attachments::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    let seen = match (row.order_id, row.ticket_id) {
        (Some(order), _) => orders::find_visible(conn, order, caller).await?.is_some(),
        (None, Some(ticket)) => super::support::sees(conn, caller, ticket).await?,
        (None, None) => false,
    };
    if !seen {
        return Err(ApiError::NotFound("attachment"));
    }
    Ok(row)
}

/// The type of the bytes, from their signature; what is not recognised is opaque bytes.
pub fn sniff(head: &[u8]) -> &'static str {
    if head.is_empty() {
        return "application/octet-stream";
    }
    infer::get(head).map_or_else(
        || {
            if std::str::from_utf8(head).is_ok() {
                "text/plain"
            } else {
                "application/octet-stream"
            }
        },
        |t| t.mime_type(),
    )
}

/// A filename safe to show and to put in `Content-Disposition`: its last path segment, without
/// control characters, at most 255 characters; `file` when nothing is left.
pub fn sanitize_filename(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default();
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_or_invisible(*c))
        .take(255)
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    if clean.is_empty() {
        "file".into()
    } else {
        clean
    }
}

/// Direction overrides and invisible format characters: they let `invoice\u{202E}gpj.exe` show as
/// `invoiceexe.jpg`.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Takes back an upload the request turned out to be wrong about (a part after the file): object
/// first, then row. If either step fails, the unreferenced-file sweep finishes the job.
pub async fn discard(pool: &crate::db::DbPool, storage: &Storage, id: AttachmentId) {
    if let Err(e) = storage.delete(id).await {
        tracing::warn!(attachment = %id, error = %e, "could not delete a refused upload; the sweep will");
        return;
    }
    if let Ok(mut conn) = crate::db::connection(pool).await {
        if let Err(e) = attachments::delete(&mut conn, id).await {
            tracing::warn!(attachment = %id, error = %e, "could not delete a refused upload's row; the sweep will");
        }
    }
}

/// Deletes up to `limit` attachments nobody took within `ttl`: object first, then row, so a failure
/// leaves a row to retry rather than an object nobody tracks. Returns how many went.
pub async fn sweep(
    conn: &mut AsyncPgConnection,
    storage: &Storage,
    ttl: std::time::Duration,
    limit: i64,
) -> anyhow::Result<usize> {
    use diesel_async::AsyncConnection;
    let before = chrono::Utc::now() - crate::config::to_chrono(ttl);
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        let mut swept = 0;
        for id in attachments::unreferenced(conn, before, limit).await? {
            if let Err(e) = storage.delete(id).await {
                tracing::warn!(attachment = %id, error = %e, "could not delete an unreferenced file");
                continue;
            }
            swept += attachments::delete(conn, id).await?;
        }
        Ok(swept)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(sanitize_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(
            sanitize_filename(Some("C:\\Users\\ada\\logo.png")),
            "logo.png"
        );
        assert_eq!(sanitize_filename(Some("a\u{0}b\nc.txt")), "abc.txt");
        assert_eq!(
            sanitize_filename(Some("invoice\u{202E}gpj.exe")),
            "invoicegpj.exe"
        );
        assert_eq!(sanitize_filename(Some("..")), "file");
        assert_eq!(sanitize_filename(None), "file");
        assert_eq!(sanitize_filename(Some(&"x".repeat(300))).len(), 255);
    }

    #[test]
    fn types_come_from_the_bytes() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
        ];
        assert_eq!(sniff(&png), "image/png");
        assert_eq!(sniff(b"hello"), "text/plain");
        assert_eq!(sniff(&[0xff, 0xfe, 0x00, 0x9f]), "application/octet-stream");
    }
}
