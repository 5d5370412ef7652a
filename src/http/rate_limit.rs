//! Throttling of credential attempts (logins, password-reset requests) per client IP and per email
//! (governor's GCRA, in memory). Per instance: with several instances behind a balancer each
//! enforces its own budget, which still bounds guessing and mail flooding.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::config::RateLimitSettings;

pub struct AttemptLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_email: DefaultKeyedRateLimiter<String>,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl AttemptLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        AttemptLimiter {
            by_ip: RateLimiter::keyed(quota(settings.login_per_ip_per_minute)),
            by_email: RateLimiter::keyed(quota(settings.login_per_email_per_minute)),
        }
    }

    /// Counts one attempt; 429 with the seconds to wait once either budget is spent.
    pub fn check(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        let clock = DefaultClock::default();
        let ip_result = match ip {
            Some(ip) => self.by_ip.check_key(&ip),
            None => Ok(()),
        };
        let result = ip_result.and_then(|_| self.by_email.check_key(&email.to_string()));
        // Bound memory: forget keys whose budget has fully recovered.
        if self.by_email.len() > 10_000 {
            self.by_email.retain_recent();
            self.by_ip.retain_recent();
        }
        result.map_err(|not_until| {
            let wait = not_until.wait_time_from(clock.now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_per_email() {
        let limiter = AttemptLimiter::new(&RateLimitSettings {
            login_per_ip_per_minute: 100,
            login_per_email_per_minute: 2,
        });
        let ip = Some("127.0.0.1".parse().unwrap());
        assert!(limiter.check(ip, "a@example.com").is_ok());
        assert!(limiter.check(ip, "a@example.com").is_ok());
        match limiter.check(ip, "a@example.com") {
            Err(ApiError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check(ip, "b@example.com").is_ok());
    }
}
