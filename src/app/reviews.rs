//! Reviews: each party of a completed order reviews the other once, within the window; both stay
//! hidden until both are in or the window closes (double-blind), then count in the subjects'
//! ratings. Publishing and hiding change `user_ratings` in the same transaction.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::moves::role_of;
use crate::db::reviews::{self, NewReview, ReviewRow};
use crate::db::{orders, outbox};
use crate::domain::events::{Event, ReviewPublished};
use crate::domain::ids::OrderId;
use crate::domain::order::ActorRole;
use crate::domain::reviews::{self as rules, Review, Scores};
use crate::error::{invalid_fields, ApiError};

fn refused(r: rules::Refusal) -> ApiError {
    ApiError::conflict(r.code, "Review not allowed", r.message)
}

/// The caller reviews the other party of a completed order.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    order_id: OrderId,
    scores: Scores,
    comment: Option<&str>,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<ReviewRow, ApiError> {
    let order = super::orders::visible(conn, order_id, caller).await?;
    let role = role_of(&order, caller);
    let subject = match role {
        ActorRole::Client => order.creative_id,
        ActorRole::Creative => order.client_id,
        _ => {
            return Err(ApiError::Forbidden {
                code: "not_a_party",
                detail: "Only the order's client and creative review each other.".into(),
            })
        }
    };
    let review = Review::parse(role, scores, comment).map_err(invalid_fields)?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        // Under the order's lock: the second review of a pair always sees the first, so the pair
        // is published together.
        let locked = orders::lock(conn, order_id)
            .await?
            .ok_or(ApiError::NotFound("order"))?;
        let closes =
            rules::window(locked.status(), locked.completed_at, now, window).map_err(refused)?;
        let new = NewReview {
            order: order_id,
            author: caller.user_id,
            subject,
            role,
            review: &review,
            window_closes_at: closes,
        };
        let mut mine = reviews::insert(conn, new).await?;
        if reviews::of_order(conn, order_id).await?.len() == 2 {
            let published = reviews::publish_order(conn, order_id).await?;
            publish(conn, &published).await?;
            if let Some(row) = published.into_iter().find(|r| r.id == mine.id) {
                mine = row;
            }
        }
        Ok(mine)
    })
    .await
}

/// Counts freshly published reviews in their subjects' ratings and tells each subject.
async fn publish(conn: &mut AsyncPgConnection, rows: &[ReviewRow]) -> Result<(), ApiError> {
    reviews::count_in_ratings(conn, rows, 1).await?;
    for r in rows {
        let event = ReviewPublished {
            review_id: r.id,
            order_id: r.order_id,
            author_id: r.author_id,
            author_role: r.author_role,
            subject_id: r.subject_id,
            rating: r.rating,
        };
        outbox::insert(conn, &Event::ReviewPublished(event)).await?;
    }
    Ok(())
}

/// The worker: publishes reviews whose window closed without the other party's; how many.
pub async fn publish_due(conn: &mut AsyncPgConnection, batch: i64) -> Result<usize, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let rows = reviews::publish_due(conn, batch).await?;
        publish(conn, &rows).await?;
        Ok(rows.len())
    })
    .await
}

/// The order's reviews the caller may see: their own always, the other once published.
pub async fn of_order(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    order_id: OrderId,
) -> Result<Vec<ReviewRow>, ApiError> {
    super::orders::visible(conn, order_id, caller).await?;
    Ok(reviews::of_order(conn, order_id)
        .await?
        .into_iter()
        .filter(|r| visible(r, caller))
        .collect())
}

fn visible(r: &ReviewRow, caller: orders::Viewer) -> bool {
    rules::visible(
        r.author_id == caller.user_id,
        r.published_at.is_some(),
        r.hidden_at.is_some(),
        caller.is_admin,
    )
}

/// The reviewed party answers a published review, once and publicly.
pub async fn reply(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: Uuid,
    text: &str,
) -> Result<ReviewRow, ApiError> {
    let row = reviews::find(conn, id)
        .await?
        .filter(|r| visible(r, caller))
        .ok_or(ApiError::NotFound("review"))?;
    if row.subject_id != caller.user_id {
        return Err(ApiError::Forbidden {
            code: "not_the_subject",
            detail: "Only the reviewed party replies to a review.".into(),
        });
    }
    reviews::reply(conn, id, text).await?.ok_or_else(|| {
        ApiError::conflict(
            "reply_not_allowed",
            "Reply not allowed",
            "A review takes one reply, once it is published (and while it is not hidden).",
        )
    })
}

/// An admin hides a published review that breaks the rules; it leaves the subject's ratings.
pub async fn hide(
    conn: &mut AsyncPgConnection,
    admin: &super::audit::Staff,
    id: Uuid,
    reason: &str,
) -> Result<ReviewRow, ApiError> {
    let review = reviews::find(conn, id)
        .await?
        .filter(|r| r.published_at.is_some())
        .ok_or(ApiError::NotFound("review"))?;
    if [review.author_id, review.subject_id].contains(&admin.id) {
        return Err(ApiError::Forbidden {
            code: "own_order",
            detail:
                "This review is of an order you are a party to: another member of the team decides."
                    .into(),
        });
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let hidden = reviews::hide(conn, id, admin.id, reason)
            .await?
            .ok_or_else(|| {
                ApiError::conflict(
                    "already_hidden",
                    "Already hidden",
                    "This review is hidden already.",
                )
            })?;
        reviews::count_in_ratings(conn, std::slice::from_ref(&hidden), -1).await?;
        let after = serde_json::json!({"hidden_at": hidden.hidden_at, "reason": reason});
        let before = serde_json::json!({"hidden_at": null});
        let action = crate::domain::audit::Action::ReviewHidden;
        super::audit::record(conn, admin, action, id, Some(&before), Some(&after)).await?;
        Ok(hidden)
    })
    .await
}
