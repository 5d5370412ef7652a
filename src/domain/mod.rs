//! Pure rules: value types that can only hold valid values, money, the order state machine.
//! No I/O and no framework types here.

/// An enumeration known by its snake_case names (in JSON and in `text` columns): `as_str` and
/// `parse` from one list, so the two can never disagree.
macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            pub fn parse(s: &str) -> Option<$ty> {
                match s {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

/// An enumeration stored as text and sent as its snake_case names: the derives every such type
/// needs, and [`named_enum!`] from the same list of names.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
        named_enum!($name { $($variant => $text),+ });
    };
}

pub mod account;
pub mod audit;
pub mod billing;
pub mod events;
pub mod ids;
pub mod messages;
pub mod money;
pub mod net;
pub mod notify;
pub mod order;
pub mod payments;
pub mod reviews;
pub mod signature;
pub mod support;
pub mod text;
pub mod time;
pub mod webhooks;

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
