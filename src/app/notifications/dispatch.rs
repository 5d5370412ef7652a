//! Fanning events out: each outbox event becomes one delivery per (recipient, channel) the
//! recipient wants; the in-app row is written at once, email waits for the sender. One transaction
//! per batch, over events claimed with `FOR UPDATE SKIP LOCKED`.

use std::collections::HashMap;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::db::notifications::{self as db, deliveries};
use crate::domain::events::Event;
use crate::domain::ids::{NotificationId, OrderId, UserId};
use crate::domain::notify::content::{self, OrderFacts, Recipient};
use crate::domain::notify::{audience, wanted, Channel};

/// Events fanned out per transaction.
pub const BATCH: i64 = 100;

/// What one batch found out about the people and orders it concerns, read once per batch.
struct Lookups {
    people: HashMap<UserId, db::RecipientRow>,
    choices: HashMap<(UserId, String, Channel), bool>,
    orders: HashMap<OrderId, Option<OrderFacts>>,
}

impl Lookups {
    async fn load(conn: &mut AsyncPgConnection, events: &[Event]) -> diesel::QueryResult<Self> {
        let mut ids: Vec<UserId> = events.iter().flat_map(audience).collect();
        ids.sort_unstable_by_key(UserId::as_uuid);
        ids.dedup();
        let people = db::recipients(conn, &ids).await?;
        let choices = db::preferences_of(conn, &ids).await?;
        Ok(Lookups {
            people: people.into_iter().map(|p| (p.id, p)).collect(),
            choices: choices
                .into_iter()
                .map(|(u, e, c, on)| ((u, e, c), on))
                .collect(),
            orders: HashMap::new(),
        })
    }

    async fn order(
        &mut self,
        conn: &mut AsyncPgConnection,
        event: &Event,
    ) -> diesel::QueryResult<Option<OrderFacts>> {
        let crate::domain::events::Aggregate::Order(id) = event.aggregate() else {
            return Ok(None);
        };
        if let Some(known) = self.orders.get(&id) {
            return Ok(known.clone());
        }
        let facts = db::order_facts(conn, id).await?;
        self.orders.insert(id, facts.clone());
        Ok(facts)
    }
}

/// Fans out up to [`BATCH`] events; returns how many.
pub async fn dispatch_batch(conn: &mut AsyncPgConnection, base_url: &str) -> anyhow::Result<usize> {
    let n = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let stored = deliveries::lock_undispatched(conn, &Event::NAMES, BATCH).await?;
            let ids: Vec<Uuid> = stored.iter().map(|e| e.id).collect();
            let events: Vec<(Uuid, Event)> = stored
                .iter()
                .filter_map(|e| match Event::from_stored(&e.event_type, &e.payload) {
                    Some(event) => Some((e.id, event)),
                    None => {
                        tracing::warn!(event_id = %e.id, event_type = %e.event_type, "event of unknown shape not notified");
                        None
                    }
                })
                .collect();
            let plain: Vec<Event> = events.iter().map(|(_, e)| e.clone()).collect();
            let mut lookups = Lookups::load(conn, &plain).await?;
            let (mut rows, mut inbox) = (Vec::new(), Vec::new());
            for (id, event) in &events {
                let order = lookups.order(conn, event).await?;
                fan_out(*id, event, order.as_ref(), &lookups, base_url, &mut rows, &mut inbox);
            }
            queue_webhooks(conn, &events).await?;
            deliveries::insert(conn, &rows).await?;
            deliveries::insert_in_app(conn, &inbox).await?;
            deliveries::mark_dispatched(conn, &ids).await?;
            Ok(ids.len())
        })
        .await?;
    Ok(n)
}

/// Queues a webhook delivery for each enabled endpoint of each recipient subscribed to the event
/// (the recipient's own acts included: an integration mirrors everything on its account).
async fn queue_webhooks(
    conn: &mut AsyncPgConnection,
    events: &[(Uuid, Event)],
) -> diesel::QueryResult<usize> {
    let deliverable: Vec<&str> = crate::domain::webhooks::deliverable().collect();
    let mut owners: Vec<UserId> = events.iter().flat_map(|(_, e)| e.recipients()).collect();
    owners.sort_unstable_by_key(UserId::as_uuid);
    owners.dedup();
    let subscriptions = crate::db::webhooks::subscriptions(conn, &owners).await?;
    if subscriptions.is_empty() {
        return Ok(0);
    }
    let mut pairs = Vec::new();
    for (id, event) in events {
        let name = event.name();
        if !deliverable.contains(&name) {
            continue;
        }
        let recipients = event.recipients();
        for s in &subscriptions {
            if recipients.contains(&s.owner_id) && s.events.iter().any(|e| e == name) {
                pairs.push((s.id, *id));
            }
        }
    }
    crate::db::webhooks::queue(conn, &pairs).await
}

fn fan_out(
    event_id: Uuid,
    event: &Event,
    order: Option<&OrderFacts>,
    lookups: &Lookups,
    base_url: &str,
    rows: &mut Vec<deliveries::NewDelivery>,
    inbox: &mut Vec<deliveries::NewNotification>,
) {
    let name = event.name();
    for person in audience(event) {
        // A closed account hears nothing more.
        let Some(row) = lookups
            .people
            .get(&person)
            .filter(|p| p.disabled_at.is_none())
        else {
            continue;
        };
        for channel in Channel::ALL {
            let stored = lookups
                .choices
                .get(&(person, name.to_string(), channel))
                .copied();
            if !wanted(name, channel, stored) {
                continue;
            }
            let in_app = channel == Channel::InApp;
            if in_app {
                let recipient = Recipient::from(row.clone());
                let ctx = content::Context {
                    recipient: &recipient,
                    order,
                    base_url,
                };
                let said = content::for_event(event, &ctx);
                inbox.push(deliveries::NewNotification {
                    id: NotificationId::new(),
                    user_id: person,
                    event_id,
                    event_type: name.to_string(),
                    order_id: order.map(|o| o.id),
                    title: said.subject,
                    body: said.lead,
                });
            }
            rows.push(deliveries::NewDelivery {
                id: Uuid::now_v7(),
                event_id,
                recipient_id: person,
                channel,
                status: if in_app { "delivered" } else { "pending" },
                delivered_at: in_app.then(chrono::Utc::now),
                batch_order_id: match event {
                    Event::MessagePosted(m) if !in_app => Some(m.order_id),
                    _ => None,
                },
            });
        }
    }
}
