//! Building and running the HTTP server (and the background worker) from settings and a pool.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{http::header, web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::db::DbPool;
use crate::http::{self, request_id, state::AppState};

pub struct Application {
    port: u16,
    server: Server,
    workers: Workers,
}

/// The background tasks of an instance; dropped (aborted) with it.
pub struct Workers(Vec<tokio::task::JoinHandle<()>>);

impl Workers {
    /// The worker's tasks: time-based transitions and file sweeps, and notification delivery
    /// woken by `signal` (locally) and by other instances' `NOTIFY`.
    pub fn spawn(
        pool: &DbPool,
        settings: &Settings,
        storage: &crate::storage::Storage,
        signal: &crate::wake::Signal,
    ) -> anyhow::Result<Self> {
        let mailer = crate::mail::Mailer::new(&settings.notifications)?;
        let webhooks = crate::wake::Wake::default();
        Ok(Workers(vec![
            tokio::spawn(crate::jobs::run(
                pool.clone(),
                settings.orders.clone(),
                settings.files.clone(),
                storage.clone(),
            )),
            tokio::spawn(crate::jobs::deliver_notifications(
                pool.clone(),
                settings.notifications.clone(),
                mailer,
                signal.local.clone(),
                webhooks.clone(),
            )),
            tokio::spawn(crate::jobs::deliver_webhooks(
                pool.clone(),
                settings.webhooks.clone(),
                crate::webhook_client::WebhookClient::new(&settings.webhooks)?,
                settings.notifications.poll_interval,
                webhooks,
            )),
            // One listening connection per process, for the worker and the live stream alike.
            tokio::spawn(crate::wake::listen(
                pool.clone(),
                vec![signal.local.clone(), signal.live.clone()],
            )),
            tokio::spawn(crate::jobs::move_money(
                pool.clone(),
                crate::provider::Provider::new(&settings.payments)?,
                settings.orders.platform_fee_bps,
            )),
        ]))
    }

    /// Runs until SIGINT/SIGTERM (the `worker` command).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tokio::signal::ctrl_c().await?;
        drop(self);
        Ok(())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Application {
    /// Binds `HOST:PORT` (port 0 picks a free one, as the tests do) and builds the server.
    pub fn build(settings: Settings, pool: DbPool) -> anyhow::Result<Self> {
        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&address)
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        let port = listener.local_addr()?.port();
        let storage = crate::storage::Storage::new(&settings.files.storage)?;
        let signal = crate::wake::Signal::default();
        let mut workers = if settings.notifications.worker_in_serve {
            Workers::spawn(&pool, &settings, &storage, &signal)?
        } else {
            Workers(vec![tokio::spawn(crate::wake::listen(
                pool.clone(),
                vec![signal.live.clone()],
            ))])
        };
        let hub = crate::app::live::Hub::new(settings.live.clone(), signal.live.clone());
        workers.0.push(tokio::spawn(hub.clone().run(pool.clone())));
        workers
            .0
            .push(tokio::spawn(signal.clone().announce(pool.clone())));
        let server = run(listener, settings, pool, storage, signal, hub)?;
        Ok(Application {
            port,
            server,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests get up to 30 s to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        drop(self.workers);
        result
    }
}

fn cors(origins: &[String]) -> Cors {
    let cors = if origins.iter().any(|o| o == "*") {
        Cors::default().allow_any_origin()
    } else {
        origins
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
    };
    cors.allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("last-event-id"),
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .max_age(3600)
}

fn run(
    listener: TcpListener,
    settings: Settings,
    pool: DbPool,
    storage: crate::storage::Storage,
    signal: crate::wake::Signal,
    hub: std::sync::Arc<crate::app::live::Hub>,
) -> anyhow::Result<Server> {
    let max_body = settings.max_json_bytes;
    let client_request_timeout = settings.client_request_timeout;
    let body_timeout = http::extract::BodyTimeout(settings.request_body_timeout);
    let origins = settings.cors_allowed_origins.clone();
    let workers = settings
        .http_workers
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(std::num::NonZero::get)
        })
        .unwrap_or(2);
    let provider = crate::provider::Provider::new(&settings.payments)?;
    let webhooks = crate::webhook_client::WebhookClient::new(&settings.webhooks)?;
    let state = web::Data::new(AppState::new(
        settings, pool, storage, signal, provider, hub, webhooks,
    ));
    let server = HttpServer::new(move || {
        // Last wrapped runs first: request id, then the span, then problem+json for every error
        // response below it (CORS refusals included), then CORS.
        App::new()
            .wrap(cors(&origins))
            .wrap(ErrorHandlers::new().default_handler(http::problemize))
            .wrap(TracingLogger::<request_id::RequestSpan>::new())
            .wrap(from_fn(request_id::middleware))
            .wrap(from_fn(http::security_headers))
            .wrap(from_fn(http::wake_after_writes))
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(body_timeout)
            .configure(http::configure)
    })
    .client_request_timeout(client_request_timeout)
    .workers(workers)
    .listen(listener)?
    .shutdown_timeout(30)
    .run();
    Ok(server)
}
