//! Payments through the platform: their states, the money's moves on the ledger (each a balanced
//! set of postings), the platform fee, and the checks on what may be paid, refunded or paid out.

use super::ids::{OrderId, UserId};

pub mod iban;
pub mod sandbox;

stored_enum!(PaymentStatus {
    Pending => "pending",
    RequiresAction => "requires_action",
    Succeeded => "succeeded",
    Failed => "failed",
});

stored_enum!(TransferStatus {
    Pending => "pending",
    Succeeded => "succeeded",
    Failed => "failed",
});

impl PaymentStatus {
    /// Not yet settled either way: its amount is reserved against the invoice.
    pub fn in_flight(&self) -> bool {
        matches!(self, PaymentStatus::Pending | PaymentStatus::RequiresAction)
    }
}

/// An account of the ledger. Each exists per currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    /// What a client has put in from outside (negative: money in).
    ClientFunding(UserId),
    /// What the platform holds for an order while its work is open.
    Escrow(OrderId),
    /// What a creative has earned and may pay out.
    CreativeAvailable(UserId),
    /// What has left for a creative's bank account (credited as it leaves).
    PaidOut(UserId),
    PlatformFees,
    /// Refunds asked of the provider and not yet confirmed.
    RefundsInFlight,
    /// Payouts sent and not yet confirmed.
    PayoutsInFlight,
}

impl Account {
    pub fn kind(&self) -> &'static str {
        match self {
            Account::ClientFunding(_) => "client_funding",
            Account::Escrow(_) => "escrow",
            Account::CreativeAvailable(_) => "creative_available",
            Account::PaidOut(_) => "paid_out",
            Account::PlatformFees => "platform_fees",
            Account::RefundsInFlight => "refunds_in_flight",
            Account::PayoutsInFlight => "payouts_in_flight",
        }
    }

    pub fn owner(&self) -> Option<uuid::Uuid> {
        match self {
            Account::ClientFunding(u) | Account::CreativeAvailable(u) | Account::PaidOut(u) => {
                Some(u.as_uuid())
            }
            Account::Escrow(o) => Some(o.as_uuid()),
            _ => None,
        }
    }
}

/// One line of a ledger transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub amount: i64,
}

/// Moves `amount` from one account to another: two postings that sum to zero.
pub fn transfer(from: Account, to: Account, amount: i64) -> Vec<Posting> {
    vec![
        Posting {
            account: from,
            amount: -amount,
        },
        Posting {
            account: to,
            amount,
        },
    ]
}

/// The platform's fee on `amount`, in basis points, rounded down (the creative keeps the odd unit).
pub fn fee(amount: i64, bps: u32) -> i64 {
    let fee = i128::from(amount) * i128::from(bps) / 10_000;
    i64::try_from(fee).unwrap_or(amount).clamp(0, amount.max(0))
}

/// Paying the creative `amount` out of `from`, less the fee to the platform.
pub fn release(from: Account, creative: UserId, amount: i64, fee_bps: u32) -> Vec<Posting> {
    let fee = fee(amount, fee_bps);
    let mut postings = vec![Posting {
        account: from,
        amount: -amount,
    }];
    postings.push(Posting {
        account: Account::CreativeAvailable(creative),
        amount: amount - fee,
    });
    if fee > 0 {
        postings.push(Posting {
            account: Account::PlatformFees,
            amount: fee,
        });
    }
    postings.retain(|p| p.amount != 0);
    postings
}

/// Why a payment, refund or payout is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        code,
        message: message.into(),
    }
}

/// How much of an invoice a payment may cover: what is due less what payments in flight already
/// reserve; the whole of it unless the terms allow parts.
pub fn check_payment(
    due: i64,
    reserved: i64,
    amount: i64,
    partial_allowed: bool,
) -> Result<(), Refusal> {
    let open = due - reserved;
    if open <= 0 {
        return Err(refuse(
            "amount",
            "nothing_due",
            "Nothing is left to pay on this invoice (payments in progress cover the rest).",
        ));
    }
    if amount > open {
        return Err(refuse(
            "amount.amount",
            "amount_exceeds_due",
            format!("At most {open} is due on this invoice."),
        ));
    }
    if amount < open && !partial_allowed {
        return Err(refuse(
            "amount.amount",
            "partial_not_allowed",
            format!("The agreed terms take the whole {open} at once (partial payments come with milestone terms)."),
        ));
    }
    Ok(())
}

/// A refund of a payment: at most what is left of it, and of what escrow still holds.
pub fn check_refund(refundable: i64, escrow: i64, amount: i64) -> Result<(), Refusal> {
    if amount > refundable {
        return Err(refuse(
            "amount.amount",
            "exceeds_refundable",
            format!("At most {refundable} of this payment can still be refunded."),
        ));
    }
    if amount > escrow {
        return Err(refuse(
            "amount.amount",
            "exceeds_escrow",
            format!("The order's escrow holds {escrow}: released money is not refunded here."),
        ));
    }
    Ok(())
}

/// A payout of at most the available balance.
pub fn check_payout(available: i64, amount: i64) -> Result<(), Refusal> {
    if amount > available {
        return Err(refuse(
            "amount.amount",
            "insufficient_balance",
            format!("Your available balance is {available}."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_fee_is_rounded_down_and_never_more_than_the_amount() {
        assert_eq!(fee(10_000, 1000), 1000);
        assert_eq!(fee(999, 1000), 99);
        assert_eq!(fee(5, 10_000), 5);
        assert_eq!(fee(i64::MAX, 10_000), i64::MAX);
    }

    #[test]
    fn payments_cover_what_is_due_and_parts_only_when_allowed() {
        assert!(check_payment(100, 0, 100, false).is_ok());
        assert_eq!(
            check_payment(100, 0, 101, true).unwrap_err().code,
            "amount_exceeds_due"
        );
        assert_eq!(
            check_payment(100, 0, 40, false).unwrap_err().code,
            "partial_not_allowed"
        );
        assert!(check_payment(100, 50, 50, false).is_ok());
        assert_eq!(
            check_payment(100, 100, 1, true).unwrap_err().code,
            "nothing_due"
        );
        assert!(check_payment(100, 30, 20, true).is_ok());
    }

    proptest! {
        #[test]
        fn a_release_always_balances(amount in 1i64..=100_000_000_000, bps in 0u32..=10_000) {
            let order = OrderId::new();
            let postings = release(Account::Escrow(order), UserId::new(), amount, bps);
            prop_assert_eq!(postings.iter().map(|p| p.amount).sum::<i64>(), 0);
            prop_assert!(postings.iter().all(|p| p.amount != 0));
        }
    }
}
