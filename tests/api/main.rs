//! HTTP-level tests of the whole service. One binary, so it links once.

mod architecture;
mod auth;
mod authz;
mod cli;
mod contract;
mod errors;
mod hardening;
mod health;
mod helpers;
mod inbox;
mod limits;
mod me;
mod messages;
mod notifications;
mod openapi;
mod orders;
mod s3;
mod services;
mod smtp;
mod transitions;
