//! Placing and editing orders.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::{orders, outbox, services, users};
use crate::domain::account::CustomOrders;
use crate::domain::events::{self, Event};
use crate::domain::ids::{OrderId, ServiceId, UserId};
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::domain::{text, Invalid};
use crate::error::{ApiError, FieldError, FieldErrors};

/// What a client asks for: either `service_id` (the rest comes from the service) or a custom order.
pub struct PlaceOrder {
    pub service_id: Option<ServiceId>,
    pub creative_id: Option<UserId>,
    pub title: Option<String>,
    pub requirements: String,
    /// Amount in minor units and currency code, as sent.
    pub price: Option<(i64, String)>,
    pub due_at: Option<DateTime<Utc>>,
    pub revisions_included: Option<i32>,
    /// Only creatives with a verified email address take orders (`REQUIRE_EMAIL_VERIFICATION`).
    pub verified_creatives_only: bool,
}

/// Places an order for `client` and tells the creative (`order.placed`), in one transaction: the
/// caller's when it holds one (an idempotent request records its answer in it), see
/// `db::in_transaction`.
pub async fn place(
    conn: &mut AsyncPgConnection,
    client: UserId,
    input: &PlaceOrder,
) -> Result<orders::OrderRow, ApiError> {
    let new = new_order(conn, input, client).await?;
    if crate::db::in_transaction(conn)? {
        return write_placed(conn, new).await;
    }
    conn.transaction::<_, ApiError, _>(async |conn| write_placed(conn, new).await)
        .await
}

/// The order, its event and its first line, written in the transaction the caller holds.
async fn write_placed(
    conn: &mut AsyncPgConnection,
    new: orders::NewOrder,
) -> Result<orders::OrderRow, ApiError> {
    let row = orders::place(conn, new).await?;
    outbox::insert(
        conn,
        &Event::OrderPlaced(events::OrderPlaced {
            order_id: row.id,
            title: row.title.clone(),
            client_id: row.client_id,
            creative_id: row.creative_id,
            price: events::EventPrice {
                amount: row.price_amount,
                currency: row.price_currency.clone(),
            },
            due_at: row.due_at,
        }),
    )
    .await?;
    let line = format!("The client placed the order: {}", row.title);
    super::messages::post_system(conn, row.id, line).await?;
    tracing::info!(order_id = %row.id, "order placed");
    Ok(row)
}

/// The order if `caller` may see it; 404 otherwise, whether it is absent or not theirs.
pub async fn visible(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    caller: orders::Viewer,
) -> Result<orders::OrderRow, ApiError> {
    orders::find_visible(conn, id, caller)
        .await?
        .ok_or(ApiError::NotFound("order"))
}

/// The client edits a new order (requirements, deadline); the creative hears of it
/// (`order.updated`). 404 if not visible, 403 for anyone but the client, 409 once it is not `new`,
/// 412 on a stale `expected_version`.
pub async fn edit(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: OrderId,
    edits: orders::OrderEdits,
    expected_version: Option<i64>,
) -> Result<orders::OrderRow, ApiError> {
    let current = visible(conn, id, caller).await?;
    if current.client_id != caller.user_id {
        return Err(ApiError::Forbidden {
            code: "not_client",
            detail: "Only the order's client may edit it.".into(),
        });
    }
    // A service's delivery time is the creative's offer, not the client's to shorten.
    if current.service_id.is_some() && edits.due_at.is_some() {
        return Err(ApiError::validation(
            "due_at",
            "not_allowed",
            "comes from the service's delivery time; a service order's deadline cannot be changed",
        ));
    }
    let outcome = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let outcome = orders::edit(conn, id, caller.user_id, edits, expected_version).await?;
            if let orders::EditOutcome::Updated(row) = &outcome {
                let event = events::OrderUpdated {
                    order_id: row.id,
                    creative_id: row.creative_id,
                    version: row.version,
                };
                outbox::insert(conn, &Event::OrderUpdated(event)).await?;
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        orders::EditOutcome::Updated(row) => Ok(*row),
        orders::EditOutcome::Stale(current_version) => {
            Err(ApiError::PreconditionFailed { current_version })
        }
        orders::EditOutcome::NotFound => Err(ApiError::NotFound("order")),
        orders::EditOutcome::NotEditable(status) => Err(ApiError::conflict(
            "order_not_editable",
            "Order can no longer be edited",
            format!("An order in status `{status}` cannot be edited; only `new` orders can."),
        )),
    }
}

pub fn parse_requirements(raw: &str) -> Result<String, Invalid> {
    text::REQUIREMENTS.parse(raw)
}

