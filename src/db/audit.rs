//! The audit log: append-only (a trigger refuses changes), written in the transaction of the action.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::audit_log;
use crate::domain::audit::Action;
use crate::domain::ids::{AuditEntryId, UserId};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: AuditEntryId,
    pub actor_id: UserId,
    pub action: Action,
    pub target_type: String,
    pub target_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, row: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Which entries a page shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor: Option<UserId>,
    pub target: Option<Uuid>,
    pub action: Option<Action>,
    pub since: Option<DateTime<Utc>>,
}

/// One page, newest first, after the cursor `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    f: &Filter,
    before: Option<AuditEntryId>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(a) = f.actor {
        q = q.filter(audit_log::actor_id.eq(a));
    }
    if let Some(t) = f.target {
        q = q.filter(audit_log::target_id.eq(t));
    }
    if let Some(a) = f.action {
        q = q.filter(audit_log::action.eq(a));
    }
    if let Some(s) = f.since {
        q = q.filter(audit_log::created_at.ge(s));
    }
    if let Some(b) = before {
        q = q.filter(audit_log::id.lt(b));
    }
    q.order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
        .await
}
