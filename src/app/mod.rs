//! Use cases: one function per thing a user or the worker does. Each owns its transaction (or runs
//! as a savepoint inside a caller's, as idempotent requests need) and writes the events of the change
//! in it. Handlers (`http`) and the worker (`jobs`) call these; they call `domain` to decide and `db`
//! to read and write. Nothing here knows HTTP.

pub mod accounts;
pub mod admin;
pub mod attachments;
pub mod audit;
pub mod background;
pub mod billing;
pub mod cancellations;
pub mod dashboard;
pub mod escrow;
pub mod invoices;
pub mod live;
pub mod messages;
pub mod moves;
pub mod notifications;
pub mod orders;
pub mod payment_terms;
pub mod payments;
pub mod payouts;
pub mod refunds;
pub mod reputation;
pub mod reviews;
pub mod sessions;
pub mod support;
pub mod webhooks;