/// A deadline: in the future, and within three years.
pub fn parse_due_at(due: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Invalid> {
    if due <= now {
        return Err(Invalid::new("not_in_future", "must be in the future"));
    }
    if due > now + chrono::Duration::days(3 * 365) {
        return Err(Invalid::new("too_far", "must be within three years"));
    }
    Ok(due)
}

/// Turns a request into the row to insert: from a service's snapshot or from the custom fields.
async fn new_order(
    conn: &mut AsyncPgConnection,
    input: &PlaceOrder,
    client: UserId,
) -> Result<orders::NewOrder, ApiError> {
    let mut errors = FieldErrors::new();
    let requirements = errors.check("requirements", parse_requirements(&input.requirements));
    let order = match input.service_id {
        Some(service_id) => from_service(conn, input, service_id, client, &mut errors).await?,
        None => custom(conn, input, client, &mut errors).await?,
    };
    errors.into_result()?;
    let (Some(mut order), Some(requirements)) = (order, requirements) else {
        unreachable!("validated above")
    };
    order.requirements = requirements;
    Ok(order)
}

async fn from_service(
    conn: &mut AsyncPgConnection,
    input: &PlaceOrder,
    service_id: ServiceId,
    client: UserId,
    errors: &mut FieldErrors,
) -> Result<Option<orders::NewOrder>, ApiError> {
    for (field, present) in [
        ("creative_id", input.creative_id.is_some()),
        ("title", input.title.is_some()),
        ("price", input.price.is_some()),
        ("due_at", input.due_at.is_some()),
        ("revisions_included", input.revisions_included.is_some()),
    ] {
        if present {
            errors.push(FieldError::new(
                field,
                "not_allowed",
                "comes from the service; leave it out when ordering a service",
            ));
        }
    }
    let service = services::find(conn, service_id)
        .await?
        .filter(|s| s.archived_at.is_none());
    // A disabled creative's services stay in the database for their past orders, but take no
    // new ones: the same rule as a custom order to a disabled account.
    let service = match service {
        Some(s) if users::find_active(conn, s.creative_id).await?.is_some() => Some(s),
        _ => None,
    };
    // A service published before verification was required takes no orders until its creative
    // verifies their address.
    if let (Some(s), true) = (&service, input.verified_creatives_only) {
        let verified = users::find(conn, s.creative_id)
            .await?
            .is_some_and(|u| u.email_verified_at.is_some());
        if !verified {
            errors.push(FieldError::new(
                "service_id",
                "creative_unverified",
                "this service's creative has not verified their email address yet and cannot take orders",
            ));
            return Ok(None);
        }
    }
    let Some(s) = service else {
        errors.push(FieldError::new(
            "service_id",
            "unknown_service",
            "no active service has this id",
        ));
        return Ok(None);
    };
    if s.creative_id == client {
        errors.push(FieldError::new(
            "service_id",
            "self_order",
            "you cannot order your own service",
        ));
    }
    Ok(Some(orders::NewOrder {
        id: OrderId::new(),
        client_id: client,
        creative_id: s.creative_id,
        service_id: Some(s.id),
        title: s.title,
        requirements: String::new(),
        price_amount: s.price_amount,
        price_currency: s.price_currency,
        due_at: Utc::now() + chrono::Duration::days(i64::from(s.delivery_days)),
        revisions_included: s.revisions_included,
        status: OrderStatus::New,
    }))
}

async fn custom(
    conn: &mut AsyncPgConnection,
    input: &PlaceOrder,
    client: UserId,
    errors: &mut FieldErrors,
) -> Result<Option<orders::NewOrder>, ApiError> {
    for (field, present) in [
        ("creative_id", input.creative_id.is_some()),
        ("title", input.title.is_some()),
        ("price", input.price.is_some()),
        ("due_at", input.due_at.is_some()),
    ] {
        if !present {
            errors.push(FieldError::new(
                field,
                "required",
                "is required for a custom order (or give service_id)",
            ));
        }
    }
    let title = input
        .title
        .as_deref()
        .and_then(|t| errors.check("title", text::title(t)));
    let price = input
        .price
        .as_ref()
        .and_then(|(amount, currency)| price_field("price", *amount, currency, errors));
    let due_at = input
        .due_at
        .and_then(|d| errors.check("due_at", parse_due_at(d, Utc::now())));
    let creative = match input.creative_id {
        Some(id) => creative(conn, id, client, input.verified_creatives_only, errors).await?,
        None => None,
    };
    let (Some(creative), Some(title), Some(price), Some(due_at)) = (creative, title, price, due_at)
    else {
        return Ok(None);
    };
    Ok(Some(orders::NewOrder {
        id: OrderId::new(),
        client_id: client,
        creative_id: creative,
        service_id: None,
        title,
        requirements: String::new(),
        price_amount: price.amount(),
        price_currency: price.currency().code().to_string(),
        due_at,
        revisions_included: input.revisions_included.unwrap_or(0),
        status: OrderStatus::New,
    }))
}

/// The creative of a custom order: an active account other than the client's.
async fn creative(
    conn: &mut AsyncPgConnection,
    id: UserId,
    client: UserId,
    verified_only: bool,
    errors: &mut FieldErrors,
) -> Result<Option<UserId>, ApiError> {
    if id == client {
        errors.push(FieldError::new(
            "creative_id",
            "self_order",
            "you cannot order from yourself",
        ));
        return Ok(None);
    }
    let Some(creative) = users::find(conn, id)
        .await?
        .filter(|u| u.disabled_at.is_none())
    else {
        errors.push(FieldError::new(
            "creative_id",
            "unknown_user",
            "no active account has this id",
        ));
        return Ok(None);
    };
    if verified_only && creative.email_verified_at.is_none() {
        errors.push(FieldError::new(
            "creative_id",
            "creative_unverified",
            "this creative has not verified their email address yet and cannot take orders",
        ));
        return Ok(None);
    }
    if creative.custom_orders == CustomOrders::PastClients
        && !orders::completed_between(conn, client, id).await?
    {
        errors.push(FieldError::new(
            "creative_id",
            "custom_orders_closed",
            "this creative takes custom orders only from past clients; order one of their services",
        ));
        return Ok(None);
    }
    Ok(Some(id))
}

/// Parses a price, recording a field error under `field.amount` or `field.currency`.
pub fn price_field(
    field: &str,
    amount: i64,
    currency: &str,
    errors: &mut FieldErrors,
) -> Option<Money> {
    match Money::parse_price(amount, currency) {
        Ok(m) => Some(m),
        Err(invalid) => {
            let sub = if invalid.code == "unknown_currency" {
                "currency"
            } else {
                "amount"
            };
            errors.check::<()>(&format!("{field}.{sub}"), Err(invalid));
            None
        }
    }
}
