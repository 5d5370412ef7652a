//! createspace: the order-management backend of the CreateSpace marketplace.
//!
//! Layers, with dependencies pointing one way (see ARCHITECTURE.md): `http` (parse, render, the
//! OpenAPI document) calls `app` (one use case per user or worker action, owning its transaction and
//! events), which calls `domain` (pure rules) and `db` (queries). `error` is the one error type,
//! `auth` holds credential primitives, `startup` wires the server, `jobs` schedules the worker.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod documents;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod provider;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod wake;
pub mod webhook_client;
