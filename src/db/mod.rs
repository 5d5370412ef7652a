//! Persistence: the diesel schema and query functions. Every query takes `&mut AsyncPgConnection` so
//! callers compose several into one transaction. Nothing here knows about HTTP.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod billing;
pub mod bootstrap;
pub mod deliveries;
pub mod idempotency;
pub mod invoices;
pub mod ledger;
pub mod live;
pub mod messages;
pub mod notifications;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod payouts;
pub mod prepared;
pub mod profiles;
pub mod provider_events;
pub mod reviews;
pub mod schema;
pub mod services;
pub mod sessions;
pub mod support;
pub mod tallies;
mod types;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

/// The database could not be reached: callers answer 503, never 500.
#[derive(Debug, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct Unavailable(pub String);

/// The pool recycles connections the fast way: no `SELECT 1` before every checkout (one round trip
/// per request saved). A connection the server has closed fails its first statement as
/// `ClosedConnection`, which answers 503, and is discarded rather than returned to the pool.
pub fn pool(url: &str, max_size: usize) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Ok(Pool::builder(manager).max_size(max_size).build()?)
}

/// Takes a connection from the pool, giving up after a few seconds so a dead database is a quick 503.
/// Asks the server a trivial question: readiness means it answers.
pub async fn ping(conn: &mut AsyncPgConnection) -> Result<(), Unavailable> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT 1")
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|e| Unavailable(e.to_string()))
}

pub async fn connection(pool: &DbPool) -> Result<DbConn, Unavailable> {
    match tokio::time::timeout(Duration::from_secs(5), pool.get()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(Unavailable(e.to_string())),
        Err(_) => Err(Unavailable("timed out waiting for a connection".into())),
    }
}

/// Whether a transaction is open on `conn`. A use case owns its transaction, but a handler that
/// records an idempotent answer opens one around it, so answer and change commit together; inside
/// that, the use case runs in the caller's transaction as it is rather than in a savepoint (two
/// round trips saved), and its error, propagated, rolls the whole back.
pub fn in_transaction(conn: &mut AsyncPgConnection) -> diesel::QueryResult<bool> {
    use diesel_async::{AsyncConnection, TransactionManager};
    let status =
        <AsyncPgConnection as AsyncConnection>::TransactionManager::transaction_manager_status_mut(
            conn,
        );
    Ok(status.transaction_depth()?.is_some())
}

/// The outcome of a write guarded by the row's version.
pub enum Update<T> {
    Updated(T),
    NotFound,
    /// `If-Match` named another version; carries the current one.
    Stale(i64),
}

/// A LIKE pattern matching `text` anywhere, with LIKE's wildcards in `text` escaped.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
