//! Reviews, their publication, and the per-user rating sums kept beside them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{reviews, user_ratings};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::ActorRole;
use crate::domain::reviews::Review;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = reviews)]
pub struct ReviewRow {
    pub id: Uuid,
    pub order_id: OrderId,
    pub author_id: UserId,
    pub subject_id: UserId,
    pub author_role: ActorRole,
    pub rating: i16,
    pub comment: Option<String>,
    pub communication: Option<i16>,
    pub quality: Option<i16>,
    pub timeliness: Option<i16>,
    pub clarity: Option<i16>,
    pub published_at: Option<DateTime<Utc>>,
    pub window_closes_at: DateTime<Utc>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub hidden_by: Option<UserId>,
    pub hidden_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub struct NewReview<'a> {
    pub order: OrderId,
    pub author: UserId,
    pub subject: UserId,
    pub role: ActorRole,
    pub review: &'a Review,
    pub window_closes_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, n: NewReview<'_>) -> QueryResult<ReviewRow> {
    use reviews::dsl as r;
    diesel::insert_into(r::reviews)
        .values((
            r::id.eq(Uuid::now_v7()),
            r::order_id.eq(n.order),
            r::author_id.eq(n.author),
            r::subject_id.eq(n.subject),
            r::author_role.eq(n.role),
            r::rating.eq(n.review.rating),
            r::comment.eq(n.review.comment.as_deref()),
            r::communication.eq(n.review.communication),
            r::quality.eq(n.review.quality),
            r::timeliness.eq(n.review.timeliness),
            r::clarity.eq(n.review.clarity),
            r::window_closes_at.eq(n.window_closes_at),
        ))
        .returning(ReviewRow::as_returning())
        .get_result(conn)
        .await
}

