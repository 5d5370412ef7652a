//! Reviews after completion: who may review, what a review holds, who sees it when (double-blind),
//! and how ratings rank (a Bayesian average, so one 5-star review does not outrank two hundred 4.9s).

use chrono::{DateTime, Duration, Utc};

use super::billing::Issues;
use super::order::{ActorRole, OrderStatus};
use super::text;
use super::Invalid;

/// A review's scores as requested: the overall rating and the sub-ratings of the author's side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scores {
    pub rating: i64,
    pub communication: Option<i64>,
    pub quality: Option<i64>,
    pub timeliness: Option<i64>,
    pub clarity: Option<i64>,
}

/// A checked review: scores 1 to 5, only the sub-ratings the author's side gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub rating: i16,
    pub communication: Option<i16>,
    pub quality: Option<i16>,
    pub timeliness: Option<i16>,
    pub clarity: Option<i16>,
    pub comment: Option<String>,
}

fn score(field: &str, value: i64, issues: &mut Issues) -> i16 {
    if (1..=5).contains(&value) {
        value as i16
    } else {
        issues.push((
            field.into(),
            Invalid::new("out_of_range", "must be from 1 to 5"),
        ));
        0
    }
}

impl Review {
    /// A client rates the creative's communication, quality and timeliness; a creative rates the
    /// client's communication and clarity.
    pub fn parse(author: ActorRole, s: Scores, comment: Option<&str>) -> Result<Review, Issues> {
        let mut issues = Issues::new();
        let rating = score("rating", s.rating, &mut issues);
        let client = author == ActorRole::Client;
        let mut sub = |name: &str, value: Option<i64>, offered: bool| match value {
            None => None,
            Some(_) if !offered => {
                let side = if client { "a creative" } else { "a client" };
                let msg = format!("is not rated on {side}");
                issues.push((
                    format!("sub_ratings.{name}"),
                    Invalid::new("not_allowed", msg),
                ));
                None
            }
            Some(v) => Some(score(&format!("sub_ratings.{name}"), v, &mut issues)),
        };
        let communication = sub("communication", s.communication, true);
        let quality = sub("quality", s.quality, client);
        let timeliness = sub("timeliness", s.timeliness, client);
        let clarity = sub("clarity", s.clarity, !client);
        let comment = match comment.map(|c| text::REVIEW_COMMENT.parse(c)) {
            Some(Ok(c)) if !c.is_empty() => Some(c),
            Some(Err(e)) => {
                issues.push(("comment".into(), e));
                None
            }
            _ => None,
        };
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(Review {
            rating,
            communication,
            quality,
            timeliness,
            clarity,
            comment,
        })
    }
}

/// Why a party may not review now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// When the review window of an order completed at `completed_at` closes, if it is still open.
pub fn window(
    status: OrderStatus,
    completed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    length: Duration,
) -> Result<DateTime<Utc>, Refusal> {
    let completed = completed_at.filter(|_| status == OrderStatus::Completed);
    let Some(completed) = completed else {
        return Err(Refusal {
            code: "order_not_completed",
            message: format!(
                "Only a completed order is reviewed; this one is {}.",
                status.as_str()
            ),
        });
    };
    let closes = completed + length;
    if now >= closes {
        return Err(Refusal {
            code: "review_window_closed",
            message: "The time to review this order has passed.".into(),
        });
    }
    Ok(closes)
}

/// Whether `viewer` sees a review: its author always; anyone else once it is published, and a
/// hidden one only admins (so they can see what they hid).
pub fn visible(author: bool, published: bool, hidden: bool, admin: bool) -> bool {
    author || (published && (!hidden || admin))
}

/// What an unrated user counts as, and how many reviews' worth that guess weighs.
pub const PRIOR_MEAN: f64 = 4.0;
pub const PRIOR_WEIGHT: f64 = 10.0;

/// The rating services rank by: the mean pulled towards [`PRIOR_MEAN`] by [`PRIOR_WEIGHT`] reviews,
/// so a handful of reviews moves it little and hundreds settle it.
pub fn bayesian(rating_sum: i64, count: i64) -> f64 {
    (PRIOR_MEAN * PRIOR_WEIGHT + rating_sum as f64) / (PRIOR_WEIGHT + count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_gives_only_its_own_sub_ratings_from_1_to_5() {
        let s = Scores {
            rating: 5,
            quality: Some(4),
            ..Scores::default()
        };
        assert!(Review::parse(ActorRole::Client, s, None).is_ok());
        let e = Review::parse(ActorRole::Creative, s, None).unwrap_err();
        assert_eq!(
            (e[0].0.as_str(), e[0].1.code),
            ("sub_ratings.quality", "not_allowed")
        );
        let bad = Scores {
            rating: 6,
            communication: Some(0),
            ..Scores::default()
        };
        let e = Review::parse(ActorRole::Client, bad, None).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["rating", "sub_ratings.communication"]);
    }

    #[test]
    fn the_window_opens_at_completion_for_its_length() {
        let now = Utc::now();
        let days = Duration::days(14);
        let w = window(
            OrderStatus::Completed,
            Some(now - Duration::days(13)),
            now,
            days,
        );
        assert!(w.is_ok());
        let late = window(
            OrderStatus::Completed,
            Some(now - Duration::days(14)),
            now,
            days,
        );
        assert_eq!(late.unwrap_err().code, "review_window_closed");
        let cancelled = window(OrderStatus::Cancelled, Some(now), now, days);
        assert_eq!(cancelled.unwrap_err().code, "order_not_completed");
    }

    #[test]
    fn one_perfect_review_does_not_outrank_two_hundred_near_perfect_ones() {
        assert!(bayesian(5, 1) < bayesian(980, 200));
        assert!((bayesian(0, 0) - PRIOR_MEAN).abs() < f64::EPSILON);
    }

    #[test]
    fn unpublished_reviews_are_their_authors_alone() {
        assert!(visible(true, false, false, false));
        assert!(!visible(false, false, false, true));
        assert!(visible(false, true, false, false));
        assert!(!visible(false, true, true, false));
        assert!(visible(false, true, true, true));
    }
}
