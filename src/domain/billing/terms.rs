//! Payment terms: how much, how and when an order is paid. Either party proposes; the other accepts
//! the proposal they read (its version), and only accepted terms bind an invoice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Issues;
use crate::domain::money::Money;
use crate::domain::text;
use crate::domain::Invalid;

/// How the client pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum PaymentMethod {
    /// Processed by the platform, held until the work is accepted.
    Card,
    /// Paid outside the platform; the creative records it on the invoice.
    BankTransfer,
    /// Paid outside the platform; the creative records it on the invoice.
    Paypal,
}

named_enum!(PaymentMethod {
    Card => "card",
    BankTransfer => "bank_transfer",
    Paypal => "paypal",
});

impl PaymentMethod {
    /// Whether the platform itself takes the money (so a creative may not mark it paid by hand).
    pub fn through_platform(&self) -> bool {
        matches!(self, PaymentMethod::Card)
    }
}

/// When the client pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Schedule {
    Upfront,
    OnDelivery,
    /// In parts, each with a title, an amount and a due date, adding up to the total.
    Milestones,
}

named_enum!(Schedule {
    Upfront => "upfront",
    OnDelivery => "on_delivery",
    Milestones => "milestones",
});

pub const MAX_MILESTONES: usize = 20;

/// One part of a milestone schedule, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub amount: i64,
    pub due_at: DateTime<Utc>,
}

/// A milestone as requested, its amount already a valid price.
pub struct MilestoneDraft {
    pub title: String,
    pub amount: Money,
    pub due_at: DateTime<Utc>,
}

/// Terms that hold together: milestones exactly when the schedule says so, in the terms' currency,
/// due by the final due date, adding up to the total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    pub amount: Money,
    pub method: PaymentMethod,
    pub schedule: Schedule,
    pub due_at: DateTime<Utc>,
    pub milestones: Vec<Milestone>,
}

impl Terms {
    pub fn parse(
        amount: Money,
        method: PaymentMethod,
        schedule: Schedule,
        due_at: DateTime<Utc>,
        drafts: Vec<MilestoneDraft>,
    ) -> Result<Terms, Issues> {
        let mut issues = Issues::new();
        let wants = schedule == Schedule::Milestones;
        if wants && !(1..=MAX_MILESTONES).contains(&drafts.len()) {
            let msg = format!("a milestone schedule has 1 to {MAX_MILESTONES} milestones");
            issues.push(("milestones".into(), Invalid::new("milestone_count", msg)));
        }
        if !wants && !drafts.is_empty() {
            let msg = "only a `milestones` schedule has milestones";
            issues.push(("milestones".into(), Invalid::new("not_allowed", msg)));
        }
        let mut milestones = Vec::with_capacity(drafts.len());
        let mut sum: Option<i64> = Some(0);
        for (i, m) in drafts.into_iter().enumerate() {
            let at = |f: &str| format!("milestones[{i}].{f}");
            if m.amount.currency() != amount.currency() {
                let msg = format!(
                    "must be {}, the currency of the terms",
                    amount.currency().code()
                );
                issues.push((
                    at("amount.currency"),
                    Invalid::new("currency_mismatch", msg),
                ));
            }
            if m.due_at > due_at {
                let msg = "must be due by the terms' due date";
                issues.push((at("due_at"), Invalid::new("after_due_at", msg)));
            }
            match text::TITLE.parse(&m.title) {
                Ok(title) => milestones.push(Milestone {
                    title,
                    amount: m.amount.amount(),
                    due_at: m.due_at,
                }),
                Err(e) => issues.push((at("title"), e)),
            }
            sum = sum.and_then(|s| s.checked_add(m.amount.amount()));
        }
        if wants && issues.is_empty() && sum != Some(amount.amount()) {
            let msg = format!("the milestones must add up to exactly {}", amount.amount());
            issues.push(("milestones".into(), Invalid::new("sum_mismatch", msg)));
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(Terms {
            amount,
            method,
            schedule,
            due_at,
            milestones,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(a: i64) -> Money {
        Money::parse_price(a, "EUR").unwrap()
    }

    fn draft(amount: Money, days: i64) -> MilestoneDraft {
        MilestoneDraft {
            title: "Sketches".into(),
            amount,
            due_at: Utc::now() + chrono::Duration::days(days),
        }
    }

    #[test]
    fn milestones_must_add_up_exactly() {
        let due = Utc::now() + chrono::Duration::days(30);
        let parse = |ms| {
            Terms::parse(
                eur(1000),
                PaymentMethod::Card,
                Schedule::Milestones,
                due,
                ms,
            )
        };
        assert!(parse(vec![draft(eur(400), 5), draft(eur(600), 10)]).is_ok());
        let e = parse(vec![draft(eur(400), 5), draft(eur(599), 10)]).unwrap_err();
        assert_eq!(e[0].1.code, "sum_mismatch");
        assert_eq!(parse(vec![]).unwrap_err()[0].1.code, "milestone_count");
        let usd = Money::parse_price(1000, "USD").unwrap();
        assert_eq!(
            parse(vec![draft(usd, 5)]).unwrap_err()[0].0,
            "milestones[0].amount.currency"
        );
        assert_eq!(
            parse(vec![draft(eur(1000), 31)]).unwrap_err()[0].0,
            "milestones[0].due_at"
        );
    }

    #[test]
    fn other_schedules_take_no_milestones() {
        let due = Utc::now() + chrono::Duration::days(30);
        let e = Terms::parse(
            eur(10),
            PaymentMethod::Paypal,
            Schedule::Upfront,
            due,
            vec![draft(eur(10), 1)],
        );
        assert_eq!(e.unwrap_err()[0].1.code, "not_allowed");
        assert!(PaymentMethod::Card.through_platform());
        assert!(!PaymentMethod::BankTransfer.through_platform());
    }
}
