//! The live stream: each instance keeps one [`Hub`], which reads new events from PostgreSQL when
//! woken (by this instance's writes, or by other instances' `NOTIFY` on its one listening
//! connection) and fans them out in memory to every open stream on the instance. A stream keeps
//! only its caller's events, and resumes after `Last-Event-ID` from PostgreSQL.
//!
//! Order: events are read in `(txid, id)` order below the horizon (see [`crate::db::live`]), so
//! the hub's order is a commit-safe total order. A stream's position is the last event it sent;
//! replay reads strictly after it, and live events at or before it are dropped: nothing is lost to
//! a transaction that committed late, and nothing is sent twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::auth::secret;
use crate::config::LiveSettings;
use crate::db::live::{self as db, Position, StreamedEvent};
use crate::db::{self as database, DbPool};
use crate::domain::events::envelope;
use crate::domain::ids::UserId;
use crate::error::ApiError;
use crate::wake::Wake;

mod stream;

pub use stream::EventStream;

/// Events a hub holds for its slowest stream before that stream is dropped.
const CAPACITY: usize = 1024;
/// Events read per query.
const PAGE: i64 = 500;
/// How far back `Last-Event-ID` may reach.
pub const REPLAY_WINDOW_HOURS: i64 = 24;
/// How long a ticket may wait to be used.
pub const TICKET_TTL_SECS: i64 = 30;

/// One event as every stream on the instance sends it: formatted once.
#[derive(Debug)]
pub struct LiveEvent {
    pub position: Position,
    pub recipients: Vec<Uuid>,
    pub frame: Bytes,
}

impl From<&StreamedEvent> for LiveEvent {
    fn from(e: &StreamedEvent) -> Self {
        LiveEvent {
            position: e.position(),
            recipients: e.recipients.clone(),
            frame: frame(e),
        }
    }
}

/// `id:`, `event:` and `data:` lines, and the blank line that ends an SSE event.
fn frame(e: &StreamedEvent) -> Bytes {
    let data = envelope(e.id, &e.event_type, e.created_at, &e.payload);
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        e.id, e.event_type
    ))
}

pub struct Hub {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// Where the hub has read up to; `None` while nobody listens (then it reads nothing at all).
    cursor: tokio::sync::Mutex<Option<Position>>,
    wake: Wake,
    open: Mutex<HashMap<UserId, usize>>,
    pub settings: LiveSettings,
    types: Vec<&'static str>,
}

impl Hub {
    pub fn new(settings: LiveSettings, wake: Wake) -> Arc<Hub> {
        Arc::new(Hub {
            sender: broadcast::channel(CAPACITY).0,
            cursor: tokio::sync::Mutex::new(None),
            wake,
            open: Mutex::new(HashMap::new()),
            settings,
            types: crate::domain::webhooks::streamed(),
        })
    }

    pub fn types(&self) -> &[&'static str] {
        &self.types
    }

    /// Reads and fans out new events until the task is dropped: when woken, and every
    /// `LIVE_POLL_INTERVAL` (events the worker writes wake nobody).
    pub async fn run(self: Arc<Self>, pool: DbPool) {
        loop {
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
            if let Err(e) = self.round(&pool).await {
                tracing::warn!(error = ?e, "live stream round failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }

    async fn round(&self, pool: &DbPool) -> anyhow::Result<()> {
        let mut cursor = self.cursor.lock().await;
        if self.sender.receiver_count() == 0 {
            *cursor = None;
            return Ok(());
        }
        let Some(mut at) = *cursor else {
            return Ok(());
        };
        let mut conn = database::connection(pool).await?;
        loop {
            let horizon = db::horizon(&mut conn).await?;
            let rows = db::after(&mut conn, at, horizon, &self.types, PAGE).await?;
            for row in &rows {
                at = row.position();
                // No receiver left is not an error: the next round notices.
                let _ = self.sender.send(Arc::new(LiveEvent::from(row)));
            }
            *cursor = Some(at);
            if rows.len() < PAGE as usize {
                return Ok(());
            }
        }
    }

    /// Subscribes, and returns where a stream without `Last-Event-ID` starts: the hub's cursor,
    /// taken after subscribing, so whatever the hub sends next is after it.
    async fn subscribe_now(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<(broadcast::Receiver<Arc<LiveEvent>>, Position)> {
        let rx = self.sender.subscribe();
        let mut cursor = self.cursor.lock().await;
        let at = match *cursor {
            Some(at) => at,
            None => Position::at(db::horizon(conn).await?),
        };
        *cursor = Some(at);
        Ok((rx, at))
    }

    /// Counts a stream of `user`'s in, or refuses it past `LIVE_MAX_STREAMS_PER_USER`.
    fn admit(self: &Arc<Self>, user: UserId) -> Result<Admission, ApiError> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(user).or_default();
        if *n >= self.settings.max_streams_per_user {
            return Err(ApiError::RateLimited {
                retry_after_secs: 30,
            });
        }
        *n += 1;
        Ok(Admission {
            hub: self.clone(),
            user,
        })
    }
}

/// A counted stream; uncounted when dropped (the client went away, or was dropped).
pub struct Admission {
    hub: Arc<Hub>,
    user: UserId,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self
            .hub
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// The caller a stream is for.
#[derive(Clone, Copy, Debug)]
pub struct Listener {
    pub user: UserId,
    pub session: Uuid,
}

/// Opens `listener`'s stream: from after `last_event_id` (within the replay window; an id not
/// found there replays the whole window), or from now. `conn` is the request's (the caller was
/// authenticated on it); the stream takes connections from `pool` as it needs them.
pub async fn open(
    hub: &Arc<Hub>,
    pool: &DbPool,
    conn: &mut AsyncPgConnection,
    listener: Listener,
    last_event_id: Option<Uuid>,
) -> Result<EventStream, ApiError> {
    let admission = hub.admit(listener.user)?;
    let since = replay_since(Utc::now());
    // Subscribing also starts the hub reading, if this is the instance's first listener.
    let (rx, now) = hub.subscribe_now(conn).await?;
    let (start, replay) = match last_event_id {
        None => (now, false),
        Some(id) => {
            let horizon = db::horizon(conn).await?;
            let at = match db::position_of(conn, listener.user, id, since, horizon).await? {
                Some(at) => at,
                // Unknown here (too old, someone else's, made up): the whole window, read from
                // its start rather than from the beginning of the table.
                None => db::window_start(conn, since, horizon).await?,
            };
            (at, true)
        }
    };
    Ok(EventStream::new(
        hub.clone(),
        pool.clone(),
        listener,
        admission,
        rx,
        start,
        replay,
    ))
}

fn replay_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::hours(REPLAY_WINDOW_HOURS)
}

/// Issues a single-use ticket for `?ticket=`, bound to the caller's session.
pub async fn issue_ticket(
    conn: &mut AsyncPgConnection,
    listener: Listener,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let ticket = secret::generate();
    let expires_at = Utc::now() + chrono::Duration::seconds(TICKET_TTL_SECS);
    db::insert_ticket(
        conn,
        secret::digest(&ticket),
        listener.user,
        listener.session,
        expires_at,
    )
    .await?;
    Ok((ticket, expires_at))
}

/// Uses a ticket; `None` if it is unknown, used, expired, or its session or account has ended.
pub async fn redeem_ticket(
    conn: &mut AsyncPgConnection,
    ticket: &str,
) -> Result<Option<Listener>, ApiError> {
    let found = db::use_ticket(conn, secret::digest(ticket)).await?;
    Ok(found.map(|(user, session)| Listener { user, session }))
}
