//! Billing profiles and payment terms.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{billing_profiles, payment_terms};
use crate::domain::billing::profile::BillingDetails;
use crate::domain::billing::terms::{Milestone, PaymentMethod, Schedule, Terms};
use crate::domain::ids::{OrderId, PaymentTermsId, UserId};
use crate::domain::order::ActorRole;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = billing_profiles)]
pub struct BillingProfileRow {
    pub user_id: UserId,
    pub legal_name: String,
    pub address_lines: Vec<String>,
    pub country: String,
    pub tax_id: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl BillingProfileRow {
    pub fn details(&self) -> BillingDetails {
        BillingDetails {
            legal_name: self.legal_name.clone(),
            address_lines: self.address_lines.clone(),
            country: self.country.clone(),
            tax_id: self.tax_id.clone(),
        }
    }
}

pub async fn profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> QueryResult<Option<BillingProfileRow>> {
    billing_profiles::table
        .find(user)
        .select(BillingProfileRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The caller's profile, locked until the transaction ends (a concurrent PUT waits).
pub async fn lock_profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> QueryResult<Option<BillingProfileRow>> {
    billing_profiles::table
        .find(user)
        .select(BillingProfileRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Creates the caller's profile if they have none; `None` if they have one.
pub async fn insert_profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
    d: &BillingDetails,
) -> QueryResult<Option<BillingProfileRow>> {
    use billing_profiles::dsl as b;
    diesel::insert_into(b::billing_profiles)
        .values((
            b::user_id.eq(user),
            b::legal_name.eq(&d.legal_name),
            b::address_lines.eq(&d.address_lines),
            b::country.eq(&d.country),
            b::tax_id.eq(&d.tax_id),
        ))
        .on_conflict_do_nothing()
        .returning(BillingProfileRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Creates or replaces the caller's profile.
pub async fn put_profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
    d: &BillingDetails,
) -> QueryResult<BillingProfileRow> {
    use billing_profiles::dsl as b;
    diesel::insert_into(b::billing_profiles)
        .values((
            b::user_id.eq(user),
            b::legal_name.eq(&d.legal_name),
            b::address_lines.eq(&d.address_lines),
            b::country.eq(&d.country),
            b::tax_id.eq(&d.tax_id),
        ))
        .on_conflict(b::user_id)
        .do_update()
        .set((
            b::legal_name.eq(&d.legal_name),
            b::address_lines.eq(&d.address_lines),
            b::country.eq(&d.country),
            b::tax_id.eq(&d.tax_id),
            b::version.eq(b::version + 1),
            b::updated_at.eq(diesel::dsl::now),
        ))
        .returning(BillingProfileRow::as_returning())
        .get_result(conn)
        .await
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = payment_terms)]
pub struct TermsRow {
    pub id: PaymentTermsId,
    pub order_id: OrderId,
    pub version: i64,
    pub proposed_by: UserId,
    pub proposer_role: ActorRole,
    pub amount: i64,
    pub currency: String,
    pub method: PaymentMethod,
    pub schedule: Schedule,
    pub due_at: DateTime<Utc>,
    pub milestones: serde_json::Value,
    pub accepted_by: Option<UserId>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TermsRow {
    pub fn milestones(&self) -> Vec<Milestone> {
        // Written only from `Terms`; an unreadable value would be a bug shown as no milestones.
        serde_json::from_value(self.milestones.clone()).unwrap_or_default()
    }
}

/// Every proposal on the order, newest first.
pub async fn proposals(conn: &mut AsyncPgConnection, order: OrderId) -> QueryResult<Vec<TermsRow>> {
    payment_terms::table
        .filter(payment_terms::order_id.eq(order))
        .order(payment_terms::version.desc())
        .select(TermsRow::as_select())
        .load(conn)
        .await
}

/// The terms in force: the newest accepted proposal.
pub async fn accepted(
    conn: &mut AsyncPgConnection,
    order: OrderId,
) -> QueryResult<Option<TermsRow>> {
    payment_terms::table
        .filter(payment_terms::order_id.eq(order))
        .filter(payment_terms::accepted_at.is_not_null())
        .order(payment_terms::version.desc())
        .select(TermsRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub struct NewProposal<'a> {
    pub order: OrderId,
    pub version: i64,
    pub by: UserId,
    pub role: ActorRole,
    pub terms: &'a Terms,
}

pub async fn insert_proposal(
    conn: &mut AsyncPgConnection,
    p: NewProposal<'_>,
) -> QueryResult<TermsRow> {
    use payment_terms::dsl as t;
    let milestones = serde_json::to_value(&p.terms.milestones).unwrap_or_default();
    diesel::insert_into(t::payment_terms)
        .values((
            t::id.eq(PaymentTermsId::new()),
            t::order_id.eq(p.order),
            t::version.eq(p.version),
            t::proposed_by.eq(p.by),
            t::proposer_role.eq(p.role),
            t::amount.eq(p.terms.amount.amount()),
            t::currency.eq(p.terms.amount.currency().code()),
            t::method.eq(p.terms.method),
            t::schedule.eq(p.terms.schedule),
            t::due_at.eq(p.terms.due_at),
            t::milestones.eq(milestones),
        ))
        .returning(TermsRow::as_returning())
        .get_result(conn)
        .await
}

/// Accepts the proposal if it is still unaccepted.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    id: PaymentTermsId,
    by: UserId,
) -> QueryResult<Option<TermsRow>> {
    use payment_terms::dsl as t;
    diesel::update(
        t::payment_terms
            .filter(t::id.eq(id))
            .filter(t::accepted_at.is_null()),
    )
    .set((t::accepted_by.eq(by), t::accepted_at.eq(diesel::dsl::now)))
    .returning(TermsRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}
