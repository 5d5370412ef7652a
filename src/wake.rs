//! Waking the notification worker promptly. A write request that succeeded wakes this instance's
//! worker in memory and, through one `NOTIFY` sent after the response's transaction committed
//! (never inside it, where it would serialise every commit on PostgreSQL's notify lock), the
//! workers of every other instance, which `LISTEN` on one connection each. Best effort: the
//! worker also polls, so a lost wake-up only delays.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::db::DbPool;

/// The channel the outbox's wake-ups go on.
pub const CHANNEL: &str = "createspace_outbox";

/// Wakes the local worker.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// What a request handler pokes after a write: the local worker, and the announcer that tells the
/// other instances. Both coalesce: a burst of writes is one wake-up and one `NOTIFY`.
#[derive(Clone, Default)]
pub struct Signal {
    pub local: Wake,
    /// This instance's live-stream hub.
    pub live: Wake,
    announce: Wake,
}

impl Signal {
    pub fn poke(&self) {
        self.local.wake();
        self.live.wake();
        self.announce.wake();
    }

    /// Sends `NOTIFY` on a pooled connection whenever poked, until the task is dropped.
    pub async fn announce(self, pool: DbPool) {
        loop {
            self.announce.notified().await;
            let Ok(mut conn) = crate::db::connection(&pool).await else {
                continue;
            };
            let notify = format!("NOTIFY {CHANNEL}");
            if let Err(e) = diesel::sql_query(notify).execute(&mut conn).await {
                tracing::debug!(error = %e, "NOTIFY failed; other workers will poll");
            }
            drop(conn);
            // A burst of writes is one NOTIFY per 50 ms at most.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Listens for other instances' wake-ups on a connection of its own (taken out of the pool), and
/// wakes each of `wakes` (the worker, the live-stream hub) for each; reconnects after a failure.
pub async fn listen(pool: DbPool, wakes: Vec<Wake>) {
    loop {
        if let Err(e) = listen_once(&pool, &wakes).await {
            tracing::warn!(error = %e, "LISTEN connection lost; polling until it is back");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

async fn listen_once(pool: &DbPool, wakes: &[Wake]) -> anyhow::Result<()> {
    let pooled = crate::db::connection(pool).await?;
    let mut conn = diesel_async::pooled_connection::deadpool::Object::take(pooled);
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    // Anything written while nobody listened is picked up now.
    wakes.iter().for_each(Wake::wake);
    let mut stream = std::pin::pin!(conn.notifications_stream());
    while let Some(n) = stream.next().await {
        n?;
        wakes.iter().for_each(Wake::wake);
    }
    anyhow::bail!("the server closed the connection")
}
