//! What a notification says: one [`Content`] per event (or per batch of new messages), used for the
//! email's subject and both its parts, and for the in-app row, so every channel says the same
//! thing. Times are shown in the recipient's zone, named; amounts in the currency's minor units.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::events::{Event, MessagePosted};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::{ActorRole, OrderStatus};

/// The order an event is about, as the recipient may see it.
#[derive(Clone, Debug)]
pub struct OrderFacts {
    pub id: OrderId,
    pub title: String,
    pub requirements: String,
    pub client_id: UserId,
    pub client_name: String,
    pub creative_name: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub due_at: DateTime<Utc>,
}

/// Who the notification is for.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub time_zone: String,
}

/// A labelled value shown under the lead (title, price, due date…).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detail {
    pub label: &'static str,
    pub value: String,
}

/// A quoted message in a new-messages mail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quote {
    pub author: String,
    pub text: String,
}

/// Everything a channel renders. Text fields are plain text: the HTML template escapes them and
/// [`header_safe`] keeps the subject to one line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Content {
    pub subject: String,
    pub lead: String,
    pub details: Vec<Detail>,
    pub quotes: Vec<Quote>,
    pub action_label: &'static str,
    pub action_url: String,
}

/// One line, no control characters, at most 200 characters: safe for a mail header and a title.
pub fn header_safe(text: &str) -> String {
    // Control characters break lines; Unicode's invisible format characters (bidi overrides,
    // zero-width ones) let a title pose as something else in a subject line.
    let line: String = text
        .chars()
        .filter(|c| !is_format_char(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&line, 200)
}

fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

pub use crate::domain::money::format_money;

/// `Mon 30 Nov 2026, 14:00 (Europe/Berlin)`; an unknown zone falls back to UTC, named as such.
pub fn format_time(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => format!(
            "{} ({zone})",
            at.with_timezone(&tz).format("%a %-d %b %Y, %H:%M")
        ),
        Err(_) => format!("{} (UTC)", at.format("%a %-d %b %Y, %H:%M")),
    }
}

fn status_words(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::New => "awaiting confirmation",
        OrderStatus::InProgress => "in progress",
        OrderStatus::Delivered => "delivered",
        OrderStatus::Completed => "completed",
        OrderStatus::Declined => "declined",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Disputed => "in dispute",
    }
}

/// The context every event's content is built from.
pub struct Context<'a> {
    pub recipient: &'a Recipient,
    pub order: Option<&'a OrderFacts>,
    pub base_url: &'a str,
}

impl Context<'_> {
    fn order_link(&self, id: OrderId) -> String {
        format!("{}/orders/{id}", self.base_url)
    }

    fn title(&self) -> String {
        self.order.map_or_else(
            || "your order".into(),
            |o| format!("“{}”", header_safe(&o.title)),
        )
    }

    fn other_party(&self) -> String {
        match self.order {
            Some(o) if o.client_id == self.recipient.id => o.creative_name.clone(),
            Some(o) => o.client_name.clone(),
            None => "The other party".into(),
        }
    }

    fn order_details(&self) -> Vec<Detail> {
        let Some(o) = self.order else {
            return Vec::new();
        };
        vec![
            Detail {
                label: "Order",
                value: o.title.clone(),
            },
            Detail {
                label: "Client",
                value: o.client_name.clone(),
            },
            Detail {
                label: "Price",
                value: format_money(o.price_amount, &o.price_currency),
            },
            Detail {
                label: "Due",
                value: format_time(o.due_at, &self.recipient.time_zone),
            },
        ]
    }
}

fn actor_name(ctx: &Context<'_>, role: ActorRole) -> String {
    match (role, ctx.order) {
        (ActorRole::Client, Some(o)) => o.client_name.clone(),
        (ActorRole::Creative, Some(o)) => o.creative_name.clone(),
        (ActorRole::Admin, _) => "The support team".into(),
        _ => "CreateSpace".into(),
    }
}

