//! Services that creatives offer.

use crate::domain::ids::{ServiceId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::services;
use super::Update;

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: ServiceId,
    pub creative_id: UserId,
    pub title: String,
    pub description: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub delivery_days: i32,
    pub revisions_included: i32,
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = services)]
pub struct NewService {
    pub id: ServiceId,
    pub creative_id: UserId,
    pub title: String,
    pub description: String,
    pub price_amount: i64,
    pub price_currency: String,
    pub delivery_days: i32,
    pub revisions_included: i32,
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub price_amount: Option<i64>,
    pub price_currency: Option<String>,
    pub delivery_days: Option<i32>,
    pub revisions_included: Option<i32>,
}

pub async fn insert(conn: &mut AsyncPgConnection, service: NewService) -> QueryResult<ServiceRow> {
    diesel::insert_into(services::table)
        .values(&service)
        .returning(ServiceRow::as_returning())
        .get_result(conn)
        .await
}

/// A service by id, archived ones included (orders keep pointing at them).
pub async fn find(conn: &mut AsyncPgConnection, id: ServiceId) -> QueryResult<Option<ServiceRow>> {
    services::table
        .find(id)
        .select(ServiceRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub struct ServiceFilter {
    pub creative_id: Option<UserId>,
    /// Case-insensitive substring of the title.
    pub q: Option<String>,
    /// Keyset cursor: only services with a smaller (older) id.
    pub before: Option<ServiceId>,
    pub limit: i64,
}

/// Active services, newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: ServiceFilter,
) -> QueryResult<Vec<ServiceRow>> {
    let mut query = services::table
        .filter(services::archived_at.is_null())
        .select(ServiceRow::as_select())
        .order(services::id.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(creative) = filter.creative_id {
        query = query.filter(services::creative_id.eq(creative));
    }
    if let Some(q) = filter.q {
        query = query.filter(services::title.ilike(super::like_pattern(&q)));
    }
    if let Some(before) = filter.before {
        query = query.filter(services::id.lt(before));
    }
    query.load(conn).await
}

/// Active services, best rated first: the creative's Bayesian average (`domain::reviews::bayesian`,
/// computed here in SQL from `user_ratings`), then newest; with the score each was ranked by.
/// `after` resumes past the last (score, id) of the previous page.
pub async fn list_by_rating(
    conn: &mut AsyncPgConnection,
    filter: ServiceFilter,
    after: Option<(f64, ServiceId)>,
) -> QueryResult<Vec<(ServiceRow, f64)>> {
    use crate::domain::reviews::{PRIOR_MEAN, PRIOR_WEIGHT};
    use diesel::sql_types::{BigInt, Double, Text, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Ranked {
        #[diesel(embed)]
        service: ServiceRow,
        #[diesel(sql_type = Double)]
        score: f64,
    }
    let score = format!(
        "(({PRIOR_MEAN:?} * {PRIOR_WEIGHT:?} + coalesce(r.rating_sum, 0)) \
         / ({PRIOR_WEIGHT:?} + coalesce(r.review_count, 0)))::float8"
    );
    // Fixed text per combination of filters, so each stays prepared.
    let mut sql = format!(
        "SELECT * FROM (SELECT s.*, {score} AS score FROM services s \
         LEFT JOIN user_ratings r ON r.user_id = s.creative_id AND r.role = 'creative' \
         WHERE s.archived_at IS NULL"
    );
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if filter.creative_id.is_some() {
        sql += &format!(" AND s.creative_id = ${}", next());
    }
    if filter.q.is_some() {
        sql += &format!(" AND s.title ILIKE ${}", next());
    }
    sql += ") ranked";
    if after.is_some() {
        let (a, b) = (next(), next());
        sql += &format!(" WHERE (score, id) < (${a}, ${b})");
    }
    sql += " ORDER BY score DESC, id DESC LIMIT $1";
    let mut q = super::prepared::prepared(sql).bind::<BigInt, _>(filter.limit);
    if let Some(c) = filter.creative_id {
        q = q.bind::<SqlUuid, _>(c);
    }
    if let Some(text) = filter.q {
        q = q.bind::<Text, _>(super::like_pattern(&text));
    }
    if let Some((score, id)) = after {
        q = q.bind::<Double, _>(score).bind::<SqlUuid, _>(id);
    }
    let rows: Vec<Ranked> = q.load(conn).await?;
    Ok(rows.into_iter().map(|r| (r.service, r.score)).collect())
}

/// Edits an active service of `creative`, guarded by the expected version when given.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: ServiceId,
    creative: UserId,
    changes: ServiceChanges,
    expected_version: Option<i64>,
) -> QueryResult<Update<ServiceRow>> {
    let mut target = diesel::update(services::table)
        .filter(services::id.eq(id))
        .filter(services::creative_id.eq(creative))
        .filter(services::archived_at.is_null())
        .into_boxed();
    if let Some(v) = expected_version {
        target = target.filter(services::version.eq(v));
    }
    let updated = target
        .set((
            changes,
            services::version.eq(services::version + 1),
            services::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ServiceRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    Ok(match updated {
        Some(row) => Update::Updated(row),
        None => match find(conn, id).await? {
            Some(row) if row.creative_id == creative && row.archived_at.is_none() => {
                Update::Stale(row.version)
            }
            _ => Update::NotFound,
        },
    })
}

/// Archives the creative's active service; `None` if there is no such service (any more).
pub async fn archive(
    conn: &mut AsyncPgConnection,
    id: ServiceId,
    creative: UserId,
) -> QueryResult<Option<ServiceRow>> {
    diesel::update(
        services::table
            .filter(services::id.eq(id))
            .filter(services::creative_id.eq(creative))
            .filter(services::archived_at.is_null()),
    )
    .set((
        services::archived_at.eq(diesel::dsl::now),
        services::version.eq(services::version + 1),
        services::updated_at.eq(diesel::dsl::now),
    ))
    .returning(ServiceRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}
