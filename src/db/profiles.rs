//! A public profile in one statement: the user, both sides' rating sums (`user_ratings`), and one
//! index-only pass over the creative's orders (`orders_creative_reputation_idx`) for what they say.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::AsyncPgConnection;

use super::reviews::RatingRow;
use crate::domain::ids::UserId;
use crate::domain::order::ActorRole;

#[derive(Clone, Debug, QueryableByName)]
pub struct ProfileRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: UserId,
    #[diesel(sql_type = Text)]
    pub display_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub bio: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub avatar_url: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    c_count: i32,
    #[diesel(sql_type = Integer)]
    c_sum: i32,
    #[diesel(sql_type = Integer)]
    c_comm_sum: i32,
    #[diesel(sql_type = Integer)]
    c_comm_count: i32,
    #[diesel(sql_type = Integer)]
    c_quality_sum: i32,
    #[diesel(sql_type = Integer)]
    c_quality_count: i32,
    #[diesel(sql_type = Integer)]
    c_timeliness_sum: i32,
    #[diesel(sql_type = Integer)]
    c_timeliness_count: i32,
    #[diesel(sql_type = Integer)]
    k_count: i32,
    #[diesel(sql_type = Integer)]
    k_sum: i32,
    #[diesel(sql_type = Integer)]
    k_comm_sum: i32,
    #[diesel(sql_type = Integer)]
    k_comm_count: i32,
    #[diesel(sql_type = Integer)]
    k_clarity_sum: i32,
    #[diesel(sql_type = Integer)]
    k_clarity_count: i32,
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    #[diesel(sql_type = BigInt)]
    pub first_deliveries: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub median_response_secs: Option<f64>,
}

impl ProfileRow {
    /// The user's rating sums as a creative.
    pub fn as_creative(&self) -> RatingRow {
        RatingRow {
            user_id: self.id,
            role: ActorRole::Creative,
            review_count: self.c_count,
            rating_sum: self.c_sum,
            communication_sum: self.c_comm_sum,
            communication_count: self.c_comm_count,
            quality_sum: self.c_quality_sum,
            quality_count: self.c_quality_count,
            timeliness_sum: self.c_timeliness_sum,
            timeliness_count: self.c_timeliness_count,
            clarity_sum: 0,
            clarity_count: 0,
        }
    }

    /// The user's rating sums as a client.
    pub fn as_client(&self) -> RatingRow {
        RatingRow {
            user_id: self.id,
            role: ActorRole::Client,
            review_count: self.k_count,
            rating_sum: self.k_sum,
            communication_sum: self.k_comm_sum,
            communication_count: self.k_comm_count,
            quality_sum: 0,
            quality_count: 0,
            timeliness_sum: 0,
            timeliness_count: 0,
            clarity_sum: self.k_clarity_sum,
            clarity_count: self.k_clarity_count,
        }
    }
}

/// An active user's profile facts; `None` for an unknown or disabled account.
pub async fn profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> QueryResult<Option<ProfileRow>> {
    use diesel_async::RunQueryDsl;
    super::prepared::prepared(
        "SELECT u.id, u.display_name, u.bio, u.avatar_url, u.created_at, \
           coalesce(c.review_count, 0) AS c_count, coalesce(c.rating_sum, 0) AS c_sum, \
           coalesce(c.communication_sum, 0) AS c_comm_sum, \
           coalesce(c.communication_count, 0) AS c_comm_count, \
           coalesce(c.quality_sum, 0) AS c_quality_sum, coalesce(c.quality_count, 0) AS c_quality_count, \
           coalesce(c.timeliness_sum, 0) AS c_timeliness_sum, \
           coalesce(c.timeliness_count, 0) AS c_timeliness_count, \
           coalesce(k.review_count, 0) AS k_count, coalesce(k.rating_sum, 0) AS k_sum, \
           coalesce(k.communication_sum, 0) AS k_comm_sum, \
           coalesce(k.communication_count, 0) AS k_comm_count, \
           coalesce(k.clarity_sum, 0) AS k_clarity_sum, coalesce(k.clarity_count, 0) AS k_clarity_count, \
           s.completed, s.first_deliveries, s.on_time, s.median_response_secs \
         FROM users u \
         LEFT JOIN user_ratings c ON c.user_id = u.id AND c.role = 'creative' \
         LEFT JOIN user_ratings k ON k.user_id = u.id AND k.role = 'client' \
         CROSS JOIN LATERAL ( \
           SELECT count(*) FILTER (WHERE o.status = 'completed') AS completed, \
                  count(o.first_delivery_on_time) AS first_deliveries, \
                  count(*) FILTER (WHERE o.first_delivery_on_time) AS on_time, \
                  percentile_cont(0.5) WITHIN GROUP \
                    (ORDER BY extract(epoch FROM o.first_response_at - o.created_at)::float8) \
                    AS median_response_secs \
           FROM orders o WHERE o.creative_id = u.id) s \
         WHERE u.id = $1 AND u.disabled_at IS NULL",
    )
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .await
    .optional()
}
