//! Notifications: the worker's two steps (fan events out, send due mail) and the preference
//! changes people make.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::config::NotificationSettings;
use crate::db::{self, notifications as queries, DbPool};
use crate::domain::ids::UserId;
use crate::domain::notify::Preference;
use crate::error::ApiError;
use crate::mail::Mailer;

pub mod dispatch;
pub mod send;

/// One round of the worker: fan out every waiting event, then send what is due. Returns how much
/// it did, so the caller knows whether to go again at once.
pub async fn run_once(
    pool: &DbPool,
    settings: &NotificationSettings,
    mailer: &Mailer,
) -> anyhow::Result<usize> {
    let mut conn = db::connection(pool).await?;
    let mut done = 0;
    loop {
        let n = dispatch::dispatch_batch(&mut conn, &settings.public_base_url).await?;
        done += n;
        if n < dispatch::BATCH as usize {
            break;
        }
    }
    let sent = send::send_due(&mut conn, mailer, settings).await?;
    // A full batch means more may be due now.
    Ok(done
        + if sent >= send::BATCH as usize {
            sent
        } else {
            0
        })
}

/// Applies a set of preference changes together.
pub async fn set_preferences(
    conn: &mut AsyncPgConnection,
    user: UserId,
    changes: &[Preference],
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        for p in changes {
            queries::set_preference(conn, user, p.rule.event_type, p.channel, p.enabled).await?;
        }
        Ok(())
    })
    .await
}
