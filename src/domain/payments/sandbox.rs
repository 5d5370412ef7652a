//! The sandbox's test payment methods, named as Stripe names its own, with the card numbers of its
//! test mode as aliases: what each one does when charged.

/// What a sandbox charge does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Succeeds,
    /// Declined: `card_declined`.
    Declined,
    /// Stays `pending`; the worker settles it as succeeded shortly after.
    Processing,
    /// Fails with `processing_error`.
    ProcessingError,
    /// Answers `requires_action` until the client confirms.
    AuthenticationRequired,
}

/// The tokens and numbers the sandbox knows; anything else is not a payment method it can charge.
pub const METHODS: [(&str, &str, Behaviour); 5] = [
    ("pm_card_visa", "4242424242424242", Behaviour::Succeeds),
    (
        "pm_card_chargeDeclined",
        "4000000000000002",
        Behaviour::Declined,
    ),
    (
        "pm_card_processing",
        "4000000000000077",
        Behaviour::Processing,
    ),
    (
        "pm_card_chargeDeclinedProcessingError",
        "4000000000000119",
        Behaviour::ProcessingError,
    ),
    (
        "pm_card_authenticationRequired",
        "4000002760003184",
        Behaviour::AuthenticationRequired,
    ),
];

pub fn behaviour(method: &str) -> Option<Behaviour> {
    let compact: String = method.chars().filter(|c| *c != ' ').collect();
    METHODS
        .iter()
        .find(|(token, number, _)| *token == method || *number == compact)
        .map(|(_, _, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_test_numbers_name_the_same_behaviour() {
        assert_eq!(behaviour("pm_card_visa"), Some(Behaviour::Succeeds));
        assert_eq!(behaviour("4242 4242 4242 4242"), Some(Behaviour::Succeeds));
        assert_eq!(
            behaviour("pm_card_chargeDeclined"),
            Some(Behaviour::Declined)
        );
        assert_eq!(behaviour("tok_unknown"), None);
    }
}
