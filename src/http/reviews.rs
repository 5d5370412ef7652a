//! Reviews and public profiles.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{invalid_field, ApiError};
use super::extract::{integer, optional_integer, Json, StrictUuid};
use super::orders::viewer;
use super::pagination::Page;
use super::schemas;
use super::state::AppState;
use crate::app;
use crate::db::{self, reviews::ReviewRow};
use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::ActorRole;
use crate::domain::reviews::Scores;
use crate::domain::text;

mod profile;

pub use profile::{ProfileResponse, RatingSummary, SideRating};

#[derive(OpenApi)]
#[openapi(
    paths(
        create_review,
        list_order_reviews,
        reply_to_review,
        hide_review,
        profile::get_user_profile,
        profile::list_user_reviews
    ),
    components(schemas(
        CreateReviewRequest,
        SubRatings,
        ReviewResponse,
        ReplyRequest,
        HideRequest,
        ProfileResponse,
        RatingSummary,
        SideRating,
        profile::CreativeFacts,
        profile::PublicReview,
        profile::Author
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders/{id}/reviews")
            .route(web::post().to(create_review))
            .route(web::get().to(list_order_reviews)),
    )
    .service(web::resource("/reviews/{id}/reply").route(web::post().to(reply_to_review)))
    .service(web::resource("/admin/reviews/{id}/hide").route(web::post().to(hide_review)))
    .service(web::resource("/users/{id}/profile").route(web::get().to(profile::get_user_profile)))
    .service(web::resource("/users/{id}/reviews").route(web::get().to(profile::list_user_reviews)));
}

/// Scores from 1 to 5. A client rates the creative's `communication`, `quality` and `timeliness`; a
/// creative rates the client's `communication` and `clarity` (anything else: 422 `not_allowed`).
#[derive(Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubRatings {
    #[schema(minimum = 1, maximum = 5)]
    #[serde(
        default,
        deserialize_with = "optional_integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub communication: Option<i64>,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(
        default,
        deserialize_with = "optional_integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub quality: Option<i64>,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(
        default,
        deserialize_with = "optional_integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeliness: Option<i64>,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(
        default,
        deserialize_with = "optional_integer",
        skip_serializing_if = "Option::is_none"
    )]
    pub clarity: Option<i64>,
}

impl SubRatings {
    pub(crate) fn of(r: &ReviewRow) -> Self {
        let v = |x: Option<i16>| x.map(i64::from);
        SubRatings {
            communication: v(r.communication),
            quality: v(r.quality),
            timeliness: v(r.timeliness),
            clarity: v(r.clarity),
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": 5, "comment": "Clear brief, quick answers.",
    "sub_ratings": {"communication": 5, "quality": 5, "timeliness": 4}}))]
pub struct CreateReviewRequest {
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "integer")]
    rating: i64,
    #[schema(schema_with = schemas::review_comment_or_null)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::optional_object")]
    sub_ratings: Option<SubRatings>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-c000-7c41-9a0e-2f1b7c9d8e30", "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03",
    "author_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09", "author_role": "client",
    "subject_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "rating": 5, "sub_ratings": {"quality": 5},
    "comment": "Lovely work.", "published_at": null, "window_closes_at": "2026-12-13T10:00:00Z",
    "reply": null, "replied_at": null, "hidden": false, "created_at": "2026-11-29T10:00:00Z"}))]
pub struct ReviewResponse {
    pub id: Uuid,
    pub order_id: Uuid,
    pub author_id: Uuid,
    /// The author's side: `client` reviews the creative, `creative` the client.
    pub author_role: ActorRole,
    pub subject_id: Uuid,
    pub rating: i16,
    pub sub_ratings: SubRatings,
    pub comment: Option<String>,
    /// Null while only its author sees it (until the other review arrives or the window closes).
    pub published_at: Option<DateTime<Utc>>,
    pub window_closes_at: DateTime<Utc>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    /// Hidden by the support team (shown to admins and its author only).
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
}

impl From<ReviewRow> for ReviewResponse {
    fn from(r: ReviewRow) -> Self {
        ReviewResponse {
            sub_ratings: SubRatings::of(&r),
            id: r.id,
            order_id: r.order_id.into(),
            author_id: r.author_id.into(),
            author_role: r.author_role,
            subject_id: r.subject_id.into(),
            rating: r.rating,
            comment: r.comment,
            published_at: r.published_at,
            window_closes_at: r.window_closes_at,
            reply: r.reply,
            replied_at: r.replied_at,
            hidden: r.hidden_at.is_some(),
            created_at: r.created_at,
        }
    }
}

