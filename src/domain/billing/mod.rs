//! Getting paid: the terms both parties agree on, the invoices a creative sends, their arithmetic,
//! and the billing details printed on them. Pure rules; storage and delivery are elsewhere.

pub mod document;
pub mod invoice;
pub mod profile;
pub mod terms;
pub mod totals;

use super::Invalid;

/// Problems found in a request, each under the path of its field (`line_items[2].quantity`), so one
/// 422 lists them all.
pub type Issues = Vec<(String, Invalid)>;
