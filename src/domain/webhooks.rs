//! Webhook endpoints: which events an integrator may subscribe to, what a valid endpoint URL is,
//! and when a failing endpoint is given up on. Pure; the address filter is in [`super::net`].

use std::net::IpAddr;

use super::events::Event;
use super::Invalid;

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Event types one endpoint may name.
pub const MAX_EVENTS: usize = 64;
/// Endpoints one user may have.
pub const MAX_ENDPOINTS_PER_USER: i64 = 10;
/// The first bytes of a receiver's answer kept in the delivery log.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;
/// The most of a receiver's answer ever read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How long a rotated-out secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// The events a webhook may carry: every event but those bearing a secret (reset and verification
/// tokens go to their owner's mailbox only) and the endpoint's own disabling (it would be sent to
/// the endpoint that stopped answering).
pub fn deliverable() -> impl Iterator<Item = &'static str> {
    Event::NAMES
        .into_iter()
        .filter(|n| !Event::SECRET_BEARING.contains(n) && *n != "webhook_endpoint.disabled")
}

/// The events the live stream carries: every event but those bearing a secret.
pub fn streamed() -> Vec<&'static str> {
    Event::NAMES
        .into_iter()
        .filter(|n| !Event::SECRET_BEARING.contains(n))
        .collect()
}

/// Checks a subscription list: 1 to [`MAX_EVENTS`] known, deliverable types; duplicates dropped.
pub fn parse_events(raw: &[String]) -> Result<Vec<String>, Invalid> {
    if raw.is_empty() || raw.len() > MAX_EVENTS {
        return Err(Invalid::new(
            "out_of_range",
            format!("name 1 to {MAX_EVENTS} event types"),
        ));
    }
    let mut events: Vec<String> = Vec::with_capacity(raw.len());
    for name in raw {
        if !deliverable().any(|d| d == name) {
            return Err(Invalid::new(
                "unknown_event_type",
                format!(
                    "`{}` is not an event a webhook carries; one of: {}",
                    name.chars().take(64).collect::<String>(),
                    deliverable().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if !events.contains(name) {
            events.push(name.clone());
        }
    }
    Ok(events)
}

/// Where a URL points: a name still to resolve, or an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

/// An endpoint URL that is well formed, `https` (or `http` where allowed), and carries no
/// credentials. Whether its host may be reached is decided against the addresses it resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl {
    url: String,
    host: Host,
    port: u16,
}

impl WebhookUrl {
    pub fn parse(raw: &str, allow_http: bool) -> Result<WebhookUrl, Invalid> {
        if raw.len() > MAX_URL_LEN {
            return Err(Invalid::new(
                "too_long",
                format!("at most {MAX_URL_LEN} characters"),
            ));
        }
        let url = url::Url::parse(raw.trim())
            .map_err(|e| Invalid::new("invalid_url", format!("not an absolute URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if allow_http => {}
            _ => {
                return Err(Invalid::new(
                    "https_required",
                    "must be an https:// URL".to_string(),
                ))
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::new(
                "credentials_in_url",
                "must not carry a user name or password; authenticate deliveries by their signature",
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) => Host::Name(name.trim_end_matches('.').to_string()),
            Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
            None => return Err(Invalid::new("invalid_url", "must name a host")),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let mut url = url;
        url.set_fragment(None);
        Ok(WebhookUrl {
            url: url.into(),
            host,
            port,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_spellings_all_come_out_as_the_loopback_address() {
        for raw in [
            "https://127.0.0.1/hook",
            "https://127.1/hook",
            "https://2130706433/hook",
            "https://0x7f.1/hook",
            "https://0177.0.0.1/hook",
        ] {
            let url = WebhookUrl::parse(raw, false).unwrap();
            assert_eq!(url.host(), &Host::Ip("127.0.0.1".parse().unwrap()), "{raw}");
        }
        let v6 = WebhookUrl::parse("https://[::1]:8443/hook", false).unwrap();
        assert_eq!(v6.host(), &Host::Ip("::1".parse().unwrap()));
        assert_eq!(v6.port(), 8443);
    }

    #[test]
    fn plain_http_credentials_and_nonsense_are_refused() {
        let code = |raw: &str, http| WebhookUrl::parse(raw, http).unwrap_err().code;
        assert_eq!(code("http://hooks.example.com/", false), "https_required");
        assert!(WebhookUrl::parse("http://hooks.example.com/", true).is_ok());
        assert_eq!(code("ftp://hooks.example.com/", true), "https_required");
        assert_eq!(
            code("https://u:p@hooks.example.com/", false),
            "credentials_in_url"
        );
        assert_eq!(code("not a url", false), "invalid_url");
        assert_eq!(code("/relative", false), "invalid_url");
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_LEN));
        assert_eq!(code(&long, false), "too_long");
    }

    #[test]
    fn names_keep_their_case_folded_form_and_lose_the_fragment() {
        let url = WebhookUrl::parse("https://Hooks.Example.COM./in#frag", false).unwrap();
        assert_eq!(url.host(), &Host::Name("hooks.example.com".into()));
        assert_eq!(url.as_str(), "https://hooks.example.com./in");
    }

    #[test]
    fn subscriptions_name_known_deliverable_events_once() {
        let ok = parse_events(&["order.placed".into(), "order.placed".into()]).unwrap();
        assert_eq!(ok, vec!["order.placed".to_string()]);
        assert_eq!(parse_events(&[]).unwrap_err().code, "out_of_range");
        for refused in ["user.password_reset_requested", "order.nope"] {
            assert_eq!(
                parse_events(&[refused.into()]).unwrap_err().code,
                "unknown_event_type"
            );
        }
        assert!(!streamed().contains(&"user.email_verification_requested"));
        assert!(streamed().contains(&"message.posted"));
    }
}
