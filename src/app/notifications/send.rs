//! Sending due email deliveries. Each is claimed under a lease (an attempt), sent with no database
//! transaction open, then marked delivered, retried later with backoff, or dead after the last
//! attempt. A crash between sending and marking sends the mail again once the lease ends: at least
//! once, with the event id in the Message-ID for receivers to tell.

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use rand::Rng;
use uuid::Uuid;

use crate::config::NotificationSettings;
use crate::db::notifications::{self as db, deliveries, deliveries::Claimed};
use crate::domain::events::{Event, MessagePosted};
use crate::domain::notify::content::{self, Recipient};
use crate::domain::notify::{AfterFailure, MESSAGE_MAIL_WINDOW};
use crate::mail::Mailer;

/// Deliveries claimed per round.
pub const BATCH: i64 = 20;

/// Why a mail was not sent.
enum Failure {
    /// Worth trying again (the server is down, a timeout).
    Transient(anyhow::Error),
    /// Will never work (the recipient or the event is gone): dead at once.
    Permanent(String),
}

/// Sends up to [`BATCH`] due mails; returns how many deliveries it settled.
pub async fn send_due(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    settings: &NotificationSettings,
) -> anyhow::Result<usize> {
    let claimed = deliveries::claim_due(conn, BATCH, settings.lease).await?;
    let n = claimed.len();
    for delivery in claimed {
        send_one(conn, mailer, settings, delivery).await?;
    }
    Ok(n)
}

async fn send_one(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    settings: &NotificationSettings,
    delivery: Claimed,
) -> anyhow::Result<()> {
    let mut batch = vec![delivery.clone()];
    if let Some(order) = delivery.batch_order_id {
        // One new-message mail per order and recipient per window: later ones wait and go together.
        let last = deliveries::last_batch_sent(conn, delivery.recipient_id, order).await?;
        if let Some(free_at) = last.map(|at| at + crate::config::to_chrono(MESSAGE_MAIL_WINDOW)) {
            if free_at > Utc::now() {
                deliveries::reschedule(conn, &[delivery.id], free_at, None, true).await?;
                return Ok(());
            }
        }
        let recipient = delivery.recipient_id;
        batch.extend(
            deliveries::claim_batch(conn, recipient, order, delivery.id, settings.lease).await?,
        );
    }
    let ids: Vec<Uuid> = batch.iter().map(|d| d.id).collect();
    match compose_and_send(conn, mailer, settings, &batch).await {
        Ok(()) => {
            deliveries::mark_delivered(conn, &ids).await?;
            let events: Vec<Uuid> = batch.iter().map(|d| d.event_id).collect();
            deliveries::purge_secrets(conn, &events).await?;
        }
        Err(Failure::Permanent(why)) => {
            tracing::warn!(delivery_id = %delivery.id, reason = %why, "notification cannot be delivered");
            deliveries::mark_dead(conn, &ids, &why).await?;
        }
        Err(Failure::Transient(e)) => {
            let error = format!("{e:#}");
            let jitter = rand::thread_rng().gen::<f64>();
            match settings.retry.after_failure(delivery.attempts, jitter) {
                AfterFailure::RetryIn(wait) => {
                    tracing::info!(delivery_id = %delivery.id, attempts = delivery.attempts, error = %error, "mail not sent; will retry");
                    let at = Utc::now() + crate::config::to_chrono(wait);
                    deliveries::reschedule(conn, &ids, at, Some(&error), false).await?;
                }
                AfterFailure::Dead => {
                    tracing::warn!(delivery_id = %delivery.id, attempts = delivery.attempts, error = %error, "mail not sent after the last attempt: dead letter");
                    deliveries::mark_dead(conn, &ids, &error).await?;
                }
            }
        }
    }
    Ok(())
}

async fn compose_and_send(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    settings: &NotificationSettings,
    batch: &[Claimed],
) -> Result<(), Failure> {
    let first = &batch[0];
    let transient = |e: diesel::result::Error| Failure::Transient(e.into());
    let person = db::recipients(conn, &[first.recipient_id])
        .await
        .map_err(transient)?;
    let Some(person) = person
        .into_iter()
        .next()
        .filter(|p| p.disabled_at.is_none())
    else {
        return Err(Failure::Permanent(
            "the recipient's account is gone or disabled".into(),
        ));
    };
    let recipient = Recipient::from(person);
    let events: Vec<Event> = batch
        .iter()
        .filter_map(|d| Event::from_stored(&d.event_type, &d.payload))
        .collect();
    let Some(event) = events.first() else {
        return Err(Failure::Permanent(format!(
            "unknown event `{}`",
            first.event_type
        )));
    };
    let order = match event.aggregate() {
        crate::domain::events::Aggregate::Order(id) => {
            db::order_facts(conn, id).await.map_err(transient)?
        }
        crate::domain::events::Aggregate::User(_) => None,
    };
    let ctx = content::Context {
        recipient: &recipient,
        order: order.as_ref(),
        base_url: &settings.public_base_url,
    };
    let messages: Vec<MessagePosted> = events
        .iter()
        .filter_map(|e| match e {
            Event::MessagePosted(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    let said = if messages.is_empty() {
        content::for_event(event, &ctx)
    } else {
        content::messages(&messages, &ctx)
    };
    let message_id = format!("{}.{}", first.event_id, recipient.id);
    let mail = mailer
        .compose(&recipient, &said, &message_id)
        .map_err(|e| Failure::Permanent(format!("{e:#}")))?;
    mailer.send(mail).await.map_err(Failure::Transient)
}
