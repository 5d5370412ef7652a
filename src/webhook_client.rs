//! Sending webhooks to integrators. Names are resolved by an injected resolver (the system's in
//! production, a fixed map in tests), and every address is checked against the destinations filter
//! twice: before connecting (the resolver hands reqwest only permitted addresses, and an address in
//! the URL itself is checked before the request is made) and after, against the address actually
//! connected to. No proxies, no redirects, bounded time and bounded reading.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::WebhookSettings;
use crate::domain::net::Destinations;
use crate::domain::webhooks::{Host, WebhookUrl, MAX_RESPONSE_BYTES, RESPONSE_EXCERPT_BYTES};
use crate::domain::Invalid;

/// How long a system lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves names for webhook deliveries and decides which addresses may be reached.
#[derive(Clone, Debug)]
pub struct Resolver {
    destinations: Destinations,
    /// `WEBHOOK_STATIC_HOSTS`: the only names known, and the only addresses reachable.
    statics: Option<Arc<HashMap<String, Vec<IpAddr>>>>,
}

impl Resolver {
    pub fn new(settings: &WebhookSettings) -> Self {
        Resolver {
            destinations: settings.destinations.clone(),
            statics: settings.static_hosts.clone().map(Arc::new),
        }
    }

    /// Whether a delivery may connect to `ip`.
    pub fn reachable(&self, ip: IpAddr) -> bool {
        self.destinations.permits(ip)
            && self
                .statics
                .as_ref()
                .is_none_or(|map| map.values().flatten().any(|known| *known == ip))
    }

