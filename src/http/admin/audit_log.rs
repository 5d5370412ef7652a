//! The audit log, read-only: no route changes or deletes an entry, and the table refuses it.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::StaffCaller;
use crate::db::{self, audit::AuditRow, audit::Filter};
use crate::domain::audit::Action;
use crate::domain::ids::{AuditEntryId, UserId};
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::optional_strict_uuid;
use crate::http::pagination::{self, Page};
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(list_audit_log), components(schemas(AuditEntry, Action)))]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/audit-log").route(web::get().to(list_audit_log)));
}

/// One admin action.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-e000-7c41-9a0e-2f1b7c9d8e50",
    "actor_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e07", "action": "user.disabled",
    "target_type": "user", "target_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09",
    "before": {"disabled_at": null, "version": 2},
    "after": {"disabled_at": "2026-11-29T12:00:00Z", "version": 3, "reason": "Fraud"},
    "request_id": "0193a0a4-e000-7c41-9a0e-2f1b7c9d8e51", "created_at": "2026-11-29T12:00:00Z"}))]
pub struct AuditEntry {
    pub id: Uuid,
    /// The team member who acted.
    pub actor_id: Uuid,
    pub action: Action,
    /// `ticket`, `user`, `order`, `review` or `delivery`.
    pub target_type: String,
    pub target_id: Uuid,
    /// What changed, as it was.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// What changed, as it became (with the reason given).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The `X-Request-Id` of the request that acted.
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id.into(),
            actor_id: r.actor_id.into(),
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: r.before,
            after: r.after,
            request_id: r.request_id,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this team member's actions.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    actor_id: Option<Uuid>,
    /// Only actions on this ticket, user, order, review or delivery.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    target_id: Option<Uuid>,
    /// Only this action.
    #[param(value_type = Option<Action>)]
    action: Option<String>,
    /// Only entries from this moment on.
    since: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters).
    cursor: Option<String>,
}

/// What the team did, newest first, with filters (admins only).
#[utoipa::path(get, path = "/v1/admin/audit-log", tag = "admin", operation_id = "listAuditLog",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<AuditEntry>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_audit_log(
    state: web::Data<AppState>,
    _staff: StaffCaller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let action = q
        .action
        .as_deref()
        .map(|a| {
            Action::parse(a).ok_or_else(|| {
                ApiError::validation(
                    "action",
                    "unknown_action",
                    format!("`{a}` is not an audited action"),
                )
            })
        })
        .transpose()?;
    let since = q
        .since
        .map(crate::domain::time::bounded)
        .transpose()
        .map_err(|e| crate::http::error::invalid_field("since", e))?;
    let filter = Filter {
        actor: q.actor_id.map(UserId::from_uuid),
        target: q.target_id,
        action,
        since,
    };
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode_opt::<pagination::IdCursor>(q.cursor.as_deref())?
        .map(|c| AuditEntryId::from_uuid(c.i));
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::audit::list(&mut conn, &filter, before, limit + 1).await?;
    let (rows, next_cursor) =
        pagination::page(rows, limit, |r| pagination::IdCursor { i: r.id.into() });
    Ok(HttpResponse::Ok().json(Page {
        data: rows.into_iter().map(AuditEntry::from).collect::<Vec<_>>(),
        next_cursor,
    }))
}
