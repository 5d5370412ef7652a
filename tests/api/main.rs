//! HTTP-level tests of the whole service. One binary, so it links once.

mod architecture;
mod auth;
mod authz;
mod authz_more;
mod cli;
mod contract;
mod errors;
mod hardening;
mod health;
mod helpers;
mod inbox;
mod invoice_documents;
mod invoices;
mod limits;
mod me;
mod messages;
mod notifications;
mod openapi;
mod orders;
mod payment_terms;
mod reputation;
mod reviews;
mod s3;
mod services;
mod smtp;
mod transitions;
