//! Throttling (governor's GCRA, in memory, per instance: with several instances behind a balancer
//! each enforces its own budget, which still bounds guessing and flooding). Clients are keyed by
//! IPv4 address or IPv6 /64, since one IPv6 host holds a whole /64 and could rotate through it.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::config::{canonical, RateLimitSettings};
use crate::domain::ids::UserId;

/// Past this many keys a limiter forgets those whose budget has fully recovered, so memory stays
/// bounded whatever the callers send.
const PRUNE_ABOVE: usize = 10_000;

/// One budget per key.
pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(quota: Quota) -> Self {
        Limiter {
            inner: RateLimiter::keyed(quota),
        }
    }

    /// Counts one attempt; 429 with the seconds to wait once the budget is spent.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        let result = self.inner.check_key(key);
        if self.inner.len() > PRUNE_ABOVE {
            self.inner.retain_recent();
        }
        result.map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// The key for a client: its IPv4 address, or the /64 its IPv6 address is in.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// Credential attempts (logins, reset requests): per client, and per email from one client. The
/// pair, not the email alone, so a guesser elsewhere cannot lock the owner out; the per-client
/// budget is the backstop against one client trying many emails.
pub struct AttemptLimiter {
    by_client: Limiter<IpAddr>,
    by_email_and_client: Limiter<(String, IpAddr)>,
}

impl AttemptLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        AttemptLimiter {
            by_client: Limiter::new(per_minute(settings.login_per_ip_per_minute)),
            by_email_and_client: Limiter::new(per_minute(settings.login_per_email_per_minute)),
        }
    }

    pub fn check(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        let client = client_key(ip.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        self.by_client.check(&client)?;
        self.by_email_and_client.check(&(email.to_string(), client))
    }
}

/// What one client or one user may create per unit of time.
pub struct CreationLimits {
    pub accounts: Limiter<IpAddr>,
    pub orders: Limiter<UserId>,
    pub services: Limiter<UserId>,
    pub cancellation_requests: Limiter<UserId>,
    pub messages: Limiter<UserId>,
    pub uploads: Limiter<UserId>,
    /// Verification mails one user asks for again.
    pub verification_emails: Limiter<UserId>,
    pub terms_proposals: Limiter<UserId>,
    pub invoices: Limiter<UserId>,
    pub support_tickets: Limiter<UserId>,
    pub event_tickets: Limiter<UserId>,
    pub webhook_url_checks: Limiter<UserId>,
}

impl CreationLimits {
    pub fn new(s: &RateLimitSettings) -> Self {
        CreationLimits {
            accounts: Limiter::new(per_minute(s.register_per_ip_per_minute)),
            orders: Limiter::new(per_hour(s.orders_per_user_per_hour)),
            services: Limiter::new(per_hour(s.services_per_user_per_hour)),
            cancellation_requests: Limiter::new(per_hour(
                s.cancellation_requests_per_user_per_hour,
            )),
            messages: Limiter::new(per_hour(s.messages_per_user_per_hour)),
            uploads: Limiter::new(per_hour(s.uploads_per_user_per_hour)),
            verification_emails: Limiter::new(per_hour(s.verification_emails_per_user_per_hour)),
            terms_proposals: Limiter::new(per_hour(s.terms_proposals_per_user_per_hour)),
            invoices: Limiter::new(per_hour(s.invoices_per_user_per_hour)),
            support_tickets: Limiter::new(per_hour(s.support_tickets_per_user_per_hour)),
            event_tickets: Limiter::new(per_hour(s.event_tickets_per_user_per_hour)),
            webhook_url_checks: Limiter::new(per_hour(s.webhook_url_checks_per_user_per_hour)),
        }
    }

    pub fn account(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        self.accounts
            .check(&client_key(ip.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(per_ip: u32, per_email: u32) -> RateLimitSettings {
        RateLimitSettings {
            login_per_ip_per_minute: per_ip,
            login_per_email_per_minute: per_email,
            ..RateLimitSettings::unlimited()
        }
    }

    fn limited(r: &Result<(), ApiError>) -> bool {
        matches!(r, Err(ApiError::RateLimited { retry_after_secs }) if *retry_after_secs >= 1)
    }

    #[test]
    fn the_email_budget_is_per_client_so_the_owner_elsewhere_is_not_locked_out() {
        let limiter = AttemptLimiter::new(&settings(100, 2));
        let attacker = Some("203.0.113.9".parse().unwrap());
        let owner = Some("198.51.100.7".parse().unwrap());
        assert!(limiter.check(attacker, "a@example.com").is_ok());
        assert!(limiter.check(attacker, "a@example.com").is_ok());
        assert!(limited(&limiter.check(attacker, "a@example.com")));
        assert!(limiter.check(owner, "a@example.com").is_ok());
        assert!(limiter.check(attacker, "b@example.com").is_ok());
    }

    #[test]
    fn an_ipv6_client_is_its_64_so_rotating_addresses_does_not_escape() {
        let limiter = AttemptLimiter::new(&settings(2, 100));
        for host in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
            assert!(limiter
                .check(Some(host.parse().unwrap()), "x@example.com")
                .is_ok());
        }
        assert!(limited(&limiter.check(
            Some("2001:db8:1:2:ffff::3".parse().unwrap()),
            "y@example.com"
        )));
        assert!(limiter
            .check(Some("2001:db8:1:3::1".parse().unwrap()), "y@example.com")
            .is_ok());
    }

    #[test]
    fn both_maps_are_pruned_once_past_the_bound() {
        let limiter = AttemptLimiter::new(&settings(1_000_000, 1_000_000));
        for i in 0..(PRUNE_ABOVE as u32 + 50) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            let _ = limiter.check(Some(ip), "same@example.com");
        }
        assert!(limiter.by_client.inner.len() <= PRUNE_ABOVE + 1);
        assert!(limiter.by_email_and_client.inner.len() <= PRUNE_ABOVE + 1);
    }
}
