//! createspace: the order-management backend of the CreateSpace marketplace.
//!
//! Layers, with dependencies pointing one way: `http` (handlers, extractors, OpenAPI) uses `domain`
//! (pure rules) and `db` (schema and queries); `auth` holds credential primitives; `startup` wires
//! the server; `jobs` runs time-based work.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod startup;
pub mod telemetry;
