//! What every handler can reach: the pool, the signing keys, settings and rate limiters.

use crate::auth::jwt::Keys;
use crate::config::Settings;
use crate::db::DbPool;

use super::rate_limit::AttemptLimiter;

pub struct AppState {
    pub pool: DbPool,
    pub keys: Keys,
    pub settings: Settings,
    pub login_limiter: AttemptLimiter,
    /// A separate budget, so asking for reset emails cannot lock anyone out of logging in.
    pub reset_limiter: AttemptLimiter,
}

impl AppState {
    pub fn new(settings: Settings, pool: DbPool) -> Self {
        AppState {
            keys: Keys::new(&settings.jwt),
            login_limiter: AttemptLimiter::new(&settings.rate_limits),
            reset_limiter: AttemptLimiter::new(&settings.rate_limits),
            pool,
            settings,
        }
    }
}

impl AppState {
    /// The state machine's view of time, from the configured rules.
    pub fn clock(&self) -> crate::domain::order::Clock {
        self.settings.orders.clock(chrono::Utc::now())
    }
}
