//! What every handler can reach: the pool, the signing keys, settings and rate limiters.

use crate::auth::jwt::Keys;
use crate::config::Settings;
use crate::db::DbPool;

use super::rate_limit::LoginLimiter;

pub struct AppState {
    pub pool: DbPool,
    pub keys: Keys,
    pub settings: Settings,
    pub login_limiter: LoginLimiter,
}

impl AppState {
    pub fn new(settings: Settings, pool: DbPool) -> Self {
        AppState {
            keys: Keys::new(&settings.jwt),
            login_limiter: LoginLimiter::new(&settings.rate_limits),
            pool,
            settings,
        }
    }
}
