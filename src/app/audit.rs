//! Recording what the support team does: one entry per admin action, written in the action's own
//! transaction so that an action and its record stand or fall together.

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::db::audit::{self, AuditRow};
use crate::domain::audit::Action;
use crate::domain::ids::{AuditEntryId, UserId};

/// A member of the support team acting through `/v1/admin`, and the request they act in.
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: UserId,
    pub request_id: Option<String>,
}

impl Staff {
    /// The team member as a viewer of orders and tickets (admins see every one).
    pub fn viewer(&self) -> crate::db::orders::Viewer {
        crate::db::orders::Viewer {
            user_id: self.id,
            is_admin: true,
        }
    }
}

/// One audit entry: what `staff` did to `target`, with its state before and after.
pub async fn record<B: Serialize, A: Serialize>(
    conn: &mut AsyncPgConnection,
    staff: &Staff,
    action: Action,
    target: Uuid,
    before: Option<&B>,
    after: Option<&A>,
) -> QueryResult<()> {
    let json = |v: Option<serde_json::Result<serde_json::Value>>| v.and_then(Result::ok);
    let row = AuditRow {
        id: AuditEntryId::new(),
        actor_id: staff.id,
        action,
        target_type: action.target_type().to_string(),
        target_id: target,
        before: json(before.map(serde_json::to_value)),
        after: json(after.map(serde_json::to_value)),
        request_id: staff.request_id.clone(),
        created_at: chrono::Utc::now(),
    };
    audit::insert(conn, &row).await
}
