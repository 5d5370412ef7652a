//! The worker's webhook channel: claims due deliveries under a lease, sends them (a batch at once,
//! with no transaction open), and settles each in one transaction with its attempt record: delivered;
//! due again after a backoff; or, once the delivery is older than `WEBHOOK_DISABLE_AFTER`, given up.
//! An endpoint that has failed for that long is disabled, and its owner hears of it through an event
//! written in the same transaction. At least once: receivers de-duplicate on the event id.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::Rng;

use crate::config::WebhookSettings;
use crate::db::webhooks::{self as db, Claimed, NewAttempt, Settled};
use crate::db::{self as database, outbox, DbPool};
use crate::domain::events::{self, Event, WebhookEndpointDisabled};
use crate::domain::notify::AfterFailure;
use crate::domain::signature;
use crate::webhook_client::{Attempt, WebhookClient};

/// Deliveries claimed per round.
pub const BATCH: i64 = 20;

/// The headers a delivery carries besides its content type.
pub const SIGNATURE_HEADER: &str = "CreateSpace-Signature";
pub const EVENT_ID_HEADER: &str = "CreateSpace-Event-Id";
pub const EVENT_TYPE_HEADER: &str = "CreateSpace-Event-Type";

/// Sends up to [`BATCH`] due deliveries; returns how many it claimed.
pub async fn deliver_due(
    pool: &DbPool,
    client: &WebhookClient,
    settings: &WebhookSettings,
) -> anyhow::Result<usize> {
    let claimed = {
        let mut conn = database::connection(pool).await?;
        db::claim_due(&mut conn, BATCH, settings.lease).await?
    };
    let n = claimed.len();
    if n == 0 {
        return Ok(0);
    }
    // No connection is held while receivers take their time, and each delivery is settled as
    // soon as its answer is in, whatever the others are doing.
    let mut sending: futures_util::stream::FuturesUnordered<_> = claimed
        .into_iter()
        .map(async |d| {
            let attempt = send(client, &d).await;
            (d, attempt)
        })
        .collect();
    while let Some((delivery, attempt)) = futures_util::StreamExt::next(&mut sending).await {
        let settled = async {
            let mut conn = database::connection(pool).await?;
            settle(&mut conn, settings, &delivery, &attempt).await
        };
        // One delivery that cannot be settled (its endpoint deleted meanwhile) leaves the rest
        // of the batch to settle; it becomes due again when its lease ends.
        if let Err(e) = settled.await {
            tracing::warn!(error = ?e, delivery_id = %delivery.id, "settling a webhook delivery failed");
        }
    }
    Ok(n)
}

/// The body a receiver gets: the event's envelope, byte for byte what is signed.
pub fn body(d: &Claimed) -> Vec<u8> {
    events::envelope(d.event_id, &d.event_type, d.event_created_at, &d.payload).into_bytes()
}

async fn send(client: &WebhookClient, d: &Claimed) -> Attempt {
    let body = body(d);
    let mut secrets = vec![d.secret.as_str()];
    secrets.extend(d.previous_secret.as_deref());
    let signature = signature::sign_all(&body, &secrets, Utc::now().timestamp());
    let headers = [
        (SIGNATURE_HEADER, signature),
        (EVENT_ID_HEADER, d.event_id.to_string()),
        (EVENT_TYPE_HEADER, d.event_type.clone()),
    ];
    client.post(&d.url, &headers, body).await
}

async fn settle(
    conn: &mut AsyncPgConnection,
    settings: &WebhookSettings,
    d: &Claimed,
    attempt: &Attempt,
) -> anyhow::Result<()> {
    let succeeded = attempt.succeeded();
    let outcome = if succeeded {
        Settled::Delivered
    } else {
        let age = (Utc::now() - d.queued_at).to_std().unwrap_or_default();
        match settings
            .retry
            .after_failure(d.attempts, rand::thread_rng().gen())
        {
            AfterFailure::RetryIn(wait) if age < settings.disable_after => {
                Settled::RetryAt(Utc::now() + chrono::Duration::from_std(wait)?)
            }
            _ => Settled::Failed,
        }
    };
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        db::record_attempt(
            conn,
            NewAttempt {
                delivery: d,
                succeeded,
                status_code: attempt.status.map(i32::from),
                latency_ms: attempt.latency_ms,
                response_excerpt: attempt.excerpt.clone(),
                error: attempt.error.clone(),
            },
        )
        .await?;
        if !db::settle(conn, d, outcome).await? {
            // The lease ran out and another worker holds the delivery now.
            return Ok(());
        }
        if succeeded {
            db::mark_healthy(conn, d.endpoint_id).await?;
            return Ok(());
        }
        let gave_up = (outcome == Settled::Failed).then_some(d.id);
        let disabled =
            db::mark_failing(conn, d.endpoint_id, settings.disable_after, gave_up).await?;
        if let Some(endpoint) = disabled {
            db::fail_pending(conn, d.endpoint_id).await?;
            let event = Event::WebhookEndpointDisabled(WebhookEndpointDisabled {
                endpoint_id: endpoint.id.as_uuid(),
                owner_id: endpoint.owner_id,
                url: endpoint.url.clone(),
                failing_since: endpoint.failing_since.unwrap_or_else(Utc::now),
            });
            outbox::insert(conn, &event).await?;
            tracing::warn!(endpoint_id = %endpoint.id, "webhook endpoint disabled after failing");
        }
        Ok(())
    })
    .await
}
