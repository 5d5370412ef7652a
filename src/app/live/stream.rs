//! One caller's stream: a replay from PostgreSQL when resuming, then the hub's live events, with
//! heartbeats between, until the client goes away, falls behind, or its session ends.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use futures_util::Stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{replay_since, Admission, Hub, Listener, LiveEvent, PAGE};
use crate::db::live::{self as db, Position};
use crate::db::{self as database, DbPool};

/// How often a stream checks that its session and account are still live.
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// What EventSource is told first: to reconnect after 3 s, and that the stream is open.
const PREAMBLE: &[u8] = b"retry: 3000\n: connected\n\n";
const HEARTBEAT: &[u8] = b": keep-alive\n\n";

enum Phase {
    /// Reading the caller's missed events from PostgreSQL.
    Replay,
    /// Sending what the hub fans out. `fresh`: just caught up, so a lag is the replay's doing
    /// (the hub kept sending meanwhile), not a slow client's.
    Live {
        fresh: bool,
    },
    Ended,
}

pub struct EventStream {
    hub: Arc<Hub>,
    pool: DbPool,
    listener: Listener,
    _admission: Admission,
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    /// The last event sent (or where the stream started).
    position: Position,
    phase: Phase,
    ready: VecDeque<Bytes>,
    heartbeat: tokio::time::Interval,
    checked: Instant,
    ends_at: tokio::time::Instant,
}

impl EventStream {
    pub(super) fn new(
        hub: Arc<Hub>,
        pool: DbPool,
        listener: Listener,
        admission: Admission,
        rx: broadcast::Receiver<Arc<LiveEvent>>,
        position: Position,
        replay: bool,
    ) -> Self {
        let every = hub.settings.heartbeat;
        let ends_at = tokio::time::Instant::now() + hub.settings.max_duration;
        EventStream {
            hub,
            pool,
            listener,
            _admission: admission,
            rx,
            position,
            phase: if replay {
                Phase::Replay
            } else {
                Phase::Live { fresh: false }
            },
            ready: VecDeque::from([Bytes::from_static(PREAMBLE)]),
            heartbeat: tokio::time::interval_at(tokio::time::Instant::now() + every, every),
            checked: Instant::now(),
            ends_at,
        }
    }

    /// The stream of SSE bytes, for a streaming response body.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
        futures_util::stream::unfold(self, |mut s| async move {
            let bytes = s.next_bytes().await?;
            Some((Ok(bytes), s))
        })
    }

    async fn next_bytes(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.ready.pop_front() {
                return Some(bytes);
            }
            match self.phase {
                Phase::Ended => return None,
                Phase::Replay => {
                    if let Err(e) = self.replay_page().await {
                        tracing::warn!(error = ?e, "live stream replay failed; closing the stream");
                        self.phase = Phase::Ended;
                    }
                }
                Phase::Live { fresh } => return self.live(fresh).await,
            }
        }
    }

    async fn replay_page(&mut self) -> anyhow::Result<()> {
        let mut conn = database::connection(&self.pool).await?;
        let horizon = db::horizon(&mut conn).await?;
        let since = replay_since(Utc::now());
        let rows = db::replay(
            &mut conn,
            self.listener.user,
            self.position,
            horizon,
            since,
            self.hub.types(),
            PAGE,
        )
        .await?;
        for row in &rows {
            self.position = row.position();
            self.ready.push_back(LiveEvent::from(row).frame);
        }
        if rows.len() < PAGE as usize {
            self.phase = Phase::Live { fresh: true };
        }
        Ok(())
    }

    async fn live(&mut self, fresh: bool) -> Option<Bytes> {
        let me = self.listener.user.as_uuid();
        loop {
            tokio::select! {
                received = self.rx.recv() => match received {
                    Ok(event) => {
                        self.phase = Phase::Live { fresh: false };
                        if event.position > self.position && event.recipients.contains(&me) {
                            self.position = event.position;
                            return Some(event.frame.clone());
                        }
                    }
                    Err(RecvError::Lagged(_)) if fresh => {
                        // Fell behind while replaying: catch up from PostgreSQL again.
                        self.phase = Phase::Replay;
                        return Some(Bytes::from_static(b": catching up\n\n"));
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(user_id = %self.listener.user, missed, "slow live stream dropped; it resumes with Last-Event-ID");
                        return None;
                    }
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep_until(self.ends_at) => return None,
                _ = self.heartbeat.tick() => {
                    if self.checked.elapsed() >= SESSION_CHECK && !self.session_live().await {
                        return None;
                    }
                    return Some(Bytes::from_static(HEARTBEAT));
                }
            }
        }
    }

    /// Whether the caller's session and account are still live (a stream outlives its token).
    async fn session_live(&mut self) -> bool {
        self.checked = Instant::now();
        let Ok(mut conn) = database::connection(&self.pool).await else {
            // The database is away: keep the stream, check again next time.
            return true;
        };
        !matches!(
            crate::db::sessions::active_caller(
                &mut conn,
                self.listener.user,
                self.listener.session
            )
            .await,
            Ok(None)
        )
    }
}
