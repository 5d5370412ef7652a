//! Who hears of what, and how: the channels, each event type's defaults, the events that cannot be
//! turned off, and the retry schedule. Pure rules; the worker and the preferences API apply them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::Event;
use super::ids::UserId;
use super::Invalid;

pub mod content;

/// Where a notification goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Channel {
    Email,
    InApp,
}

named_enum!(Channel {
    Email => "email",
    InApp => "in_app",
});

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::InApp];
}

/// What an event type does by default on each channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub event_type: &'static str,
    pub email: bool,
    pub in_app: bool,
    /// Security mail: always sent, and the preferences API refuses to turn it off.
    pub locked: bool,
}

impl Rule {
    pub fn default_for(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email,
            Channel::InApp => self.in_app,
        }
    }

    /// Whether the channel exists at all for this event (security mail has no in-app copy: the
    /// token it carries must not sit in an inbox).
    pub fn offers(&self, channel: Channel) -> bool {
        !self.locked || self.default_for(channel)
    }
}

const fn rule(event_type: &'static str, email: bool, in_app: bool, locked: bool) -> Rule {
    Rule {
        event_type,
        email,
        in_app,
        locked,
    }
}

/// Every event type a person is notified of, with its defaults. `order.updated` is in-app only by
/// default: a creative hears of each edit of a new order without a mail per keystroke.
pub const RULES: [Rule; 23] = [
    rule("order.placed", true, true, false),
    rule("order.updated", false, true, false),
    rule("order.status_changed", true, true, false),
    rule("order.cancellation_requested", true, true, false),
    rule("order.cancellation_rejected", true, true, false),
    rule("message.posted", true, true, false),
    rule("user.password_reset_requested", true, false, true),
    rule("user.email_verification_requested", true, false, true),
    rule("payment_terms.proposed", true, true, false),
    rule("payment_terms.accepted", true, true, false),
    rule("invoice.sent", true, true, false),
    rule("invoice.voided", true, true, false),
    // The creative's own act: there for integrations and for anyone who wants it, off by default.
    rule("invoice.marked_uncollectible", false, false, false),
    rule("invoice.paid", true, true, false),
    rule("review.published", true, true, false),
    rule("support_ticket.replied", true, true, false),
    rule("support_ticket.resolved", true, true, false),
    rule("order.due_date_extended", true, true, false),
    rule("payment.succeeded", true, true, false),
    rule("payment.failed", true, true, false),
    rule("refund.succeeded", true, true, false),
    rule("payout.paid", true, true, false),
    rule("webhook_endpoint.disabled", true, true, false),
];

pub fn rule_for(event_type: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.event_type == event_type)
}

/// A user's choice for one (event type, channel), checked against the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preference {
    pub rule: &'static Rule,
    pub channel: Channel,
    pub enabled: bool,
}

impl Preference {
    pub fn parse(event_type: &str, channel: Channel, enabled: bool) -> Result<Self, Invalid> {
        let rule = rule_for(event_type).ok_or_else(|| {
            Invalid::new(
                "unknown_event_type",
                format!("must be one of: {}", RULES.map(|r| r.event_type).join(", ")),
            )
        })?;
        if !rule.offers(channel) {
            return Err(Invalid::new(
                "channel_not_offered",
                format!("{event_type} is never sent {}", channel.as_str()),
            ));
        }
        if rule.locked && !enabled {
            return Err(Invalid::new(
                "security_notification",
                format!("{event_type} is security mail and is always sent"),
            ));
        }
        Ok(Preference {
            rule,
            channel,
            enabled,
        })
    }
}

/// Whether `event_type` goes to `channel`, given the user's stored choice if any.
pub fn wanted(event_type: &str, channel: Channel, stored: Option<bool>) -> bool {
    match rule_for(event_type) {
        Some(rule) if rule.locked => rule.default_for(channel),
        Some(rule) => rule.offers(channel) && stored.unwrap_or(rule.default_for(channel)),
        None => false,
    }
}

/// Who is notified of `event`: its recipients, but never the person who caused it (the party who
/// moved an order learns nothing new from a mail saying so).
pub fn audience(event: &Event) -> Vec<UserId> {
    let actor = match event {
        Event::OrderStatusChanged(e) => e.actor_id,
        _ => None,
    };
    let mut people = event.recipients();
    people.retain(|p| Some(*p) != actor);
    people.dedup();
    people
}

/// When a failed delivery is tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub max_attempts: i32,
}

/// What to do after attempt `attempts` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryIn(Duration),
    Dead,
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter": half the step fixed, half random (`jitter` in
    /// [0, 1)), so workers that failed together do not retry together, and no wait is near zero.
    pub fn after_failure(&self, attempts: i32, jitter: f64) -> AfterFailure {
        if attempts >= self.max_attempts {
            return AfterFailure::Dead;
        }
        let exponent = attempts.clamp(1, 31) as u32 - 1;
        let step = self
            .first_delay
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max_delay);
        let jitter = jitter.clamp(0.0, 1.0);
        AfterFailure::RetryIn(step / 2 + step.mul_f64(jitter / 2.0))
    }
}

/// New-message mail is batched: at most one per order and recipient in this window.
pub const MESSAGE_MAIL_WINDOW: Duration = Duration::from_secs(10 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        first_delay: Duration::from_secs(10),
        max_delay: Duration::from_secs(3600),
        max_attempts: 8,
    };

    #[test]
    fn backoff_doubles_within_its_jitter_band_and_is_capped() {
        for attempts in 1..8 {
            let step =
                Duration::from_secs(10 * 2u64.pow(attempts as u32 - 1)).min(POLICY.max_delay);
            let AfterFailure::RetryIn(low) = POLICY.after_failure(attempts, 0.0) else {
                panic!("attempt {attempts} should be retried");
            };
            let AfterFailure::RetryIn(high) = POLICY.after_failure(attempts, 0.999) else {
                panic!("attempt {attempts} should be retried");
            };
            assert_eq!(low, step / 2);
            assert!(
                high < step && high > step.mul_f64(0.99),
                "{high:?} vs {step:?}"
            );
        }
    }

    #[test]
    fn the_last_attempt_makes_a_delivery_dead() {
        assert_eq!(POLICY.after_failure(8, 0.5), AfterFailure::Dead);
        assert_eq!(POLICY.after_failure(100, 0.5), AfterFailure::Dead);
    }

    #[test]
    fn security_mail_cannot_be_turned_off_nor_copied_in_app() {
        let off = Preference::parse("user.password_reset_requested", Channel::Email, false);
        assert_eq!(off.unwrap_err().code, "security_notification");
        let in_app = Preference::parse("user.password_reset_requested", Channel::InApp, true);
        assert_eq!(in_app.unwrap_err().code, "channel_not_offered");
        assert!(wanted(
            "user.password_reset_requested",
            Channel::Email,
            Some(false)
        ));
        assert!(!wanted(
            "user.password_reset_requested",
            Channel::InApp,
            Some(true)
        ));
    }

    #[test]
    fn a_stored_choice_overrides_the_default() {
        assert!(wanted("order.placed", Channel::Email, None));
        assert!(!wanted("order.placed", Channel::Email, Some(false)));
        assert!(!wanted("order.updated", Channel::Email, None));
        assert!(wanted("order.updated", Channel::Email, Some(true)));
        assert!(!wanted("no.such_event", Channel::Email, Some(true)));
        assert_eq!(
            Preference::parse("order.nope", Channel::Email, true)
                .unwrap_err()
                .code,
            "unknown_event_type"
        );
    }
}
