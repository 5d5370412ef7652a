//! Sending due email deliveries. Each is claimed under a lease (an attempt), sent with no database
//! transaction open, then marked delivered, retried later with backoff, or dead after the last
//! attempt. A crash between sending and marking sends the mail again once the lease ends: at least
//! once, with the event id in the Message-ID for receivers to tell.
//!
//! Every update after the claim is fenced by the attempt count the claim set: a worker whose lease
//! ran out (and whose rows another worker claimed since) changes nothing.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use rand::Rng;

use crate::config::NotificationSettings;
use crate::db::notifications::{self as db, deliveries, deliveries::Claimed};
use crate::domain::events::{Event, MessagePosted};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::notify::content::{self, Recipient};
use crate::domain::notify::{AfterFailure, MESSAGE_MAIL_WINDOW};
use crate::mail::Mailer;

/// Deliveries claimed per round.
pub const BATCH: i64 = 20;

/// Why a mail was not sent.
enum Failure {
    /// Worth trying again (the server is down, a timeout).
    Transient(anyhow::Error),
    /// Will never work (the recipient is gone, the event unknown): dead at once.
    Permanent(String),
    /// Nothing left to send: the token the mail carried was used or expired meanwhile.
    Superseded,
}

/// One mail to send: a single event, or the new messages of one order for one recipient.
type Mail = Vec<Claimed>;

/// Sends up to [`BATCH`] due mails; returns how many deliveries it settled.
pub async fn send_due(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    settings: &NotificationSettings,
) -> anyhow::Result<usize> {
    let claimed_at = Instant::now();
    let claimed = deliveries::claim_due(conn, BATCH, settings.lease).await?;
    let n = claimed.len();
    let mut mails = group(claimed).into_iter();
    while let Some(mail) = mails.next() {
        // Half the lease gone: what is left goes back, rather than be sent after another worker
        // may have claimed it.
        if claimed_at.elapsed() > settings.lease / 2 {
            let rest: Vec<Claimed> = std::iter::once(mail).chain(mails).flatten().collect();
            deliveries::reschedule(conn, &rest, Utc::now(), None, true).await?;
            break;
        }
        send_mail(conn, mailer, settings, mail).await?;
    }
    Ok(n)
}

/// New-message deliveries claimed together go out together, one mail per order and recipient.
fn group(claimed: Vec<Claimed>) -> Vec<Mail> {
    let mut batches: BTreeMap<(UserId, OrderId), Mail> = BTreeMap::new();
    let mut mails = Vec::new();
    for d in claimed {
        match d.batch_order_id {
            Some(order) => batches.entry((d.recipient_id, order)).or_default().push(d),
            None => mails.push(vec![d]),
        }
    }
    mails.extend(batches.into_values());
    mails
}

async fn send_mail(
    conn: &mut AsyncPgConnection,
    mailer: &Mailer,
    settings: &NotificationSettings,
    mut mail: Mail,
) -> anyhow::Result<()> {
    let first = mail[0].clone();
    if let Some(order) = first.batch_order_id {
        // One new-message mail per order and recipient per window: later ones wait and go
        // together. Only due rows join; rows another worker holds, or in backoff, are not due.
        let last = deliveries::last_batch_sent(conn, first.recipient_id, order).await?;
        if let Some(free_at) = last.map(|at| at + crate::config::to_chrono(MESSAGE_MAIL_WINDOW)) {
            if free_at > Utc::now() {
                deliveries::reschedule(conn, &mail, free_at, None, true).await?;
                return Ok(());
            }
        }
        let taken: Vec<_> = mail.iter().map(|d| d.id).collect();
        let due = deliveries::claim_batch(conn, first.recipient_id, order, &taken, settings.lease);
        mail.extend(due.await?);
    }
    let outcome = compose_and_send(conn, mailer, settings, &mail).await;
    settle(conn, settings, &mail, outcome).await
}

async fn settle(
    conn: &mut AsyncPgConnection,
    settings: &NotificationSettings,
    mail: &Mail,
    outcome: Result<(), Failure>,
) -> anyhow::Result<()> {
    let events: Vec<_> = mail.iter().map(|d| d.event_id).collect();
    let attempts = mail.iter().map(|d| d.attempts).max().unwrap_or(1);
    let id = mail[0].id;
    match outcome {
        Ok(()) => {
            deliveries::mark_delivered(conn, mail, None).await?;
            deliveries::purge_secrets(conn, &events).await?;
        }
        Err(Failure::Superseded) => {
            let note = "not sent: the token it carried was used or expired first";
            deliveries::mark_delivered(conn, mail, Some(note)).await?;
        }
        Err(Failure::Permanent(why)) => {
            tracing::warn!(delivery_id = %id, reason = %why, "notification cannot be delivered");
            deliveries::mark_dead(conn, mail, &why).await?;
            deliveries::purge_secrets(conn, &events).await?;
        }
        Err(Failure::Transient(e)) => {
            let error = format!("{e:#}");
            let jitter = rand::thread_rng().gen::<f64>();
            match settings.retry.after_failure(attempts, jitter) {
                AfterFailure::RetryIn(wait) => {
                    tracing::info!(delivery_id = %id, attempts, error = %error, "mail not sent; will retry");
                    let at = Utc::now() + crate::config::to_chrono(wait);
                    deliveries::reschedule(conn, mail, at, Some(&error), false).await?;
                }
                AfterFailure::Dead => {
                    tracing::warn!(delivery_id = %id, attempts, error = %error, "mail not sent after the last attempt: dead letter");
                    deliveries::mark_dead(conn, mail, &error).await?;
                    deliveries::purge_secrets(conn, &events).await?;
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
    mail: &Mail,
) -> Result<(), Failure> {
    let first = &mail[0];
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
    let events: Vec<Event> = mail
        .iter()
        .filter_map(|d| Event::from_stored(&d.event_type, &d.payload))
        .collect();
    let Some(event) = events.first() else {
        if Event::SECRET_BEARING.contains(&first.event_type.as_str()) {
            return Err(Failure::Superseded);
        }
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
    // Security mail greets no one by name: anyone can register someone else's address with a
    // display name of their choosing.
    let greet = !Event::SECRET_BEARING.contains(&event.name());
    let message_id = format!("{}.{}", first.event_id, recipient.id);
    let composed = mailer
        .compose(&recipient, greet, &said, &message_id)
        .map_err(|e| Failure::Permanent(format!("{e:#}")))?;
    mailer.send(composed).await.map_err(Failure::Transient)
}
