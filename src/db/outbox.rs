//! The transactional outbox: events written in the same transaction as the change they report. The
//! only way in is a typed [`Event`], so every row has a known name and payload shape.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::outbox_events;
use crate::domain::events::Event;
use crate::domain::ids::UserId;

#[derive(Insertable)]
#[diesel(table_name = outbox_events)]
struct NewRow<'a> {
    id: Uuid,
    event_type: &'a str,
    aggregate_type: &'a str,
    aggregate_id: Uuid,
    recipients: Vec<UserId>,
    payload: serde_json::Value,
}

/// Records `event`; run it inside the transaction of the change it reports.
pub async fn insert(conn: &mut AsyncPgConnection, event: &Event) -> QueryResult<()> {
    let aggregate = event.aggregate();
    let row = NewRow {
        id: Uuid::now_v7(),
        event_type: event.name(),
        aggregate_type: aggregate.kind(),
        aggregate_id: aggregate.id(),
        recipients: event.recipients(),
        payload: event.data(),
    };
    diesel::insert_into(outbox_events::table)
        .values(&row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Removes the tokens from `user`'s events of `event_type` (a reset, a verification): once one is
/// used, no token of theirs works, and none should be left to read.
pub async fn purge_tokens_of(
    conn: &mut AsyncPgConnection,
    user: UserId,
    event_type: &str,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE outbox_events SET payload = payload - 'token' \
         WHERE event_type = $2 AND aggregate_id = $1 AND payload ? 'token'",
    )
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<diesel::sql_types::Text, _>(event_type)
    .execute(conn)
    .await
}

/// Removes tokens (reset, verification) from events whose token has expired, delivered or not:
/// past its expiry the plaintext is of use to nobody but someone reading the database.
pub async fn purge_expired_tokens(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE outbox_events SET payload = payload - 'token' \
         WHERE event_type IN ('user.password_reset_requested', 'user.email_verification_requested') \
         AND payload ? 'token' AND (payload->>'expires_at')::timestamptz < now()",
    )
    .execute(conn)
    .await
}
