//! The live stream's reads: events in commit-safe order, and single-use stream tickets.
//!
//! An event's position is `(txid, id)`: the writing transaction's id, then the event id. Reads stop
//! below the *horizon*, the oldest transaction id still running: every transaction below it has
//! ended, so no event can later appear below a position once it has been read up to.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;
use crate::domain::ids::UserId;

/// A place in the stream: after the event at `(txid, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub txid: i64,
    pub id: Uuid,
}

impl Position {
    /// Before every event of transaction `txid` and after.
    pub fn at(txid: i64) -> Self {
        Position {
            txid,
            id: Uuid::nil(),
        }
    }
}

#[derive(QueryableByName, Debug, Clone)]
pub struct StreamedEvent {
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Array<SqlUuid>)]
    pub recipients: Vec<Uuid>,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl StreamedEvent {
    pub fn position(&self) -> Position {
        Position {
            txid: self.txid,
            id: self.id,
        }
    }
}

/// The oldest transaction id still running (read before the events it bounds, never after).
pub async fn horizon(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct H {
        #[diesel(sql_type = BigInt)]
        h: i64,
    }
    let h: H = prepared("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS h")
        .get_result(conn)
        .await?;
    Ok(h.h)
}

/// Everyone's events after `after` and below `horizon`, in stream order (what one instance fans
/// out to its listeners).
pub async fn after(
    conn: &mut AsyncPgConnection,
    after: Position,
    horizon: i64,
    types: &[&str],
    limit: i64,
) -> QueryResult<Vec<StreamedEvent>> {
    prepared(
        "SELECT txid, id, event_type, recipients, payload, created_at FROM outbox_events \
         WHERE txid IS NOT NULL AND (txid, id) > ($1, $2) AND txid < $3 AND event_type = ANY($4) \
         ORDER BY txid, id LIMIT $5",
    )
    .bind::<BigInt, _>(after.txid)
    .bind::<SqlUuid, _>(after.id)
    .bind::<BigInt, _>(horizon)
    .bind::<Array<Text>, _>(types.iter().map(ToString::to_string).collect::<Vec<_>>())
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// One user's events after `after`, below `horizon`, written since `since` (a replay).
pub async fn replay(
    conn: &mut AsyncPgConnection,
    user: UserId,
    after: Position,
    horizon: i64,
    since: DateTime<Utc>,
    types: &[&str],
    limit: i64,
) -> QueryResult<Vec<StreamedEvent>> {
    prepared(
        "SELECT txid, id, event_type, recipients, payload, created_at FROM outbox_events \
         WHERE txid IS NOT NULL AND (txid, id) > ($1, $2) AND txid < $3 AND event_type = ANY($4) \
           AND recipients @> ARRAY[$5]::uuid[] AND created_at >= $6 \
         ORDER BY txid, id LIMIT $7",
    )
    .bind::<BigInt, _>(after.txid)
    .bind::<SqlUuid, _>(after.id)
    .bind::<BigInt, _>(horizon)
    .bind::<Array<Text>, _>(types.iter().map(ToString::to_string).collect::<Vec<_>>())
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Where event `id` sits in the stream, if it is one of `user`'s events written since `since` and
/// below `horizon` (an id learnt elsewhere, from a notification or a webhook, may be of a
/// transaction newer than some still running: resuming after it could skip theirs).
pub async fn position_of(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: Uuid,
    since: DateTime<Utc>,
    horizon: i64,
) -> QueryResult<Option<Position>> {
    #[derive(QueryableByName)]
    struct P {
        #[diesel(sql_type = BigInt)]
        txid: i64,
    }
    let found: Option<P> = prepared(
        "SELECT txid FROM outbox_events WHERE id = $1 AND txid IS NOT NULL AND txid < $4 \
           AND recipients @> ARRAY[$2]::uuid[] AND created_at >= $3",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(horizon)
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|p| Position { txid: p.txid, id }))
}

/// The smallest UUIDv7 of millisecond `t`: ids (time-ordered) from it on were made at `t` or later.
pub(crate) fn v7_floor(t: DateTime<Utc>) -> Uuid {
    let ms = u128::try_from(t.timestamp_millis()).unwrap_or(0);
    Uuid::from_u128((ms << 80) | (0x7 << 76))
}

/// Where a replay of everything since `since` starts: before the oldest transaction that wrote an
/// event since then (found through the primary key: ids are time-ordered), or at `horizon` when
/// there is none.
pub async fn window_start(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    horizon: i64,
) -> QueryResult<Position> {
    #[derive(QueryableByName)]
    struct M {
        #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
        txid: Option<i64>,
    }
    let m: M = prepared("SELECT min(txid) AS txid FROM outbox_events WHERE id >= $1")
        .bind::<SqlUuid, _>(v7_floor(since))
        .get_result(conn)
        .await?;
    Ok(Position::at(m.txid.map_or(horizon, |t| t.min(horizon))))
}

pub async fn insert_ticket(
    conn: &mut AsyncPgConnection,
    hash: Vec<u8>,
    user: UserId,
    session: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    prepared(
        "INSERT INTO event_stream_tickets (token_hash, user_id, session_id, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind::<Bytea, _>(hash)
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(session)
    .bind::<Timestamptz, _>(expires_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Uses a ticket: once, before it expires, while its session and account are live. Returns the
/// user and session it stands for.
pub async fn use_ticket(
    conn: &mut AsyncPgConnection,
    hash: Vec<u8>,
) -> QueryResult<Option<(UserId, Uuid)>> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        session_id: Uuid,
    }
    let used: Option<T> = prepared(
        "UPDATE event_stream_tickets t SET used_at = now() \
         FROM users u, sessions s \
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now() \
           AND u.id = t.user_id AND u.disabled_at IS NULL \
           AND s.id = t.session_id AND s.revoked_at IS NULL AND s.expires_at > now() \
         RETURNING t.user_id, t.session_id",
    )
    .bind::<Bytea, _>(hash)
    .get_result(conn)
    .await
    .optional()?;
    Ok(used.map(|t| (UserId::from_uuid(t.user_id), t.session_id)))
}

/// Deletes tickets expired more than an hour ago.
pub async fn purge_tickets(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    prepared("DELETE FROM event_stream_tickets WHERE expires_at < now() - interval '1 hour'")
        .execute(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v7_floor_sorts_before_every_id_of_its_millisecond_and_after_the_one_before() {
        let t = Utc::now();
        let id = Uuid::now_v7();
        let floor = v7_floor(t - chrono::Duration::milliseconds(1));
        assert!(floor < id);
        assert!(v7_floor(t + chrono::Duration::seconds(1)) > id);
        assert_eq!(floor.get_version_num(), 7);
    }
}
