//! Integrators' webhook endpoints and their delivery log. Every read and write of an endpoint is
//! scoped to its owner in the statement itself; the worker's queries are in [`deliveries`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;
use super::schema::{webhook_attempts, webhook_endpoints};
use super::Update;

mod deliveries;

use crate::domain::ids::{UserId, WebhookEndpointId};
pub use deliveries::*;

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub owner_id: UserId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint {
    pub id: WebhookEndpointId,
    pub owner_id: UserId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub secret: String,
}

/// What an owner may change. `enabled` goes with `disabled_reason` (see [`EndpointChanges::enable`]).
#[derive(AsChangeset, Default)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub disabled_reason: Option<Option<String>>,
    /// Cleared on re-enabling: the failures that disabled it are behind.
    pub failing_since: Option<Option<DateTime<Utc>>>,
}

impl EndpointChanges {
    pub fn enable(&mut self, on: bool) {
        self.enabled = Some(on);
        self.disabled_reason = Some((!on).then(|| "owner".to_string()));
        if on {
            self.failing_since = Some(None);
        }
    }
}

/// Counts the owner's endpoints with the owner's row locked, so two concurrent creations cannot
/// both pass the limit.
pub async fn lock_count(conn: &mut AsyncPgConnection, owner: UserId) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: N = prepared(
        "SELECT (SELECT count(*) FROM webhook_endpoints WHERE owner_id = u.id) AS n \
         FROM users u WHERE u.id = $1 FOR NO KEY UPDATE",
    )
    .bind::<SqlUuid, _>(owner)
    .get_result(conn)
    .await?;
    Ok(row.n)
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewEndpoint) -> QueryResult<EndpointRow> {
    diesel::insert_into(webhook_endpoints::table)
        .values(new)
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::owner_id.eq(owner))
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The owner's endpoints, newest first, before `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    before: Option<WebhookEndpointId>,
    limit: i64,
) -> QueryResult<Vec<EndpointRow>> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::owner_id.eq(owner))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_endpoints::id.lt(before));
    }
    query.load(conn).await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
    changes: EndpointChanges,
    expected_version: Option<i64>,
) -> QueryResult<Update<EndpointRow>> {
    let mut target = diesel::update(webhook_endpoints::table)
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::owner_id.eq(owner))
        .into_boxed();
    if let Some(v) = expected_version {
        target = target.filter(webhook_endpoints::version.eq(v));
    }
    let updated = target
        .set((
            changes,
            webhook_endpoints::version.eq(webhook_endpoints::version + 1),
            webhook_endpoints::updated_at.eq(diesel::dsl::now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    Ok(match updated {
        Some(row) => Update::Updated(row),
        None => match find(conn, owner, id).await? {
            Some(row) => Update::Stale(row.version),
            None => Update::NotFound,
        },
    })
}

/// Replaces the secret; the old one keeps signing alongside until `overlap_until`.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
    secret: String,
    overlap_until: DateTime<Utc>,
) -> QueryResult<Option<EndpointRow>> {
    use webhook_endpoints::dsl as e;
    diesel::update(
        e::webhook_endpoints
            .filter(e::id.eq(id))
            .filter(e::owner_id.eq(owner)),
    )
    // One rotation at a time: a second would cut the first old secret off at once.
    .filter(
        e::previous_secret_expires_at
            .is_null()
            .or(e::previous_secret_expires_at.le(diesel::dsl::now)),
    )
    .set((
        e::previous_secret.eq(e::secret.nullable()),
        e::previous_secret_expires_at.eq(overlap_until),
        e::secret.eq(secret),
        e::version.eq(e::version + 1),
        e::updated_at.eq(diesel::dsl::now),
    ))
    .returning(EndpointRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
) -> QueryResult<bool> {
    let n = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .filter(webhook_endpoints::owner_id.eq(owner)),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub attempt: i32,
    pub succeeded: bool,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

/// An endpoint's attempts, newest first (the endpoint already known to be the caller's).
pub async fn attempts(
    conn: &mut AsyncPgConnection,
    endpoint: WebhookEndpointId,
    before: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<AttemptRow>> {
    let mut query = webhook_attempts::table
        .filter(webhook_attempts::endpoint_id.eq(endpoint))
        .select(AttemptRow::as_select())
        .order(webhook_attempts::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_attempts::id.lt(before));
    }
    query.load(conn).await
}