/// The order's reviews (at most two), oldest first; who sees which is the caller's to filter.
pub async fn of_order(conn: &mut AsyncPgConnection, order: OrderId) -> QueryResult<Vec<ReviewRow>> {
    reviews::table
        .filter(reviews::order_id.eq(order))
        .order(reviews::id.asc())
        .select(ReviewRow::as_select())
        .load(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ReviewRow>> {
    reviews::table
        .find(id)
        .select(ReviewRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Publishes the order's unpublished reviews; the rows it published (none if another path did).
pub async fn publish_order(
    conn: &mut AsyncPgConnection,
    order: OrderId,
) -> QueryResult<Vec<ReviewRow>> {
    diesel::update(
        reviews::table
            .filter(reviews::order_id.eq(order))
            .filter(reviews::published_at.is_null()),
    )
    .set(reviews::published_at.eq(diesel::dsl::now))
    .returning(ReviewRow::as_returning())
    .get_results(conn)
    .await
}

/// Publishes up to `limit` reviews whose window has closed; several workers share the work (run it
/// in a transaction: the rows stay locked until it ends).
pub async fn publish_due(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<ReviewRow>> {
    let due: Vec<Uuid> = reviews::table
        .filter(reviews::published_at.is_null())
        .filter(reviews::window_closes_at.le(diesel::dsl::now))
        .order(reviews::window_closes_at.asc())
        .limit(limit)
        .select(reviews::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(reviews::table.filter(reviews::id.eq_any(due)))
        .filter(reviews::published_at.is_null())
        .set(reviews::published_at.eq(diesel::dsl::now))
        .returning(ReviewRow::as_returning())
        .get_results(conn)
        .await
}

/// Adds (`sign` 1) or takes away (-1) reviews from their subjects' rating sums.
pub async fn count_in_ratings(
    conn: &mut AsyncPgConnection,
    rows: &[ReviewRow],
    sign: i32,
) -> QueryResult<()> {
    use user_ratings::dsl as u;
    for r in rows {
        // The side the subject was reviewed on is the other side from the author's.
        let side = if r.author_role == ActorRole::Client {
            ActorRole::Creative
        } else {
            ActorRole::Client
        };
        let part = |v: Option<i16>| {
            (
                sign * i32::from(v.unwrap_or(0)),
                sign * i32::from(v.is_some()),
            )
        };
        let (comm, comm_n) = part(r.communication);
        let (quality, quality_n) = part(r.quality);
        let (timely, timely_n) = part(r.timeliness);
        let (clarity, clarity_n) = part(r.clarity);
        let changes = (
            u::review_count.eq(u::review_count + sign),
            u::rating_sum.eq(u::rating_sum + sign * i32::from(r.rating)),
            u::communication_sum.eq(u::communication_sum + comm),
            u::communication_count.eq(u::communication_count + comm_n),
            u::quality_sum.eq(u::quality_sum + quality),
            u::quality_count.eq(u::quality_count + quality_n),
            u::timeliness_sum.eq(u::timeliness_sum + timely),
            u::timeliness_count.eq(u::timeliness_count + timely_n),
            u::clarity_sum.eq(u::clarity_sum + clarity),
            u::clarity_count.eq(u::clarity_count + clarity_n),
        );
        if sign < 0 {
            // Taking away: the row exists (the review was counted). An upsert would not do, as
            // PostgreSQL checks the proposed row's constraints (a count of -1) before the conflict.
            diesel::update(u::user_ratings.find((r.subject_id, side)))
                .set(changes)
                .execute(conn)
                .await?;
            continue;
        }
        diesel::insert_into(u::user_ratings)
            .values((
                u::user_id.eq(r.subject_id),
                u::role.eq(side),
                u::review_count.eq(sign),
                u::rating_sum.eq(sign * i32::from(r.rating)),
                u::communication_sum.eq(comm),
                u::communication_count.eq(comm_n),
                u::quality_sum.eq(quality),
                u::quality_count.eq(quality_n),
                u::timeliness_sum.eq(timely),
                u::timeliness_count.eq(timely_n),
                u::clarity_sum.eq(clarity),
                u::clarity_count.eq(clarity_n),
            ))
            .on_conflict((u::user_id, u::role))
            .do_update()
            .set(changes)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Sets the one public reply to a published, visible review.
pub async fn reply(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    text: &str,
) -> QueryResult<Option<ReviewRow>> {
    diesel::update(
        reviews::table
            .find(id)
            .filter(reviews::reply.is_null())
            .filter(reviews::published_at.is_not_null())
            .filter(reviews::hidden_at.is_null()),
    )
    .set((
        reviews::reply.eq(text),
        reviews::replied_at.eq(diesel::dsl::now),
    ))
    .returning(ReviewRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Hides a published review that is not hidden yet.
pub async fn hide(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    by: UserId,
    reason: &str,
) -> QueryResult<Option<ReviewRow>> {
    diesel::update(
        reviews::table
            .find(id)
            .filter(reviews::hidden_at.is_null())
            .filter(reviews::published_at.is_not_null()),
    )
    .set((
        reviews::hidden_at.eq(diesel::dsl::now),
        reviews::hidden_by.eq(by),
        reviews::hidden_reason.eq(reason),
    ))
    .returning(ReviewRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// A user's published, visible reviews, newest first, after the cursor.
pub async fn published_about(
    conn: &mut AsyncPgConnection,
    subject: UserId,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<ReviewRow>> {
    use reviews::dsl as r;
    let mut q = r::reviews
        .filter(r::subject_id.eq(subject))
        .filter(r::published_at.is_not_null())
        .filter(r::hidden_at.is_null())
        .select(ReviewRow::as_select())
        .order((r::published_at.desc(), r::id.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some((at, id)) = before {
        q = q.filter(
            r::published_at
                .lt(at)
                .or(r::published_at.eq(at).and(r::id.lt(id))),
        );
    }
    q.load(conn).await
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = user_ratings)]
pub struct RatingRow {
    pub user_id: UserId,
    pub role: ActorRole,
    pub review_count: i32,
    pub rating_sum: i32,
    pub communication_sum: i32,
    pub communication_count: i32,
    pub quality_sum: i32,
    pub quality_count: i32,
    pub timeliness_sum: i32,
    pub timeliness_count: i32,
    pub clarity_sum: i32,
    pub clarity_count: i32,
}

/// The users' rating sums on `side`, for a page of services or a profile.
pub async fn ratings(
    conn: &mut AsyncPgConnection,
    users: &[UserId],
    side: ActorRole,
) -> QueryResult<Vec<RatingRow>> {
    user_ratings::table
        .filter(user_ratings::user_id.eq_any(users))
        .filter(user_ratings::role.eq(side))
        .select(RatingRow::as_select())
        .load(conn)
        .await
}
