//! The wire shapes of support tickets, for their users and for the team.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::app::support::Thread;
use crate::db::support::{MessageRow, TicketRow};
use crate::domain::ids::AttachmentId;
use crate::domain::support::{AuthorRole, TicketStatus};
use crate::http::attachments::AttachmentResponse;
use crate::http::extract::{optional_strict_uuid, StrictUuid};
use crate::http::schemas;

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "The delivered file does not open",
    "body": "The ZIP from the delivery says it is damaged.",
    "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03"}))]
pub struct CreateTicketRequest {
    #[schema(schema_with = schemas::title)]
    pub subject: String,
    #[schema(schema_with = schemas::message)]
    pub body: String,
    /// One of your orders, if the ticket is about one.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[schema(value_type = Option<Uuid>)]
    pub order_id: Option<Uuid>,
    /// Files you uploaded to that order (`POST /v1/orders/{id}/attachments`) and attached nowhere
    /// yet: they move to the ticket. Needs `order_id`; later files go to
    /// `POST /v1/support/tickets/{id}/attachments`. At most 20.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    pub attachment_ids: Option<Vec<StrictUuid<AttachmentId>>>,
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Here is a screenshot of the error.",
    "attachment_ids": ["0193a0a4-c000-7c41-9a0e-2f1b7c9d8e09"]}))]
pub struct TicketReplyRequest {
    #[schema(schema_with = schemas::message)]
    pub body: String,
    /// Files uploaded to this ticket and attached nowhere yet. At most 20.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    pub attachment_ids: Option<Vec<StrictUuid<AttachmentId>>>,
}

/// A ticket as its user sees it.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-d000-7c41-9a0e-2f1b7c9d8e40",
    "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03", "subject": "The delivered file does not open",
    "status": "waiting_on_user", "message_count": 2, "resolved_at": null, "version": 3,
    "created_at": "2026-11-29T10:00:00Z", "updated_at": "2026-11-29T11:00:00Z"}))]
pub struct TicketResponse {
    pub id: Uuid,
    pub order_id: Option<Uuid>,
    pub subject: String,
    /// `open` (with the team), `waiting_on_user`, `resolved` (a reply within 14 days reopens it),
    /// `closed` (final).
    pub status: TicketStatus,
    pub message_count: i32,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TicketResponse {
    pub fn new(t: &TicketRow, now: DateTime<Utc>) -> Self {
        TicketResponse {
            id: t.id.into(),
            order_id: t.order_id.map(Into::into),
            subject: t.subject.clone(),
            status: t.facts().effective_status(now),
            message_count: t.message_count,
            resolved_at: t.resolved_at,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A message on a ticket.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-d100-7c41-9a0e-2f1b7c9d8e41", "author_role": "support",
    "author_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e07", "internal": false,
    "body": "Could you send a screenshot of the error?", "attachments": [],
    "created_at": "2026-11-29T11:00:00Z"}))]
pub struct TicketMessageResponse {
    pub id: Uuid,
    /// `user` (the ticket's owner) or `support`.
    pub author_role: AuthorRole,
    pub author_id: Uuid,
    /// An internal note of the team (never shown to the user).
    pub internal: bool,
    pub body: String,
    pub attachments: Vec<AttachmentResponse>,
    pub created_at: DateTime<Utc>,
}

impl TicketMessageResponse {
    pub fn new(m: MessageRow, files: &[crate::db::attachments::AttachmentRow]) -> Self {
        TicketMessageResponse {
            id: m.id.into(),
            author_role: m.author_role,
            author_id: m.author_id.into(),
            internal: m.internal,
            body: m.body,
            attachments: files
                .iter()
                .filter(|f| f.support_message_id == Some(m.id))
                .cloned()
                .map(AttachmentResponse::from)
                .collect(),
            created_at: m.created_at,
        }
    }
}

/// A ticket with its messages, oldest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketResponse,
    pub messages: Vec<TicketMessageResponse>,
}

impl TicketDetail {
    pub fn new(t: Thread, now: DateTime<Utc>) -> Self {
        TicketDetail {
            ticket: TicketResponse::new(&t.ticket, now),
            messages: t
                .messages
                .into_iter()
                .map(|m| TicketMessageResponse::new(m, &t.files))
                .collect(),
        }
    }
}
