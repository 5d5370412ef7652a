//! Public profiles and the reviews of a user: readable without an account, as the catalogue is.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{user_id, PageQuery, SubRatings};
use crate::app;
use crate::db::{self, reviews::RatingRow};
use crate::domain::order::ActorRole;
use crate::domain::reviews::bayesian;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::StrictUuid;
use crate::http::pagination::{self, Page};
use crate::http::services::ServiceResponse;
use crate::http::state::AppState;

/// How a user was rated on one side (published, visible reviews only); averages to two decimals,
/// null without reviews.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SideRating {
    pub average: Option<f64>,
    pub count: i64,
    pub communication: Option<f64>,
    /// Creatives only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    /// Creatives only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeliness: Option<f64>,
    /// Clients only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clarity: Option<f64>,
}

fn average(sum: i32, count: i32) -> Option<f64> {
    (count > 0).then(|| (f64::from(sum) * 100.0 / f64::from(count)).round() / 100.0)
}

impl SideRating {
    pub fn of(row: Option<&RatingRow>) -> SideRating {
        let Some(r) = row else {
            return SideRating::default();
        };
        SideRating {
            average: average(r.rating_sum, r.review_count),
            count: r.review_count.into(),
            communication: average(r.communication_sum, r.communication_count),
            quality: average(r.quality_sum, r.quality_count),
            timeliness: average(r.timeliness_sum, r.timeliness_count),
            clarity: average(r.clarity_sum, r.clarity_count),
        }
    }
}

/// A creative's rating as services show it, with the score services sort by.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"average": 4.9, "count": 212, "score": 4.86}))]
pub struct RatingSummary {
    /// Mean of the published client reviews, to two decimals; null without reviews.
    pub average: Option<f64>,
    pub count: i64,
    /// The Bayesian average `sort=rating` ranks by: the mean pulled towards 4.0 by the weight of
    /// 10 reviews, so a single 5-star review does not outrank hundreds of 4.9s.
    pub score: f64,
}

impl RatingSummary {
    pub fn of(row: Option<&RatingRow>) -> RatingSummary {
        let (sum, count) = row.map_or((0, 0), |r| (r.rating_sum, r.review_count));
        RatingSummary {
            average: average(sum, count),
            count: count.into(),
            score: (bayesian(sum.into(), count.into()) * 100.0).round() / 100.0,
        }
    }
}

/// What a creative's orders say of them.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreativeFacts {
    pub rating: SideRating,
    pub completed_orders: i64,
    /// Share of first deliveries made by the due date in force at that moment, 0 to 1 (two
    /// decimals); null before any delivery.
    pub on_time_delivery_rate: Option<f64>,
    /// Median time from placing an order to the creative's first answer (a message, a
    /// confirmation or a decline), in seconds; null before any.
    pub median_first_response_seconds: Option<i64>,
    /// Up to 20, newest first.
    pub active_services: Vec<ServiceResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "display_name": "Ada Lovelace",
    "bio": "Illustrator.", "avatar_url": null, "member_since": "2026-01-02T10:00:00Z",
    "as_creative": {"rating": {"average": 4.8, "count": 25, "communication": 4.9, "quality": 4.8, "timeliness": 4.6},
        "completed_orders": 31, "on_time_delivery_rate": 0.94, "median_first_response_seconds": 5400,
        "active_services": []},
    "as_client": {"average": 5.0, "count": 2, "communication": 5.0, "clarity": 5.0}}))]
pub struct ProfileResponse {
    pub id: Uuid,
    pub display_name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub member_since: DateTime<Utc>,
    pub as_creative: CreativeFacts,
    pub as_client: SideRating,
}

/// A user's public profile: who they are, and as a creative their ratings, completed orders,
/// on-time delivery, response time and active services. 404 for a disabled or unknown account.
#[utoipa::path(get, path = "/v1/users/{id}/profile", tag = "reviews", operation_id = "getUserProfile",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
        (status = 400, response = docs::BadRequest),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn get_user_profile(
    state: web::Data<AppState>,
    id: web::Path<StrictUuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let p = app::reputation::profile(&mut conn, user_id(id.into_inner())).await?;
    let o = p.facts;
    let rate = (o.first_deliveries > 0)
        .then(|| (o.on_time as f64 * 100.0 / o.first_deliveries as f64).round() / 100.0);
    let (as_creative, as_client) = (o.as_creative(), o.as_client());
    let summary = RatingSummary::of(Some(&as_creative));
    let services = p
        .services
        .into_iter()
        .map(|s| ServiceResponse::rated(s, summary.clone()))
        .collect();
    Ok(HttpResponse::Ok().json(ProfileResponse {
        id: o.id.into(),
        display_name: o.display_name,
        bio: o.bio,
        avatar_url: o.avatar_url,
        member_since: o.created_at,
        as_creative: CreativeFacts {
            rating: SideRating::of(Some(&as_creative)),
            completed_orders: o.completed,
            on_time_delivery_rate: rate,
            median_first_response_seconds: o.median_response_secs.map(|s| s.round() as i64),
            active_services: services,
        },
        as_client: SideRating::of(Some(&as_client)),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub id: Uuid,
    pub display_name: String,
}

/// A published review as everyone sees it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicReview {
    pub id: Uuid,
    pub author: Author,
    /// `client`: the author ordered from the user; `creative`: the user ordered from the author.
    pub author_role: ActorRole,
    pub rating: i16,
    pub sub_ratings: SubRatings,
    pub comment: Option<String>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub published_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    p: DateTime<Utc>,
    i: Uuid,
}

/// A user's published reviews (as creative and as client), newest first, in keyset pages.
#[utoipa::path(get, path = "/v1/users/{id}/reviews", tag = "reviews", operation_id = "listUserReviews",
    params(("id" = Uuid, Path, description = "User id"), PageQuery),
    responses(
        (status = 200, description = "A page of reviews", body = Page<PublicReview>),
        (status = 400, response = docs::BadRequest),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn list_user_reviews(
    state: web::Data<AppState>,
    id: web::Path<StrictUuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let cursor: Option<Cursor> = pagination::decode_opt(q.cursor.as_deref())?;
    let mut conn = db::connection(&state.pool).await?;
    let subject = user_id(id.into_inner());
    let rows =
        db::reviews::published_about(&mut conn, subject, cursor.map(|c| (c.p, c.i)), limit).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |r| Cursor {
        p: r.published_at.unwrap_or_default(),
        i: r.id,
    });
    let mut authors: Vec<_> = rows.iter().map(|r| r.author_id).collect();
    authors.sort();
    authors.dedup();
    let names = db::users::display_names(&mut conn, &authors).await?;
    let data = rows
        .into_iter()
        .map(|r| PublicReview {
            author: Author {
                id: r.author_id.into(),
                display_name: names
                    .iter()
                    .find(|(u, _)| *u == r.author_id)
                    .map_or_else(String::new, |(_, n)| n.clone()),
            },
            sub_ratings: SubRatings::of(&r),
            id: r.id,
            author_role: r.author_role,
            rating: r.rating,
            comment: r.comment,
            reply: r.reply,
            replied_at: r.replied_at,
            published_at: r.published_at.unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(Page { data, next_cursor }))
}