/// The content of a single event's notification.
pub fn for_event(event: &Event, ctx: &Context<'_>) -> Content {
    let base = ctx.base_url;
    let order_action = |id: OrderId| ("View the order", ctx.order_link(id));
    let (subject, lead, details, (action_label, action_url)) = match event {
        Event::OrderPlaced(e) => {
            let excerpt = ctx.order.map(|o| truncate(&o.requirements, 300)).unwrap_or_default();
            let mut details = ctx.order_details();
            details.push(Detail { label: "Requirements", value: excerpt });
            (
                format!("New order: {}", ctx.title()),
                format!("{} placed an order with you. Confirm or decline it.", ctx.other_party()),
                details,
                order_action(e.order_id),
            )
        }
        Event::OrderUpdated(e) => (
            format!("Order {} was updated", ctx.title()),
            format!("{} changed the order's requirements or deadline.", ctx.other_party()),
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::OrderStatusChanged(e) => {
            let mut details = ctx.order_details();
            if let Some(note) = e.note.as_deref().filter(|n| !n.is_empty()) {
                details.push(Detail { label: "Note", value: note.to_string() });
            }
            (
                format!("Order {} is {}", ctx.title(), status_words(e.to)),
                format!(
                    "{} moved the order from {} to {}.",
                    actor_name(ctx, e.actor_role),
                    status_words(e.from),
                    status_words(e.to)
                ),
                details,
                order_action(e.order_id),
            )
        }
        Event::CancellationRequested(e) => (
            format!("Cancellation requested: {}", ctx.title()),
            format!(
                "{} asked to cancel the order. Answer before {}, or it is accepted.",
                ctx.other_party(),
                format_time(e.auto_accept_at, &ctx.recipient.time_zone)
            ),
            vec![Detail { label: "Reason", value: e.reason.clone() }],
            order_action(e.order_id),
        ),
        Event::CancellationRejected(e) => (
            format!("Your cancellation request for {} was closed", ctx.title()),
            match e.reason {
                crate::domain::events::RejectionReason::Rejected => {
                    format!("{} declined to cancel the order.", ctx.other_party())
                }
                crate::domain::events::RejectionReason::OrderMoved => format!(
                    "The order moved on ({}) before anyone answered.",
                    status_words(e.order_status)
                ),
            },
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::PaymentTermsProposed(e) => (
            format!("Payment terms proposed for {}", ctx.title()),
            format!(
                "{} proposed {} by {}, due {}. Accept them, or propose your own.",
                ctx.other_party(),
                format_money(e.amount.amount, &e.amount.currency),
                e.method.as_str().replace('_', " "),
                format_time(e.due_at, &ctx.recipient.time_zone)
            ),
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::PaymentTermsAccepted(e) => (
            format!("Payment terms agreed for {}", ctx.title()),
            format!(
                "{} accepted your payment terms of {}.",
                ctx.other_party(),
                format_money(e.amount.amount, &e.amount.currency)
            ),
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::InvoiceSent(e) => (
            format!("Invoice {} for {}", e.number, ctx.title()),
            format!(
                "{} sent you invoice {} of {}{}.",
                ctx.other_party(),
                e.number,
                format_money(e.total.amount, &e.total.currency),
                e.due_at.map_or_else(String::new, |d| format!(
                    ", due {}",
                    format_time(d, &ctx.recipient.time_zone)
                ))
            ),
            ctx.order_details(),
            ("View the invoice", format!("{base}/invoices/{}", e.invoice_id)),
        ),
        Event::InvoiceVoided(e) | Event::InvoiceMarkedUncollectible(e) => (
            format!("Invoice {} was closed", e.number),
            match event {
                Event::InvoiceVoided(_) => format!("Invoice {} was voided: nothing is owed on it.", e.number),
                _ => format!("Invoice {} was marked uncollectible.", e.number),
            },
            ctx.order_details(),
            ("View the invoice", format!("{base}/invoices/{}", e.invoice_id)),
        ),
        Event::InvoicePaid(e) => (
            format!("Invoice {} is paid", e.number),
            format!(
                "Invoice {} is paid in full ({}){}.",
                e.number,
                format_money(e.amount_paid.amount, &e.amount_paid.currency),
                if e.out_of_band { ", as recorded by the creative" } else { "" }
            ),
            ctx.order_details(),
            ("View the invoice", format!("{base}/invoices/{}", e.invoice_id)),
        ),
        Event::ReviewPublished(e) => (
            format!("A review of you on {}", ctx.title()),
            format!(
                "{} rated you {} out of 5. You may reply to it publicly once.",
                actor_name(ctx, e.author_role),
                e.rating
            ),
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::SupportTicketReplied(e) => (
            format!("Support answered: {}", header_safe(&e.subject)),
            "The support team answered your ticket. Reply to it if you need more help.".into(),
            vec![Detail { label: "Answer", value: e.excerpt.clone() }],
            ("View the ticket", format!("{base}/support/tickets/{}", e.ticket_id)),
        ),
        Event::SupportTicketResolved(e) => (
            format!("Resolved: {}", header_safe(&e.subject)),
            format!(
                "The support team marked your ticket resolved. If it is not, reply within {} days and it reopens.",
                crate::domain::support::REOPEN_WINDOW_DAYS
            ),
            Vec::new(),
            ("View the ticket", format!("{base}/support/tickets/{}", e.ticket_id)),
        ),
        Event::OrderDueDateExtended(e) => {
            let mut details = ctx.order_details();
            details.push(Detail { label: "Reason", value: e.note.clone() });
            (
                format!("New due date for {}", ctx.title()),
                format!(
                    "The support team moved the due date from {} to {}.",
                    format_time(e.previous_due_at, &ctx.recipient.time_zone),
                    format_time(e.due_at, &ctx.recipient.time_zone)
                ),
                details,
                order_action(e.order_id),
            )
        }
        Event::PaymentSucceeded(e) => (
            format!("Payment received for {}", ctx.title()),
            format!(
                "A payment of {} went through. It is held in escrow until the work is accepted.",
                format_money(e.amount.amount, &e.amount.currency)
            ),
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::PaymentFailed(e) => (
            format!("Your payment for {} did not go through", ctx.title()),
            format!(
                "The payment of {} failed ({}). Try again with another card.",
                format_money(e.amount.amount, &e.amount.currency),
                e.failure_code.replace('_', " ")
            ),
            ctx.order_details(),
            ("View the invoice", format!("{base}/invoices/{}", e.invoice_id)),
        ),
        Event::RefundSucceeded(e) => (
            format!("Refund for {}", ctx.title()),
            format!(
                "{} is on its way back to your card.",
                format_money(e.amount.amount, &e.amount.currency)
            ),
            ctx.order_details(),
            order_action(e.order_id),
        ),
        Event::PayoutPaid(e) => (
            "Your payout is on its way".into(),
            format!(
                "{} was sent to your account ending {}.",
                format_money(e.amount.amount, &e.amount.currency),
                e.iban_last4
            ),
            Vec::new(),
            ("View your balance", format!("{base}/balance")),
        ),
        Event::WebhookEndpointDisabled(e) => (
            "A webhook endpoint was turned off".into(),
            format!(
                "Every delivery to {} has failed since {}, so it was disabled and receives nothing more. Fix the receiver, then enable it again.",
                e.url,
                e.failing_since.format("%Y-%m-%d %H:%M UTC")
            ),
            Vec::new(),
            ("Manage your webhooks", format!("{base}/settings/webhooks")),
        ),
        Event::MessagePosted(e) => return messages(std::slice::from_ref(e), ctx),
        Event::PasswordResetRequested(e) => (
            "Reset your CreateSpace password".into(),
            format!(
                "Someone (hopefully you) asked to reset the password of this account. The link works once, until {}. If it was not you, ignore this mail.",
                format_time(e.expires_at, &ctx.recipient.time_zone)
            ),
            Vec::new(),
            ("Choose a new password", format!("{base}/reset-password?token={}", e.token)),
        ),
        Event::EmailVerificationRequested(e) => (
            "Confirm your email address".into(),
            format!(
                "Confirm this address to place and receive orders on CreateSpace. The link works until {}.",
                format_time(e.expires_at, &ctx.recipient.time_zone)
            ),
            Vec::new(),
            ("Confirm my address", format!("{base}/verify-email?token={}", e.token)),
        ),
    };
    Content {
        subject: header_safe(&subject),
        lead,
        details,
        quotes: Vec::new(),
        action_label,
        action_url,
    }
}

/// One mail for several new messages on one order (new-message mail is batched).
pub fn messages(batch: &[MessagePosted], ctx: &Context<'_>) -> Content {
    let order_id = batch
        .first()
        .map(|m| m.order_id)
        .or(ctx.order.map(|o| o.id));
    let subject = match batch.len() {
        1 => format!("New message on {}", ctx.title()),
        n => format!("{n} new messages on {}", ctx.title()),
    };
    let quotes = batch
        .iter()
        .map(|m| Quote {
            author: actor_name(ctx, m.sender_role),
            text: if m.attachment_count > 0 {
                format!("{} [{} file(s) attached]", m.excerpt, m.attachment_count)
            } else {
                m.excerpt.clone()
            },
        })
        .collect();
    Content {
        subject: header_safe(&subject),
        lead: format!(
            "You have {} on the order {}.",
            plural(batch.len()),
            ctx.title()
        ),
        details: Vec::new(),
        quotes,
        action_label: "Reply",
        action_url: order_id.map_or_else(|| ctx.base_url.to_string(), |id| ctx.order_link(id)),
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "a new message".into()
    } else {
        format!("{n} new messages")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_uses_the_currency_minor_units() {
        assert_eq!(format_money(15000, "EUR"), "150.00 EUR");
        assert_eq!(format_money(5, "USD"), "0.05 USD");
        assert_eq!(format_money(1500, "JPY"), "1500 JPY");
        assert_eq!(format_money(12345, "BHD"), "12.345 BHD");
    }

    #[test]
    fn times_are_shown_in_the_recipient_zone_with_its_name() {
        let at: DateTime<Utc> = "2026-12-01T13:00:00Z".parse().unwrap();
        assert_eq!(
            format_time(at, "Europe/Berlin"),
            "Tue 1 Dec 2026, 14:00 (Europe/Berlin)"
        );
        assert_eq!(
            format_time(at, "Mars/Olympus"),
            "Tue 1 Dec 2026, 13:00 (UTC)"
        );
    }

    #[test]
    fn a_subject_never_spans_two_lines() {
        let s = header_safe("Logo\r\nBcc: victim@example.com\u{0}");
        assert_eq!(s, "Logo Bcc: victim@example.com");
        assert!(header_safe(&"x".repeat(500)).chars().count() <= 201);
        assert_eq!(header_safe("Invoice \u{202E}fdp.exe"), "Invoice fdp.exe");
    }
}
