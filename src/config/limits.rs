//! Limits that protect the service from its callers: request rates, the password-hashing queue,
//! and which proxies' `X-Forwarded-For` to believe. Each is configurable; the tests, the contract
//! fuzz and the benchmark raise them where they would otherwise throttle themselves.

use super::{parse, ConfigError, Lookup};

#[derive(Clone, Debug)]
pub struct RateLimitSettings {
    /// Login attempts from one client (an IPv4 address or an IPv6 /64), whatever the email.
    pub login_per_ip_per_minute: u32,
    /// Login attempts for one email from one client: slows a guesser without locking the owner,
    /// who logs in from elsewhere, out.
    pub login_per_email_per_minute: u32,
    /// Accounts created from one client.
    pub register_per_ip_per_minute: u32,
    /// Orders one user places.
    pub orders_per_user_per_hour: u32,
    /// Services one user creates.
    pub services_per_user_per_hour: u32,
    /// Cancellation requests one user opens.
    pub cancellation_requests_per_user_per_hour: u32,
    /// Messages one user posts (each notifies the other party).
    pub messages_per_user_per_hour: u32,
    /// Files one user uploads.
    pub uploads_per_user_per_hour: u32,
    /// Verification mails one user asks for again.
    pub verification_emails_per_user_per_hour: u32,
    /// Payment terms one user proposes (each notifies the other party).
    pub terms_proposals_per_user_per_hour: u32,
    /// Invoices one user drafts.
    pub invoices_per_user_per_hour: u32,
    /// Support tickets one user opens.
    pub support_tickets_per_user_per_hour: u32,
    /// Live-stream tickets one user asks for (one per browser connection or reconnection).
    pub event_tickets_per_user_per_hour: u32,
    /// Webhook URLs one user has checked (each creation or URL change resolves a name).
    pub webhook_url_checks_per_user_per_hour: u32,
}

impl RateLimitSettings {
    pub(super) fn from_lookup(get: Lookup<'_>) -> Result<Self, ConfigError> {
        Ok(RateLimitSettings {
            login_per_ip_per_minute: parse(get, "LOGIN_RATE_PER_IP_PER_MINUTE", 30)?,
            login_per_email_per_minute: parse(get, "LOGIN_RATE_PER_EMAIL_PER_MINUTE", 10)?,
            register_per_ip_per_minute: parse(get, "REGISTER_RATE_PER_IP_PER_MINUTE", 5)?,
            orders_per_user_per_hour: parse(get, "ORDERS_PER_USER_PER_HOUR", 30)?,
            services_per_user_per_hour: parse(get, "SERVICES_PER_USER_PER_HOUR", 20)?,
            cancellation_requests_per_user_per_hour: parse(
                get,
                "CANCELLATION_REQUESTS_PER_USER_PER_HOUR",
                10,
            )?,
            messages_per_user_per_hour: parse(get, "MESSAGES_PER_USER_PER_HOUR", 300)?,
            uploads_per_user_per_hour: parse(get, "UPLOADS_PER_USER_PER_HOUR", 100)?,
            verification_emails_per_user_per_hour: parse(
                get,
                "VERIFICATION_EMAILS_PER_USER_PER_HOUR",
                5,
            )?,
            terms_proposals_per_user_per_hour: parse(get, "TERMS_PROPOSALS_PER_USER_PER_HOUR", 30)?,
            invoices_per_user_per_hour: parse(get, "INVOICES_PER_USER_PER_HOUR", 100)?,
            support_tickets_per_user_per_hour: parse(get, "SUPPORT_TICKETS_PER_USER_PER_HOUR", 10)?,
            event_tickets_per_user_per_hour: parse(get, "EVENT_TICKETS_PER_USER_PER_HOUR", 600)?,
            webhook_url_checks_per_user_per_hour: parse(
                get,
                "WEBHOOK_URL_CHECKS_PER_USER_PER_HOUR",
                60,
            )?,
        })
    }

    /// Every limit raised out of reach, for tests and load generators.
    pub fn unlimited() -> Self {
        RateLimitSettings {
            login_per_ip_per_minute: 1_000_000,
            login_per_email_per_minute: 1_000_000,
            register_per_ip_per_minute: 1_000_000,
            orders_per_user_per_hour: 1_000_000,
            services_per_user_per_hour: 1_000_000,
            cancellation_requests_per_user_per_hour: 1_000_000,
            messages_per_user_per_hour: 1_000_000,
            uploads_per_user_per_hour: 1_000_000,
            verification_emails_per_user_per_hour: 1_000_000,
            terms_proposals_per_user_per_hour: 1_000_000,
            invoices_per_user_per_hour: 1_000_000,
            support_tickets_per_user_per_hour: 1_000_000,
            event_tickets_per_user_per_hour: 1_000_000,
            webhook_url_checks_per_user_per_hour: 1_000_000,
        }
    }
}

/// Argon2id takes 19 MiB and tens of milliseconds per hash: at most `concurrency` run at once, at
/// most `queue` more wait, and anything beyond is refused with 503 and `Retry-After` rather than
/// queued without bound.
#[derive(Clone, Debug)]
pub struct HashingSettings {
    pub concurrency: usize,
    pub queue: usize,
}

impl HashingSettings {
    pub(super) fn from_lookup(get: Lookup<'_>) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let concurrency = parse(get, "PASSWORD_HASH_CONCURRENCY", cores)?;
        if concurrency == 0 {
            return Err(ConfigError::Invalid {
                var: "PASSWORD_HASH_CONCURRENCY",
                reason: "must be at least 1".into(),
            });
        }
        Ok(HashingSettings {
            concurrency,
            queue: parse(get, "PASSWORD_HASH_QUEUE", 16)?,
        })
    }
}

pub use crate::domain::net::{canonical, IpNet};

pub(super) fn trusted_proxies(get: Lookup<'_>) -> Result<Vec<IpNet>, ConfigError> {
    get("TRUSTED_PROXIES")
        .map(|v| super::list(&v))
        .unwrap_or_default()
        .iter()
        .map(|s| {
            IpNet::parse(s).ok_or_else(|| ConfigError::Invalid {
                var: "TRUSTED_PROXIES",
                reason: format!("`{s}` is not an IP address or CIDR range"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_ranges_contain_their_addresses_only() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(IpNet::parse("1.2.3.4")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(IpNet::parse("1.2.3.4/33").is_none());
        assert!(IpNet::parse("nonsense").is_none());
    }
}
