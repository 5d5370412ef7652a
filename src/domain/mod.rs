//! Pure rules: value types that can only hold valid values, money, the order state machine.
//! No I/O and no framework types here.

pub mod account;
pub mod events;
pub mod ids;
pub mod messages;
pub mod money;
pub mod order;
pub mod text;
pub mod time;

/// Why a value was refused: a stable machine code and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}
