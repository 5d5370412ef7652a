//! An invoice's life, as Stripe models it: `draft` → `open` → `paid`, or `void` / `uncollectible`.
//! A draft is the creative's own until sent; sending freezes it and gives it its number.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum InvoiceStatus {
    /// Being written; only its creative sees it; no number yet.
    Draft,
    /// Sent to the client and awaiting payment; frozen.
    Open,
    /// Paid in full.
    Paid,
    /// Cancelled before any payment.
    Void,
    /// Written off by the creative; it may still be paid.
    Uncollectible,
}

named_enum!(InvoiceStatus {
    Draft => "draft",
    Open => "open",
    Paid => "paid",
    Void => "void",
    Uncollectible => "uncollectible",
});

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
        InvoiceStatus::Uncollectible,
    ];

    /// Sent and not voided: what counts against the order's agreed amount.
    pub fn counts_as_invoiced(&self) -> bool {
        matches!(
            self,
            InvoiceStatus::Open | InvoiceStatus::Paid | InvoiceStatus::Uncollectible
        )
    }
}

/// What the creative can do to an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceAction {
    Edit,
    Delete,
    Send,
    Void,
    MarkUncollectible,
    MarkPaid,
}

impl InvoiceAction {
    pub const ALL: [InvoiceAction; 6] = [
        InvoiceAction::Edit,
        InvoiceAction::Delete,
        InvoiceAction::Send,
        InvoiceAction::Void,
        InvoiceAction::MarkUncollectible,
        InvoiceAction::MarkPaid,
    ];
}

/// Why an action is refused in the invoice's current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// The status `action` leads to from `status` (the same status for an edit), or why not.
pub fn check(
    status: InvoiceStatus,
    amount_paid: i64,
    action: InvoiceAction,
) -> Result<InvoiceStatus, Refusal> {
    use InvoiceAction as A;
    use InvoiceStatus as S;
    let refuse = |code, message: String| Err(Refusal { code, message });
    match (action, status) {
        (A::Edit | A::Delete, S::Draft) => Ok(S::Draft),
        (A::Send, S::Draft) => Ok(S::Open),
        (A::Edit | A::Delete | A::Send, _) => refuse(
            "invoice_frozen",
            format!(
                "The invoice is {} and can no longer be changed; void it and send a new one.",
                status.as_str()
            ),
        ),
        (A::Void, S::Open) if amount_paid > 0 => refuse(
            "invoice_partly_paid",
            "Part of this invoice is paid; it can no longer be voided.".into(),
        ),
        (A::Void, S::Open) => Ok(S::Void),
        (A::MarkUncollectible, S::Open) => Ok(S::Uncollectible),
        (A::MarkPaid, S::Open | S::Uncollectible) => Ok(S::Paid),
        (_, S::Draft) => refuse(
            "invoice_not_sent",
            "The invoice is a draft: send it first.".into(),
        ),
        _ => refuse(
            "invalid_invoice_transition",
            format!(
                "An invoice in status `{}` cannot be {}.",
                status.as_str(),
                past(action)
            ),
        ),
    }
}

fn past(action: InvoiceAction) -> &'static str {
    match action {
        InvoiceAction::Edit => "edited",
        InvoiceAction::Delete => "deleted",
        InvoiceAction::Send => "sent",
        InvoiceAction::Void => "voided",
        InvoiceAction::MarkUncollectible => "marked uncollectible",
        InvoiceAction::MarkPaid => "marked paid",
    }
}

/// What the creative may do now.
pub fn allowed_actions(status: InvoiceStatus, amount_paid: i64) -> Vec<InvoiceAction> {
    InvoiceAction::ALL
        .into_iter()
        .filter(|a| check(status, amount_paid, *a).is_ok())
        .collect()
}

/// A payment of `amount` on an invoice with `paid` of `total` paid: the new amount paid and status.
/// Paying more than is due is refused, never rounded away.
pub fn after_payment(total: i64, paid: i64, amount: i64) -> Result<(i64, InvoiceStatus), Refusal> {
    match paid.checked_add(amount) {
        Some(new) if amount > 0 && new <= total => Ok((
            new,
            if new == total {
                InvoiceStatus::Paid
            } else {
                InvoiceStatus::Open
            },
        )),
        _ => Err(Refusal {
            code: "amount_exceeds_due",
            message: format!("At most {} is due on this invoice.", total - paid),
        }),
    }
}

/// `INV-2026-0001`: the creative's `sequence`th invoice sent in `year`.
pub fn number(year: i32, sequence: i32) -> String {
    format!("INV-{year}-{sequence:04}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use InvoiceAction as A;
    use InvoiceStatus as S;

    #[test]
    fn every_move_and_every_refusal() {
        let table = [
            (
                S::Draft,
                [
                    Some(S::Draft),
                    Some(S::Draft),
                    Some(S::Open),
                    None,
                    None,
                    None,
                ],
            ),
            (
                S::Open,
                [
                    None,
                    None,
                    None,
                    Some(S::Void),
                    Some(S::Uncollectible),
                    Some(S::Paid),
                ],
            ),
            (S::Paid, [None; 6]),
            (S::Void, [None; 6]),
            (
                S::Uncollectible,
                [None, None, None, None, None, Some(S::Paid)],
            ),
        ];
        for (status, expected) in table {
            for (action, want) in A::ALL.into_iter().zip(expected) {
                assert_eq!(check(status, 0, action).ok(), want, "{status:?} {action:?}");
            }
        }
        assert_eq!(
            check(S::Open, 1, A::Void).unwrap_err().code,
            "invoice_partly_paid"
        );
        assert_eq!(
            check(S::Open, 0, A::Edit).unwrap_err().code,
            "invoice_frozen"
        );
        assert_eq!(
            check(S::Draft, 0, A::Void).unwrap_err().code,
            "invoice_not_sent"
        );
    }

    #[test]
    fn payments_never_exceed_the_total() {
        assert_eq!(after_payment(100, 0, 40).unwrap(), (40, S::Open));
        assert_eq!(after_payment(100, 40, 60).unwrap(), (100, S::Paid));
        assert!(after_payment(100, 40, 61).is_err());
        assert!(after_payment(100, 0, 0).is_err());
        assert!(after_payment(i64::MAX, 1, i64::MAX).is_err());
    }

    #[test]
    fn numbers_are_zero_padded_per_year() {
        assert_eq!(number(2026, 1), "INV-2026-0001");
        assert_eq!(number(2027, 12345), "INV-2027-12345");
    }
}
