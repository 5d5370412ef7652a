//! The live event stream and integrators' webhooks: where deliveries may go, how names are
//! resolved, and how patiently a failing endpoint is retried.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::{duration, list, parse, ConfigError, Environment, IpNet, Lookup};
use crate::domain::net::Destinations;
use crate::domain::notify::RetryPolicy;

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_HTTP`: accept `http://` endpoints (tests, local work); refused in production.
    pub allow_http: bool,
    /// Public addresses plus `WEBHOOK_ALLOWED_CIDRS` (empty by default).
    pub destinations: Destinations,
    /// `WEBHOOK_STATIC_HOSTS` (`name=ip,name=ip`): when set, the only names that resolve, and the
    /// only addresses deliveries reach; tests and the contract fuzz use it so that nothing they do
    /// resolves or reaches a name outside this machine. Unset: the system resolver.
    pub static_hosts: Option<HashMap<String, Vec<IpAddr>>>,
    pub connect_timeout: Duration,
    /// The whole delivery: connecting, sending, and reading the answer.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// `WEBHOOK_DISABLE_AFTER`: an endpoint failing this long is disabled and its owner emailed; a
    /// delivery this old is given up on.
    pub disable_after: Duration,
    /// How long a claimed delivery is the claimer's before another worker may try it.
    pub lease: Duration,
}

impl WebhookSettings {
    pub(super) fn from_lookup(get: Lookup<'_>, env: Environment) -> Result<Self, ConfigError> {
        let allow_http = parse(get, "WEBHOOK_ALLOW_HTTP", false)?;
        if allow_http && env == Environment::Production {
            return Err(ConfigError::Invalid {
                var: "WEBHOOK_ALLOW_HTTP",
                reason: "deliveries carry customers' data: https only when APP_ENV=production"
                    .into(),
            });
        }
        let allowed = get("WEBHOOK_ALLOWED_CIDRS")
            .map(|v| list(&v))
            .unwrap_or_default()
            .iter()
            .map(|s| {
                IpNet::parse(s).ok_or_else(|| ConfigError::Invalid {
                    var: "WEBHOOK_ALLOWED_CIDRS",
                    reason: format!("`{s}` is not an IP address or CIDR range"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let timeout = duration(get, "WEBHOOK_TIMEOUT", "15s")?;
        let lease = duration(get, "WEBHOOK_LEASE", "1m")?;
        // A lease shorter than a send (plus the lookup) would let a second worker send it again.
        if lease <= timeout + Duration::from_secs(10) {
            return Err(ConfigError::Invalid {
                var: "WEBHOOK_LEASE",
                reason: "must exceed WEBHOOK_TIMEOUT by more than 10 s".into(),
            });
        }
        Ok(WebhookSettings {
            allow_http,
            destinations: Destinations { allowed },
            static_hosts: get("WEBHOOK_STATIC_HOSTS")
                .map(|v| static_hosts(&v))
                .transpose()?,
            connect_timeout: duration(get, "WEBHOOK_CONNECT_TIMEOUT", "5s")?,
            timeout,
            retry: RetryPolicy {
                first_delay: duration(get, "WEBHOOK_RETRY_FIRST_DELAY", "30s")?,
                max_delay: duration(get, "WEBHOOK_RETRY_MAX_DELAY", "1h")?,
                // Time, not a count, ends the retries: `disable_after`.
                max_attempts: i32::MAX,
            },
            disable_after: duration(get, "WEBHOOK_DISABLE_AFTER", "3days")?,
            lease,
        })
    }
}

fn static_hosts(raw: &str) -> Result<HashMap<String, Vec<IpAddr>>, ConfigError> {
    let mut hosts: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for pair in list(raw) {
        let parsed = pair.split_once('=').and_then(|(name, ip)| {
            Some((name.trim().to_ascii_lowercase(), ip.trim().parse().ok()?))
        });
        let Some((name, ip)) = parsed.filter(|(name, _)| !name.is_empty()) else {
            return Err(ConfigError::Invalid {
                var: "WEBHOOK_STATIC_HOSTS",
                reason: format!("`{pair}` is not `name=ip`"),
            });
        };
        hosts.entry(name).or_default().push(ip);
    }
    Ok(hosts)
}

/// The live stream (`GET /v1/events`).
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// `LIVE_MAX_STREAMS_PER_USER`: open streams one user may hold on one instance.
    pub max_streams_per_user: usize,
    /// `LIVE_HEARTBEAT`: how often an idle stream sends a comment, so proxies keep it open.
    pub heartbeat: Duration,
    /// `LIVE_POLL_INTERVAL`: how often an instance with listeners looks for events when no
    /// `NOTIFY` woke it (events written by workers, or a lost notification).
    pub poll_interval: Duration,
    /// `LIVE_MAX_DURATION`: a stream ends after this long, and the client reconnects with
    /// `Last-Event-ID` (its credentials checked afresh).
    pub max_duration: Duration,
}

impl LiveSettings {
    pub(super) fn from_lookup(get: Lookup<'_>) -> Result<Self, ConfigError> {
        let max_streams_per_user = parse(get, "LIVE_MAX_STREAMS_PER_USER", 5)?;
        if max_streams_per_user == 0 {
            return Err(ConfigError::Invalid {
                var: "LIVE_MAX_STREAMS_PER_USER",
                reason: "must be at least 1".into(),
            });
        }
        Ok(LiveSettings {
            max_streams_per_user,
            heartbeat: duration(get, "LIVE_HEARTBEAT", "15s")?,
            poll_interval: duration(get, "LIVE_POLL_INTERVAL", "1s")?,
            max_duration: duration(get, "LIVE_MAX_DURATION", "1h")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_hosts_map_names_to_addresses_and_refuse_garbage() {
        let hosts =
            static_hosts("Hooks.test=127.0.0.1, hooks.test=::1,localhost=127.0.0.1").unwrap();
        assert_eq!(hosts["hooks.test"].len(), 2);
        assert_eq!(
            hosts["localhost"],
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert!(static_hosts("hooks.test").is_err());
        assert!(static_hosts("hooks.test=nope").is_err());
        assert!(static_hosts("=127.0.0.1").is_err());
    }
}
