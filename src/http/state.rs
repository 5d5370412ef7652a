//! What every handler can reach: the pool, the signing keys, settings and rate limiters.

use crate::auth::jwt::Keys;
use crate::auth::password::Hashing;
use crate::config::Settings;
use crate::db::DbPool;

use super::rate_limit::{AttemptLimiter, CreationLimits};

pub struct AppState {
    pub pool: DbPool,
    pub keys: Keys,
    pub settings: Settings,
    pub login_limiter: AttemptLimiter,
    /// A separate budget, so asking for reset emails cannot lock anyone out of logging in.
    pub reset_limiter: AttemptLimiter,
    pub creation_limits: CreationLimits,
    pub hashing: Hashing,
    pub storage: crate::storage::Storage,
    /// Uploads in flight on this instance.
    pub uploads: tokio::sync::Semaphore,
    /// Documents (PDFs) being drawn on this instance: one per core, the rest wait briefly.
    pub renders: tokio::sync::Semaphore,
    /// Wakes the notification workers after a write.
    pub signal: crate::wake::Signal,
    /// Charges cards and refunds them (`PAYMENT_PROVIDER`).
    pub provider: crate::provider::Provider,
    /// This instance's live-stream fan-out.
    pub hub: std::sync::Arc<crate::app::live::Hub>,
    /// Checks webhook URLs against where they resolve (the client's resolver).
    pub webhooks: crate::webhook_client::WebhookClient,
}

impl AppState {
    pub fn new(
        settings: Settings,
        pool: DbPool,
        storage: crate::storage::Storage,
        signal: crate::wake::Signal,
        provider: crate::provider::Provider,
        hub: std::sync::Arc<crate::app::live::Hub>,
        webhooks: crate::webhook_client::WebhookClient,
    ) -> Self {
        AppState {
            signal,
            provider,
            hub,
            webhooks,
            keys: Keys::new(&settings.jwt),
            login_limiter: AttemptLimiter::new(&settings.rate_limits),
            reset_limiter: AttemptLimiter::new(&settings.rate_limits),
            creation_limits: CreationLimits::new(&settings.rate_limits),
            hashing: Hashing::new(&settings.hashing),
            uploads: tokio::sync::Semaphore::new(settings.files.max_concurrent_uploads),
            renders: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            ),
            storage,
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

    /// The client's address, through `TRUSTED_PROXIES` (see `client_ip`).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        super::client_ip::client_ip(req, &self.settings.trusted_proxies)
    }
}
