//! Browsing the catalogue: newest first, or best rated (a Bayesian average of the creative's
//! published client reviews).

use actix_web::{web, HttpResponse};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ServiceResponse;
use crate::db::{self, reviews, services};
use crate::domain::ids::UserId;
use crate::domain::order::ActorRole;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::optional_strict_uuid;
use crate::http::pagination::{self, search_text};
use crate::http::reviews::RatingSummary;
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ServiceSort {
    /// Newest first (default).
    #[default]
    Newest,
    /// Best rated first, by `rating.score`.
    Rating,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// Only this creative's services.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    creative_id: Option<Uuid>,
    /// Case-insensitive text in the title.
    #[param(schema_with = schemas::search)]
    q: Option<String>,
    /// `newest` (default) or `rating`.
    sort: Option<ServiceSort>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Browse active services, newest first or best rated (`sort=rating`), each with its creative's
/// rating.
#[utoipa::path(get, path = "/v1/services", tag = "services", operation_id = "listServices",
    params(ServiceQuery),
    responses(
        (status = 200, description = "One page of services", body = pagination::Page<ServiceResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn list_services(
    state: web::Data<AppState>,
    query: web::Query<ServiceQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let filter = services::ServiceFilter {
        creative_id: query.creative_id.map(Into::into),
        q: search_text(query.q)?,
        before: None,
        limit: limit + 1,
    };
    let mut conn = db::connection(&state.pool).await?;
    let (rows, next_cursor) = match query.sort.unwrap_or_default() {
        ServiceSort::Newest => {
            let before = pagination::decode_opt::<Uuid>(query.cursor.as_deref())?;
            let filter = services::ServiceFilter {
                before: before.map(Into::into),
                ..filter
            };
            let rows = services::list(&mut conn, filter).await?;
            pagination::page(rows, limit, |r| r.id)
        }
        ServiceSort::Rating => {
            let after = pagination::decode_opt::<RatingCursor>(query.cursor.as_deref())?;
            let after = after.map(|c| (c.s, c.i.into()));
            let rows = services::list_by_rating(&mut conn, filter, after).await?;
            let (rows, next) = pagination::page(rows, limit, |(r, score)| RatingCursor {
                s: *score,
                i: r.id.into(),
            });
            (rows.into_iter().map(|(r, _)| r).collect(), next)
        }
    };
    let data = with_ratings(&mut conn, rows).await?;
    Ok(HttpResponse::Ok().json(pagination::Page { data, next_cursor }))
}

/// Where a page sorted by rating resumes: after this score and id.
#[derive(Serialize, Deserialize)]
struct RatingCursor {
    s: f64,
    i: Uuid,
}

/// Services with their creatives' ratings: one statement for the whole page.
pub(super) async fn with_ratings(
    conn: &mut AsyncPgConnection,
    rows: Vec<services::ServiceRow>,
) -> Result<Vec<ServiceResponse>, ApiError> {
    let mut creatives: Vec<UserId> = rows.iter().map(|r| r.creative_id).collect();
    creatives.sort();
    creatives.dedup();
    let ratings = reviews::ratings(conn, &creatives, ActorRole::Creative).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let rating = ratings.iter().find(|x| x.user_id == r.creative_id);
            ServiceResponse::rated(r, RatingSummary::of(rating))
        })
        .collect())
}
