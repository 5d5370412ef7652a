//! Time-based transitions, run by a background task: delivered orders complete by themselves, and
//! unanswered cancellation requests are accepted. All state is in PostgreSQL and rows are claimed
//! with `FOR UPDATE SKIP LOCKED`, so the task survives restarts and several instances can run it.

use crate::app::background::{self, BATCH};
use crate::app::{attachments, notifications};
use crate::config::{FileSettings, NotificationSettings, OrderTimings};
use crate::db::{self, DbPool};
use crate::storage::Storage;

/// Runs until the task is dropped, every `timings.worker_interval`.
pub async fn run(pool: DbPool, timings: OrderTimings, files: FileSettings, storage: Storage) {
    let mut tick = tokio::time::interval(timings.worker_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = run_once(&pool, &timings).await {
            tracing::warn!(error = ?e, "background job failed; retrying next tick");
        }
        if let Err(e) = sweep_files(&pool, &files, &storage).await {
            tracing::warn!(error = ?e, "sweeping unreferenced files failed; retrying next tick");
        }
    }
}

/// Moves money until the task is dropped, every second: asks the provider about payments pending
/// for a while, sends due refunds and payouts, and books what comes back.
pub async fn move_money(pool: DbPool, provider: crate::provider::Provider, fee_bps: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = move_money_once(&pool, &provider, fee_bps).await {
            tracing::warn!(error = ?e, "moving money failed; retrying next tick");
        }
    }
}

/// One round of [`move_money`]; how many payments, refunds and payouts it settled.
pub async fn move_money_once(
    pool: &DbPool,
    provider: &crate::provider::Provider,
    fee_bps: u32,
) -> anyhow::Result<usize> {
    let mut conn = db::connection(pool).await?;
    let mut n = crate::app::payments::settle_pending(&mut conn, provider, fee_bps).await?;
    n += crate::app::refunds::drive(&mut conn, provider).await?;
    n += crate::app::payouts::drive(&mut conn, provider).await?;
    Ok(n)
}

/// Delivers notifications until the task is dropped: at once when woken, otherwise every
/// `poll_interval`, and again straight away while there is more to do.
pub async fn deliver_notifications(
    pool: DbPool,
    settings: NotificationSettings,
    mailer: crate::mail::Mailer,
    wake: crate::wake::Wake,
    webhooks: crate::wake::Wake,
) {
    loop {
        let busy = match notifications::run_once(&pool, &settings, &mailer).await {
            Ok(n) => {
                if n > 0 {
                    // The round may have queued webhook deliveries.
                    webhooks.wake();
                }
                n > 0
            }
            Err(e) => {
                tracing::warn!(error = ?e, "notification round failed; retrying");
                false
            }
        };
        if !busy {
            tokio::select! {
                () = tokio::time::sleep(settings.poll_interval) => {}
                () = wake.notified() => {}
            }
        }
        // However often writes wake it, a worker runs at most 20 rounds a second.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Delivers webhooks until the task is dropped: when the notification worker queued some, every
/// `poll_interval` otherwise (retries come due on their own), and straight away while busy.
pub async fn deliver_webhooks(
    pool: DbPool,
    settings: crate::config::WebhookSettings,
    client: crate::webhook_client::WebhookClient,
    poll_interval: std::time::Duration,
    wake: crate::wake::Wake,
) {
    loop {
        let busy = match crate::app::webhooks::deliver::deliver_due(&pool, &client, &settings).await
        {
            Ok(n) => n >= crate::app::webhooks::deliver::BATCH as usize,
            Err(e) => {
                tracing::warn!(error = ?e, "webhook round failed; retrying");
                false
            }
        };
        if !busy {
            tokio::select! {
                () = tokio::time::sleep(poll_interval) => {}
                () = wake.notified() => {}
            }
        }
    }
}

/// Deletes the files nobody took within `UNREFERENCED_ATTACHMENT_TTL`, in batches.
pub async fn sweep_files(
    pool: &DbPool,
    files: &FileSettings,
    storage: &Storage,
) -> anyhow::Result<usize> {
    let mut conn = db::connection(pool).await?;
    let mut swept = 0;
    loop {
        let n = attachments::sweep(&mut conn, storage, files.unreferenced_ttl, BATCH).await?;
        swept += n;
        if n < BATCH as usize {
            break;
        }
    }
    if swept > 0 {
        tracing::info!(count = swept, "unreferenced files deleted");
    }
    Ok(swept)
}

/// One pass: everything due now, in batches. Returns how many orders it moved.
pub async fn run_once(pool: &DbPool, timings: &OrderTimings) -> anyhow::Result<usize> {
    let mut conn = db::connection(pool).await?;
    let clock = timings.clock(chrono::Utc::now());
    let mut moved = 0;
    loop {
        let n = background::complete_due(&mut conn, &clock, timings).await?;
        moved += n;
        if n < BATCH as usize {
            break;
        }
    }
    loop {
        let (n, seen) = background::accept_due_cancellations(&mut conn, timings).await?;
        moved += n;
        if seen < BATCH as usize {
            break;
        }
    }
    loop {
        let n = crate::app::reviews::publish_due(&mut conn, BATCH).await?;
        if n < BATCH as usize {
            break;
        }
    }
    crate::app::support::close_expired(&mut conn, chrono::Utc::now()).await?;
    db::idempotency::delete_expired_keys(&mut conn).await?;
    db::outbox::purge_expired_tokens(&mut conn).await?;
    db::live::purge_tickets(&mut conn).await?;
    db::webhooks::purge_attempts(&mut conn).await?;
    Ok(moved)
}
