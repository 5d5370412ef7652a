//! Settings read from the environment (and `.env` when present). Every variable is listed with its
//! default in `.env.example`; a bad value stops start-up with one line naming the variable.

use std::time::Duration;

use secrecy::SecretString;

mod limits;
mod mail;
mod payments;
mod storage;
mod webhooks;

pub use limits::{canonical, HashingSettings, IpNet, RateLimitSettings};
pub use mail::{MailTransport, NotificationSettings};
pub use payments::{PaymentSettings, ProviderSettings, StripeSettings};
pub use storage::{FileSettings, S3Settings, StorageSettings};
pub use webhooks::{LiveSettings, WebhookSettings};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value for {var}: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error("{var} must be set when APP_ENV=production")]
    Missing { var: &'static str },
    #[error("{var} must be set when {when}")]
    MissingWhen {
        var: &'static str,
        when: &'static str,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Secrets are `SecretString`: their `Debug` prints nothing, so no log line or panic message can
/// carry one.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub secret: SecretString,
    /// Older secrets still accepted for verification, so a key can be rotated without logging everyone out.
    pub previous_secrets: Vec<SecretString>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// A session's absolute lifetime: no refresh extends it past this.
    pub session_max_age: Duration,
    /// How long after a refresh the same old token still returns the same successor (a retry after
    /// a lost response), instead of counting as reuse.
    pub refresh_grace: Duration,
    /// True when no JWT_SECRET was given and a random one was made for this process.
    pub generated: bool,
}

#[derive(Clone, Debug)]
pub struct OrderTimings {
    pub auto_complete_after: Duration,
    pub late_cancel_after: Duration,
    pub cancellation_auto_accept_after: Duration,
    /// The least time a revision gives the creative: the new deadline is at least this far away
    /// (and at least as far as the time they had left when they delivered).
    pub revision_window: Duration,
    /// How long a party whose cancellation request was rejected waits before asking again.
    pub cancellation_request_cooldown: Duration,
    /// How often the background worker looks for due time-based transitions.
    pub worker_interval: Duration,
    /// How long after completion each party may review the other; a lone review is published
    /// when it closes.
    pub review_window: Duration,
    /// The platform's cut of what escrow releases to the creative, in basis points
    /// (`PLATFORM_FEE_BPS`, 1000 = 10 %): a move to `completed` books it.
    pub platform_fee_bps: u32,
}

impl JwtSettings {
    fn from_lookup(get: Lookup<'_>, environment: Environment) -> Result<Self, ConfigError> {
        let (secret, generated) = match get("JWT_SECRET") {
            Some(s) => (strong_secret("JWT_SECRET", s)?, false),
            None if environment == Environment::Production => {
                return Err(ConfigError::Missing { var: "JWT_SECRET" })
            }
            None => (random_secret(), true),
        };
        // An old key still verifies tokens, so a weak one is as dangerous as a weak current key.
        let previous_secrets = get("JWT_PREVIOUS_SECRETS")
            .map(|v| list(&v))
            .unwrap_or_default()
            .into_iter()
            .map(|s| strong_secret("JWT_PREVIOUS_SECRETS", s).map(SecretString::from))
            .collect::<Result<_, _>>()?;
        Ok(JwtSettings {
            secret: secret.into(),
            previous_secrets,
            access_ttl: duration(get, "JWT_ACCESS_TTL", "15m")?,
            refresh_ttl: duration(get, "JWT_REFRESH_TTL", "30days")?,
            session_max_age: duration(get, "SESSION_MAX_AGE", "90days")?,
            refresh_grace: duration(get, "REFRESH_GRACE", "30s")?,
            generated,
        })
    }
}

/// HS256 keys shorter than 32 bytes can be brute-forced offline from any token.
fn strong_secret(var: &'static str, secret: String) -> Result<String, ConfigError> {
    if secret.len() < 32 {
        return Err(ConfigError::Invalid {
            var,
            reason: "every secret must be at least 32 characters".into(),
        });
    }
    Ok(secret)
}

impl OrderTimings {
    fn from_lookup(get: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(OrderTimings {
            auto_complete_after: duration(get, "AUTO_COMPLETE_AFTER", "3days")?,
            late_cancel_after: duration(get, "LATE_CANCEL_AFTER", "24h")?,
            cancellation_auto_accept_after: duration(get, "CANCELLATION_AUTO_ACCEPT_AFTER", "48h")?,
            revision_window: duration(get, "REVISION_WINDOW", "48h")?,
            cancellation_request_cooldown: duration(get, "CANCELLATION_REQUEST_COOLDOWN", "24h")?,
            worker_interval: duration(get, "WORKER_INTERVAL", "30s")?,
            review_window: duration(get, "REVIEW_WINDOW", "14days")?,
            platform_fee_bps: fee_bps(get)?,
        })
    }

    /// The state machine's view of time at `now`, from the configured rules.
    pub fn clock(&self, now: chrono::DateTime<chrono::Utc>) -> crate::domain::order::Clock {
        crate::domain::order::Clock {
            now,
            late_cancel_after: to_chrono(self.late_cancel_after),
        }
    }
}

fn fee_bps(get: Lookup<'_>) -> Result<u32, ConfigError> {
    let bps: u32 = parse(get, "PLATFORM_FEE_BPS", 1000)?;
    if bps > 10_000 {
        return Err(ConfigError::Invalid {
            var: "PLATFORM_FEE_BPS",
            reason: format!("`{bps}` is more than 10000 (100 %)"),
        });
    }
    Ok(bps)
}

/// A configured duration as chrono's; durations are capped at ten years when read, so this holds.
pub fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    /// None: use the default local server, or a private cluster under `data/postgres`. Secret: the
    /// URL may hold the database password.
    pub database_url: Option<SecretString>,
    pub database_pool_size: usize,
    /// HTTP worker threads; unset: one per core (actix's default).
    pub http_workers: Option<usize>,
    pub host: String,
    pub port: u16,
    pub log_format: LogFormat,
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted JSON request body.
    pub max_json_bytes: usize,
    /// How long a client may take to send its request head before the connection is closed.
    pub client_request_timeout: Duration,
    /// How long a JSON request body may take to arrive after the head.
    pub request_body_timeout: Duration,
    pub jwt: JwtSettings,
    /// Log password-reset tokens (for local work without an email server). Off unless asked for,
    /// whatever APP_ENV says; refused in production.
    pub log_reset_tokens: bool,
    pub rate_limits: RateLimitSettings,
    pub hashing: HashingSettings,
    pub files: FileSettings,
    /// Peers whose `X-Forwarded-For` is believed (a load balancer in front of the API).
    pub trusted_proxies: Vec<IpNet>,
    pub orders: OrderTimings,
    pub notifications: NotificationSettings,
    pub payments: PaymentSettings,
    pub webhooks: WebhookSettings,
    pub live: LiveSettings,
}

pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Settings {
    /// Reads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(&|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Builds settings from any key lookup; tests use it to avoid touching the process environment.
    pub fn from_lookup(get: Lookup<'_>) -> Result<Self, ConfigError> {
        let environment = match get("APP_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "APP_ENV",
                    reason: format!("`{other}` is not `development` or `production`"),
                })
            }
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "LOG_FORMAT",
                    reason: format!("`{other}` is not `pretty` or `json`"),
                })
            }
        };
        Ok(Settings {
            environment,
            database_url: get("DATABASE_URL").map(SecretString::from),
            database_pool_size: parse(get, "DATABASE_POOL_SIZE", 10)?,
            http_workers: http_workers(get)?,
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: parse(get, "PORT", 8080)?,
            log_format,
            cors_allowed_origins: get("CORS_ALLOWED_ORIGINS")
                .map(|v| list(&v))
                .unwrap_or_default(),
            // MAX_BODY_BYTES is the name this setting had before; a deployment that set it keeps it.
            max_json_bytes: match get("MAX_JSON_BYTES") {
                Some(_) => parse(get, "MAX_JSON_BYTES", 1024 * 1024)?,
                None => parse(get, "MAX_BODY_BYTES", 1024 * 1024)?,
            },
            client_request_timeout: duration(get, "CLIENT_REQUEST_TIMEOUT", "5s")?,
            request_body_timeout: duration(get, "REQUEST_BODY_TIMEOUT", "30s")?,
            jwt: JwtSettings::from_lookup(get, environment)?,
            log_reset_tokens: log_reset_tokens(get, environment)?,
            rate_limits: RateLimitSettings::from_lookup(get)?,
            hashing: HashingSettings::from_lookup(get)?,
            files: FileSettings::from_lookup(get)?,
            trusted_proxies: limits::trusted_proxies(get)?,
            orders: OrderTimings::from_lookup(get)?,
            notifications: NotificationSettings::from_lookup(get, environment)?,
            payments: PaymentSettings::from_lookup(get, environment)?,
            webhooks: WebhookSettings::from_lookup(get, environment)?,
            live: LiveSettings::from_lookup(get)?,
        })
    }
}

fn log_reset_tokens(get: Lookup<'_>, environment: Environment) -> Result<bool, ConfigError> {
    let wanted = parse(get, "LOG_RESET_TOKENS", false)?;
    if wanted && environment == Environment::Production {
        return Err(ConfigError::Invalid {
            var: "LOG_RESET_TOKENS",
            reason: "reset tokens are never logged when APP_ENV=production".into(),
        });
    }
    Ok(wanted)
}

