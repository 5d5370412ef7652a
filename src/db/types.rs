//! How the domain's types are stored: enumerations as their snake_case names in `text` columns (a
//! value the code does not know is an error when read, never a silent default), typed ids as `uuid`.

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::domain::account::CustomOrders;
use crate::domain::audit::Action;
use crate::domain::billing::invoice::InvoiceStatus;
use crate::domain::billing::terms::{PaymentMethod, Schedule};
use crate::domain::ids::{
    AttachmentId, AuditEntryId, DeliveryId, InvoiceId, MessageId, NotificationId, OrderId,
    PaymentId, PaymentTermsId, PayoutId, RefundId, ServiceId, SupportMessageId, TicketId, UserId,
    WebhookEndpointId,
};
use crate::domain::messages::MessageKind;
use crate::domain::notify::Channel;
use crate::domain::order::{ActorRole, CancellationStatus, OrderStatus};
use crate::domain::payments::{PaymentStatus, TransferStatus};
use crate::domain::support::{AuthorRole, TicketStatus};

macro_rules! text_enum {
    ($ty:ident) => {
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let raw = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                $ty::parse(&raw).ok_or_else(|| {
                    format!("unknown {} `{raw}` in the database", stringify!($ty)).into()
                })
            }
        }
    };
}

text_enum!(OrderStatus);
text_enum!(ActorRole);
text_enum!(CancellationStatus);
text_enum!(CustomOrders);
text_enum!(MessageKind);
text_enum!(Channel);
text_enum!(InvoiceStatus);
text_enum!(PaymentMethod);
text_enum!(Schedule);
text_enum!(TicketStatus);
text_enum!(AuthorRole);
text_enum!(Action);
text_enum!(PaymentStatus);
text_enum!(TransferStatus);

macro_rules! uuid_id {
    ($ty:ident) => {
        impl ToSql<SqlUuid, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <Uuid as ToSql<SqlUuid, Pg>>::to_sql(self.as_uuid_ref(), &mut out.reborrow())
            }
        }

        impl FromSql<SqlUuid, Pg> for $ty {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                <Uuid as FromSql<SqlUuid, Pg>>::from_sql(bytes).map($ty::from_uuid)
            }
        }
    };
}

uuid_id!(UserId);
uuid_id!(OrderId);
uuid_id!(ServiceId);
uuid_id!(MessageId);
uuid_id!(AttachmentId);
uuid_id!(DeliveryId);
uuid_id!(NotificationId);
uuid_id!(InvoiceId);
uuid_id!(PaymentTermsId);
uuid_id!(TicketId);
uuid_id!(SupportMessageId);
uuid_id!(AuditEntryId);
uuid_id!(PaymentId);
uuid_id!(RefundId);
uuid_id!(PayoutId);
uuid_id!(WebhookEndpointId);
