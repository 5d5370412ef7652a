//! Log set-up: pretty lines in development, one JSON object per line with `LOG_FORMAT=json`.
//! Every line inside a request carries that request's id through the root span (see `http::request_id`).

use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,createspace=debug"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: a second call (several apps in one test process) must not panic.
    let _ = match format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_target(false).compact())
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
}
