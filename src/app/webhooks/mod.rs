//! Integrators' webhook endpoints: creating (the URL checked against where it resolves), changing,
//! rotating the signing secret, deleting. Delivery is the worker's ([`deliver`]).

use chrono::{Duration as ChronoDuration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::auth::secret;
use crate::db::webhooks::{self as db, EndpointChanges, EndpointRow, NewEndpoint};
use crate::db::Update;
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
pub async fn create(
    conn: &mut AsyncPgConnection,
    resolver: &Resolver,
    owner: UserId,
    request: NewEndpointRequest,
) -> Result<EndpointRow, ApiError> {
    check_destination(resolver, &request.url).await?;
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
    conn: &mut AsyncPgConnection,
    resolver: &Resolver,
    owner: UserId,
    id: WebhookEndpointId,
    patch: EndpointPatch,
    if_match: Option<i64>,
) -> Result<EndpointRow, ApiError> {
    if let Some(url) = &patch.url {
        // Someone else's id learns nothing from a URL error: look the endpoint up first.
        db::find(conn, owner, id)
            .await?
            .ok_or(ApiError::NotFound("webhook endpoint"))?;
        check_destination(resolver, url).await?;
    }
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
    db::rotate(conn, owner, id, new_secret(), until)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))
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
