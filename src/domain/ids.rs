//! Typed ids, so a user id can never be passed where an order id is expected. UUIDv7: time-ordered,
//! which keeps inserts at the right edge of the index and makes `id DESC` mean newest first.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($name:ident) => {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
            pub fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            pub fn as_uuid_ref(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        /// Any UUID names some $name; whether it exists is the database's to say.
        impl From<Uuid> for $name {
            fn from(id: Uuid) -> $name {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(UserId);
typed_id!(OrderId);
typed_id!(ServiceId);

impl MessageId {
    /// The next id in order after this one (the same timestamp, one more in the random bits).
    pub fn successor(&self) -> MessageId {
        MessageId(Uuid::from_u128(self.0.as_u128().wrapping_add(1)))
    }
}
typed_id!(MessageId);
typed_id!(AttachmentId);
typed_id!(DeliveryId);
typed_id!(NotificationId);
typed_id!(InvoiceId);
typed_id!(PaymentTermsId);
typed_id!(TicketId);
typed_id!(SupportMessageId);
typed_id!(AuditEntryId);
typed_id!(PaymentId);
typed_id!(RefundId);
typed_id!(PayoutId);
typed_id!(WebhookEndpointId);