pub(crate) fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

pub(crate) fn parse<T: std::str::FromStr>(
    get: Lookup<'_>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(var) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
            var,
            reason: format!("`{v}`: {e}"),
        }),
    }
}

/// `HTTP_WORKERS`: at least one (actix refuses none); unset, one per core.
fn http_workers(get: Lookup<'_>) -> Result<Option<usize>, ConfigError> {
    let Some(raw) = get("HTTP_WORKERS") else {
        return Ok(None);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(ConfigError::Invalid {
            var: "HTTP_WORKERS",
            reason: format!("`{raw}` is not a number of threads (1 or more)"),
        }),
    }
}

pub(crate) fn duration(
    get: Lookup<'_>,
    var: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let raw = get(var).unwrap_or_else(|| default.to_string());
    let d = humantime::parse_duration(raw.trim()).map_err(|e| ConfigError::Invalid {
        var,
        reason: format!("`{raw}` is not a duration like `15m`, `24h` or `3days`: {e}"),
    })?;
    if d.is_zero() {
        return Err(ConfigError::Invalid {
            var,
            reason: "must be greater than zero".into(),
        });
    }
    // Durations are added to timestamps; ten years keeps every sum far from overflowing.
    if d > Duration::from_secs(10 * 365 * 86400) {
        return Err(ConfigError::Invalid {
            var,
            reason: "must be at most ten years".into(),
        });
    }
    Ok(d)
}

fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.host, "127.0.0.1");
        assert_eq!(s.port, 8080);
        assert!(s.jwt.generated);
        assert_eq!(s.orders.auto_complete_after, Duration::from_secs(3 * 86400));
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://app:hunter2-db@db/createspace"),
            ("JWT_SECRET", "jwt-secret-value-that-is-32-chars-long"),
            (
                "JWT_PREVIOUS_SECRETS",
                "previous-secret-value-of-32-characters",
            ),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        for secret in ["hunter2-db", "jwt-secret-value", "previous-secret-value"] {
            assert!(!printed.contains(secret), "Debug shows {secret}");
        }
    }

    #[test]
    fn h12_previous_jwt_secrets_must_be_as_strong_as_the_current_one() {
        let err = settings(&[
            ("JWT_SECRET", "jwt-secret-value-that-is-32-chars-long"),
            (
                "JWT_PREVIOUS_SECRETS",
                "previous-secret-value-of-32-characters,short",
            ),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("JWT_PREVIOUS_SECRETS"), "{err}");
    }

    #[test]
    fn h12_reset_tokens_are_logged_only_when_asked_and_never_in_production() {
        assert!(!settings(&[]).unwrap().log_reset_tokens, "APP_ENV unset");
        assert!(
            settings(&[("LOG_RESET_TOKENS", "true")])
                .unwrap()
                .log_reset_tokens
        );
        let err = settings(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "jwt-secret-value-that-is-32-chars-long"),
            ("LOG_RESET_TOKENS", "true"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("LOG_RESET_TOKENS"));
    }

    #[test]
    fn h12_compose_takes_the_jwt_secret_from_the_environment() {
        let compose = include_str!("../../docker-compose.yml");
        let line = compose
            .lines()
            .find(|l| l.trim_start().starts_with("JWT_SECRET:"))
            .expect("compose sets JWT_SECRET");
        assert!(
            line.contains("${JWT_SECRET:?"),
            "compose ships a fixed secret: {line}"
        );
    }

    #[test]
    fn http_workers_default_to_the_cores_unless_set() {
        assert_eq!(settings(&[]).unwrap().http_workers, None);
        assert_eq!(
            settings(&[("HTTP_WORKERS", "1")]).unwrap().http_workers,
            Some(1)
        );
        assert!(settings(&[("HTTP_WORKERS", "one")]).is_err());
        assert!(settings(&[("HTTP_WORKERS", "0")]).is_err());
    }

    #[test]
    fn a_bad_port_names_the_variable() {
        let err = settings(&[("PORT", "eighty")]).unwrap_err().to_string();
        assert!(err.starts_with("invalid value for PORT"), "{err}");
    }

    #[test]
    fn production_requires_a_jwt_secret() {
        let err = settings(&[("APP_ENV", "production")]).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET"));
    }

    #[test]
    fn durations_accept_human_units() {
        let s = settings(&[("LATE_CANCEL_AFTER", "90m")]).unwrap();
        assert_eq!(s.orders.late_cancel_after, Duration::from_secs(5400));
        assert!(settings(&[("LATE_CANCEL_AFTER", "soon")]).is_err());
        assert!(settings(&[("LATE_CANCEL_AFTER", "0s")]).is_err());
        assert!(settings(&[("AUTO_COMPLETE_AFTER", "500years")]).is_err());
    }
}
