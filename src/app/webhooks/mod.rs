//! Integrators' webhook endpoints: creating (the URL checked against where it resolves), changing,
//! rotating the signing secret, deleting. Delivery is the worker's ([`deliver`]).

use chrono::{Duration as ChronoDuration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::auth::secret;
use crate::db::webhooks::{self as db, EndpointChanges, EndpointRow, NewEndpoint};
use crate::db::{self as database, DbPool, Update};
use crate::domain::ids::{UserId, WebhookEndpointId};
use crate::domain::webhooks::{WebhookUrl, MAX_ENDPOINTS_PER_USER, ROTATION_OVERLAP_HOURS};
use crate::error::ApiError;
use crate::webhook_client::Resolver;

pub mod deliver;

/// A signing secret: `whsec_` and 256 random bits.
fn new_secret() -> String {
    format!("whsec_{}", secret::generate())
}

/// Refuses a URL whose host resolves to an address webhooks may not reach (422 on `url`).
pub async fn check_destination(resolver: &Resolver, url: &WebhookUrl) -> Result<(), ApiError> {
    resolver
        .check(url)
        .await
        .map_err(|e| ApiError::validation("url", e.code, e.message))
}

pub struct NewEndpointRequest {
    pub url: WebhookUrl,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Creates an endpoint (at most [`MAX_ENDPOINTS_PER_USER`] each); the secret is in the row.
/// The URL is checked before a connection is taken: a slow lookup holds no database connection.
pub async fn create(
    pool: &DbPool,
    resolver: &Resolver,
    owner: UserId,
    request: NewEndpointRequest,
) -> Result<EndpointRow, ApiError> {
    check_destination(resolver, &request.url).await?;
    let mut conn = database::connection(pool).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        if db::lock_count(conn, owner).await? >= MAX_ENDPOINTS_PER_USER {
            return Err(ApiError::conflict(
                "too_many_webhook_endpoints",
                "Too many webhook endpoints",
                format!("An account may have {MAX_ENDPOINTS_PER_USER} webhook endpoints; delete one first."),
            ));
        }
        let row = db::insert(
            conn,
            NewEndpoint {
                id: WebhookEndpointId::new(),
                owner_id: owner,
                url: request.url.as_str().to_string(),
                description: request.description,
                events: request.events,
                secret: new_secret(),
            },
        )
        .await?;
        Ok(row)
    })
    .await
}

/// What an owner asks to change; `None` leaves a field as it is.
pub struct EndpointPatch {
    pub url: Option<WebhookUrl>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

pub async fn update(
    pool: &DbPool,
    resolver: &Resolver,
    owner: UserId,
    id: WebhookEndpointId,
    patch: EndpointPatch,
    if_match: Option<i64>,
) -> Result<EndpointRow, ApiError> {
    if let Some(url) = &patch.url {
        // Someone else's id learns nothing from a URL error: look the endpoint up first.
        let mut conn = database::connection(pool).await?;
        db::find(&mut conn, owner, id)
            .await?
            .ok_or(ApiError::NotFound("webhook endpoint"))?;
        drop(conn);
        check_destination(resolver, url).await?;
    }
    let conn = &mut database::connection(pool).await?;
    let mut changes = EndpointChanges {
        url: patch.url.map(|u| u.as_str().to_string()),
        description: patch.description,
        events: patch.events,
        ..EndpointChanges::default()
    };
    if let Some(on) = patch.enabled {
        changes.enable(on);
    }
    match db::update(conn, owner, id, changes, if_match).await? {
        Update::Updated(row) => Ok(row),
        Update::Stale(current_version) => Err(ApiError::PreconditionFailed { current_version }),
        Update::NotFound => Err(ApiError::NotFound("webhook endpoint")),
    }
}

/// A new secret; the old one keeps signing alongside it for [`ROTATION_OVERLAP_HOURS`].
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
) -> Result<EndpointRow, ApiError> {
    let until = Utc::now() + ChronoDuration::hours(ROTATION_OVERLAP_HOURS);
    if let Some(row) = db::rotate(conn, owner, id, new_secret(), until).await? {
        return Ok(row);
    }
    match db::find(conn, owner, id).await? {
        None => Err(ApiError::NotFound("webhook endpoint")),
        Some(row) => Err(ApiError::conflict(
            "rotation_in_progress",
            "A rotation is in progress",
            format!(
                "The previous secret still signs until {}; rotate again after that, or delete the endpoint and create a new one if a secret leaked.",
                row.previous_secret_expires_at.map(|t| t.to_rfc3339()).unwrap_or_default()
            ),
        )),
    }
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: WebhookEndpointId,
) -> Result<(), ApiError> {
    if db::delete(conn, owner, id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound("webhook endpoint"))
    }
}