/// Review the other party of a completed order, once, within the review window (`REVIEW_WINDOW`,
/// 14 days from completion).
///
/// Double-blind: the review is seen by its author alone until the other party's arrives (both are
/// then published together) or the window closes (the worker publishes it). 409
/// `order_not_completed`, `review_window_closed` or `already_reviewed`.
#[utoipa::path(post, path = "/v1/orders/{id}/reviews", tag = "reviews", operation_id = "createReview",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = CreateReviewRequest,
    responses(
        (status = 201, description = "Recorded (published at once if it is the second)", body = ReviewResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn create_review(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    body: Json<CreateReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let sub = body.sub_ratings.unwrap_or_default();
    let scores = Scores {
        rating: body.rating,
        communication: sub.communication,
        quality: sub.quality,
        timeliness: sub.timeliness,
        clarity: sub.clarity,
    };
    let window = crate::config::to_chrono(state.settings.orders.review_window);
    let mut conn = db::connection(&state.pool).await?;
    let row = app::reviews::create(
        &mut conn,
        viewer(&caller),
        id.into_inner().0,
        scores,
        body.comment.as_deref(),
        state.clock().now,
        window,
    )
    .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((
            header::LOCATION,
            format!("/v1/orders/{}/reviews", row.order_id),
        ))
        .json(ReviewResponse::from(row)))
}

/// The order's reviews the caller may see: their own always, the other party's once published.
#[utoipa::path(get, path = "/v1/orders/{id}/reviews", tag = "reviews", operation_id = "listOrderReviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "At most two reviews, oldest first (never more than one page)", body = Page<ReviewResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn list_order_reviews(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let rows = app::reviews::of_order(&mut conn, viewer(&caller), id.into_inner().0).await?;
    Ok(HttpResponse::Ok().json(Page {
        data: rows
            .into_iter()
            .map(ReviewResponse::from)
            .collect::<Vec<_>>(),
        next_cursor: None,
    }))
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Thank you, it was a pleasure."}))]
pub struct ReplyRequest {
    #[schema(schema_with = schemas::review_reply)]
    body: String,
}

/// The reviewed party's one public reply to a published review.
#[utoipa::path(post, path = "/v1/reviews/{id}/reply", tag = "reviews", operation_id = "replyToReview",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = ReplyRequest,
    responses(
        (status = 200, description = "Replied", body = ReviewResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn reply_to_review(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid>,
    body: Json<ReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let text = text::REVIEW_REPLY
        .parse(&body.0.body)
        .map_err(|e| invalid_field("body", e))?;
    let mut conn = db::connection(&state.pool).await?;
    let row = app::reviews::reply(&mut conn, viewer(&caller), id.into_inner().0, &text).await?;
    Ok(HttpResponse::Ok().json(ReviewResponse::from(row)))
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Personal information about the client."}))]
pub struct HideRequest {
    #[schema(schema_with = schemas::reason)]
    reason: String,
}

/// Hide a published review that breaks the rules (admins only). It is never
/// edited: it leaves public pages and the ratings, and stays visible to admins and its author.
#[utoipa::path(post, path = "/v1/admin/reviews/{id}/hide", tag = "admin", operation_id = "hideReview",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = HideRequest,
    responses(
        (status = 200, description = "Hidden", body = ReviewResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn hide_review(
    state: web::Data<AppState>,
    staff: super::admin::StaffCaller,
    id: web::Path<StrictUuid>,
    body: Json<HideRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = text::REASON
        .parse(&body.0.reason)
        .map_err(|e| invalid_field("reason", e))?;
    let mut conn = db::connection(&state.pool).await?;
    let row = app::reviews::hide(&mut conn, &staff.0, id.into_inner().0, &reason).await?;
    Ok(HttpResponse::Ok().json(ReviewResponse::from(row)))
}

/// A user in a path: any UUID names one; whether it exists is the database's to say.
pub(crate) fn user_id(id: StrictUuid) -> UserId {
    UserId::from_uuid(id.0)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
