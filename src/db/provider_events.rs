//! Provider events already acted on.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::provider_events;

/// Records the event; `false` if it was recorded before (a replay: act on nothing).
pub async fn record(
    conn: &mut AsyncPgConnection,
    id: &str,
    provider: &str,
    kind: &str,
) -> QueryResult<bool> {
    let n = diesel::insert_into(provider_events::table)
        .values((
            provider_events::id.eq(id),
            provider_events::provider.eq(provider),
            provider_events::event_type.eq(kind),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}
