//! The transactional outbox: events written in the same transaction as the change they report.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::outbox_events;

#[derive(Insertable)]
#[diesel(table_name = outbox_events)]
pub struct NewEvent<'a> {
    pub id: Uuid,
    pub event_type: &'a str,
    pub aggregate_type: &'a str,
    pub aggregate_id: Uuid,
    pub recipients: Vec<Uuid>,
    pub payload: serde_json::Value,
}

impl<'a> NewEvent<'a> {
    pub fn new(
        event_type: &'a str,
        aggregate_type: &'a str,
        aggregate_id: Uuid,
        recipients: Vec<Uuid>,
        payload: serde_json::Value,
    ) -> Self {
        NewEvent {
            id: Uuid::now_v7(),
            event_type,
            aggregate_type,
            aggregate_id,
            recipients,
            payload,
        }
    }
}

pub async fn insert(conn: &mut AsyncPgConnection, event: NewEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(outbox_events::table)
        .values(&event)
        .execute(conn)
        .await
        .map(|_| ())
}