    /// Every address `name` resolves to, unfiltered.
    async fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(map) = &self.statics {
            return map
                .get(&name)
                .cloned()
                .ok_or_else(|| format!("`{name}` is not a known host"));
        }
        let found =
            tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name.as_str(), 0)))
                .await
                .map_err(|_| format!("looking up `{name}` timed out"))?
                .map_err(|e| format!("`{name}` does not resolve: {e}"))?;
        let addrs: Vec<IpAddr> = found.map(|a| a.ip()).collect();
        if addrs.is_empty() {
            return Err(format!("`{name}` has no address"));
        }
        Ok(addrs)
    }

    /// Checks a new endpoint's URL: its host must resolve, and to permitted addresses only (a name
    /// with one private address among public ones is refused as a whole).
    pub async fn check(&self, url: &WebhookUrl) -> Result<(), Invalid> {
        let addrs = match url.host() {
            Host::Ip(ip) => vec![*ip],
            Host::Name(name) => self
                .lookup(name)
                .await
                .map_err(|e| Invalid::new("unresolvable_host", e))?,
        };
        match addrs.into_iter().find(|ip| !self.reachable(*ip)) {
            // Which address is not said: the API is no oracle for internal names.
            Some(_) => Err(Invalid::new(
                "forbidden_address",
                "points to a loopback, private, link-local or otherwise internal address; webhooks go to public addresses only",
            )),
            None => Ok(()),
        }
    }
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        Box::pin(async move {
            let all = this.lookup(name.as_str()).await?;
            let permitted: Vec<SocketAddr> = all
                .into_iter()
                .filter(|ip| this.reachable(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if permitted.is_empty() {
                return Err(format!("`{}` resolves to no permitted address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

/// What one delivery attempt saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub status: Option<u16>,
    pub latency_ms: i32,
    /// The first bytes of the answer, as text.
    pub excerpt: Option<String>,
    /// Why no answer counts (a refusal, a timeout, a connection error).
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn failed(started: Instant, error: String) -> Self {
        Attempt {
            status: None,
            latency_ms: elapsed_ms(started),
            excerpt: None,
            error: Some(error),
        }
    }
}

fn elapsed_ms(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// The HTTP client deliveries go through.
#[derive(Clone)]
pub struct WebhookClient {
    client: reqwest::Client,
    resolver: Resolver,
    allow_http: bool,
}

impl WebhookClient {
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Self> {
        let resolver = Resolver::new(settings);
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .dns_resolver(resolver.clone())
            .user_agent("CreateSpace-Webhooks/1.0")
            .build()?;
        Ok(WebhookClient {
            client,
            resolver,
            allow_http: settings.allow_http,
        })
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// POSTs `body` to `url` with `headers`; never fails, the outcome is in the [`Attempt`].
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Attempt {
        let started = Instant::now();
        let url = match WebhookUrl::parse(url, self.allow_http) {
            Ok(url) => url,
            Err(e) => return Attempt::failed(started, format!("URL refused: {}", e.message)),
        };
        if let Host::Ip(ip) = url.host() {
            if !self.resolver.reachable(*ip) {
                return Attempt::failed(started, format!("{ip} is not a permitted address"));
            }
        }
        let mut request = self
            .client
            .post(url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::failed(started, describe(&e)),
        };
        // DNS may have changed since the endpoint was checked; this is the address really used.
        match response.remote_addr() {
            Some(addr) if self.resolver.reachable(addr.ip()) => {}
            other => {
                return Attempt::failed(
                    started,
                    format!("connected to {other:?}, not a permitted address; answer not read"),
                )
            }
        }
        let status = response.status().as_u16();
        let mut read = Vec::new();
        let mut error = None;
        while read.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(format!("reading the answer failed: {}", describe(&e)));
                    break;
                }
            }
        }
        read.truncate(RESPONSE_EXCERPT_BYTES);
        Attempt {
            status: Some(status),
            latency_ms: elapsed_ms(started),
            // PostgreSQL text holds no NUL.
            excerpt: Some(String::from_utf8_lossy(&read).replace('\0', "\u{FFFD}")),
            error: error.filter(|_| !(200..300).contains(&status)),
        }
    }
}

/// A reqwest error without the URL (it is the owner's, and already on the delivery).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(statics: Option<&str>, allowed: &[&str]) -> WebhookSettings {
        let mut env: HashMap<&str, String> = HashMap::new();
        if let Some(s) = statics {
            env.insert("WEBHOOK_STATIC_HOSTS", s.into());
        }
        env.insert("WEBHOOK_ALLOWED_CIDRS", allowed.join(","));
        let settings = crate::config::Settings::from_lookup(&|k| {
            env.get(k).cloned().filter(|v| !v.is_empty())
        })
        .unwrap();
        settings.webhooks
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_without_connecting() {
        let resolver = Resolver::new(&settings(
            Some("localhost=127.0.0.1,meta.test=169.254.169.254,mixed.test=93.184.216.34,mixed.test=10.0.0.1,v6.test=::1"),
            &[],
        ));
        for host in ["localhost", "meta.test", "mixed.test", "v6.test"] {
            let url = WebhookUrl::parse(&format!("https://{host}/hook"), false).unwrap();
            assert_eq!(
                resolver.check(&url).await.unwrap_err().code,
                "forbidden_address",
                "{host}"
            );
        }
        for literal in [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "[::1]",
            "[fe80::1]",
            "[::ffff:127.0.0.1]",
            "10.1.2.3",
            "172.16.5.4",
            "192.168.0.1",
            "100.64.0.1",
            "169.254.169.254",
        ] {
            let url = WebhookUrl::parse(&format!("https://{literal}/hook"), false).unwrap();
            assert_eq!(
                resolver.check(&url).await.unwrap_err().code,
                "forbidden_address",
                "{literal}"
            );
        }
        // Names outside the map are unknown: the static resolver never asks the system.
        let outside = WebhookUrl::parse("https://example.com/hook", false).unwrap();
        assert_eq!(
            resolver.check(&outside).await.unwrap_err().code,
            "unresolvable_host"
        );
    }

    #[tokio::test]
    async fn the_reqwest_resolver_hands_out_permitted_addresses_only() {
        use reqwest::dns::Resolve;
        let resolver = Resolver::new(&settings(
            Some("hooks.test=127.0.0.1,meta.test=169.254.169.254"),
            &["127.0.0.0/8"],
        ));
        let addrs: Vec<SocketAddr> = resolver
            .resolve("hooks.test".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, vec!["127.0.0.1:0".parse().unwrap()]);
        assert!(resolver
            .resolve("meta.test".parse().unwrap())
            .await
            .is_err());
        assert!(resolver
            .resolve("example.com".parse().unwrap())
            .await
            .is_err());
        // With a static map, even a public literal is out of reach: tests touch this machine only.
        assert!(!resolver.reachable("93.184.216.34".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_refused_literal_address_is_never_connected_to() {
        let client = WebhookClient::new(&settings(Some("hooks.test=127.0.0.1"), &[])).unwrap();
        let attempt = client
            .post(
                "https://169.254.169.254/latest/meta-data",
                &[],
                b"{}".to_vec(),
            )
            .await;
        assert!(!attempt.succeeded());
        assert_eq!(attempt.status, None);
        assert!(attempt.error.unwrap().contains("not a permitted address"));
    }
}
